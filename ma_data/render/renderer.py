"""Render SMPL-24 motion clips offscreen with pyrender: the body, a checkered floor and two lights.

Usage::

    r = ClipRenderer(PRESETS["demo"])
    prep = r.prepare(poses, trans)           # camera, 3D/2D keypoints, floor: cheap, no GL
    for rgb in r.frames(prep): ...            # (H, W, 3) uint8, streamed (a clip never sits in memory)

The body is the built-in mannequin, or the SMPL mesh through ``smplx`` when ``config.body == "smpl"``.
Rendering is deterministic for a given config and motion (no random state, fixed scene order).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

import ma_data.render  # noqa: F401 - sets PYOPENGL_PLATFORM / np.infty before OpenGL is imported
from ma_data.core.body.fk import forward_kinematics
from ma_data.core.body.smpl_file import find_smpl_model, read_smpl_model
from ma_data.core.errors import FormatError, MissingWeightError
from ma_data.render.camera import Camera, front_camera
from ma_data.render.config import RenderConfig
from ma_data.render.gl import offscreen_renderer
from ma_data.render.mannequin import build_mannequin, part_transforms, sole_height
from ma_data.render.markers import coco25_from_markers, marker_positions
from ma_data.render.paths import gl_target, make_body, render_frames, resolve_render_path

__all__ = ["ClipRenderer", "PreparedClip", "offscreen_renderer"]


@dataclass
class PreparedClip:
    """Everything about a clip that is known before a pixel is drawn."""

    joints: np.ndarray  # (T, 24, 3) world joints (Y-up) of the rendered body
    keypoints3d: np.ndarray  # (T, 25, 3) ViTPose-25 points in the world
    keypoints2d: np.ndarray  # (T, 25, 3) (x, y, conf) pixels; conf 1 inside the frame, 0 outside
    joints2d: np.ndarray  # (T, 24, 2) SMPL joints projected (for the pose video)
    camera: Camera
    floor_y: float
    transforms: dict[str, np.ndarray] | None = None  # mannequin: part name -> (T, 4, 4)
    vertices: np.ndarray | None = None  # smpl: (T, V, 3)

    @property
    def n_frames(self) -> int:
        return int(self.joints.shape[0])


@lru_cache(maxsize=2)
def mannequin_parts(detail: int = 2):
    return build_mannequin(detail)


def mesh_detail(config: RenderConfig) -> int:
    """Mannequin tessellation for a frame size: coarser below 720 px height (invisible there, 4x cheaper)."""
    return 2 if config.height >= 720 else 1


@dataclass(frozen=True)
class _Skin:
    """The mannequin as one mesh: local vertices/normals and, per vertex, the index of its part."""

    vertices: np.ndarray  # (V, 3) in the owning part's joint frame
    normals: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3) uint32
    joint: np.ndarray  # (V,) index into part_names
    part_names: tuple[str, ...]


@lru_cache(maxsize=2)
def mannequin_skin(detail: int = 2) -> _Skin:
    parts = mannequin_parts(detail)
    verts, norms, faces, owner = [], [], [], []
    base = 0
    for k, part in enumerate(parts):
        m = part.mesh
        verts.append(np.asarray(m.vertices))
        norms.append(np.asarray(m.vertex_normals))
        faces.append(np.asarray(m.faces) + base)
        owner.append(np.full(len(m.vertices), k))
        base += len(m.vertices)
    return _Skin(
        vertices=np.concatenate(verts),
        normals=np.concatenate(norms),
        faces=np.concatenate(faces).astype(np.uint32),
        joint=np.concatenate(owner),
        part_names=tuple(p.name for p in parts),
    )


@lru_cache(maxsize=2)
def smpl_model(model_dir: str):
    path = Path(model_dir)
    if not path.is_dir():
        raise MissingWeightError(
            f"{path}: SMPL model folder not found; download SMPL from https://smpl.is.tue.mpg.de "
            "and pass the folder holding smpl/SMPL_NEUTRAL.pkl (or .npz) as --smpl-model-dir"
        )
    file = find_smpl_model(path)
    if file is None:
        raise MissingWeightError(
            f"{path}: no SMPL neutral model here; expected smpl/SMPL_NEUTRAL.pkl (or .npz) under this folder"
        )
    from smplx import SMPL
    from smplx.utils import Struct

    # smplx would pickle.load the file itself; it gets the arrays the restricted reader made instead.
    data = Struct(**read_smpl_model(file))
    try:
        return SMPL(str(file), data_struct=data, gender="neutral", batch_size=1)
    except Exception as exc:  # arrays of the wrong shape or dtype for smplx
        raise FormatError(f"{file}: not a usable SMPL model ({type(exc).__name__}: {exc})") from None


def _smpl_forward(model, poses: np.ndarray, trans: np.ndarray, chunk: int = 256):
    """SMPL vertices (T, V, 3), 24 joints (T, 24, 3) and face/feet markers for axis-angle poses."""
    import torch
    from smplx.vertex_ids import vertex_ids

    verts, joints = [], []
    with torch.no_grad():
        for s in range(0, len(poses), chunk):
            p = torch.as_tensor(poses[s : s + chunk], dtype=torch.float32).reshape(-1, 72)
            t = torch.as_tensor(trans[s : s + chunk], dtype=torch.float32)
            out = model(
                global_orient=p[:, :3],
                body_pose=p[:, 3:],
                transl=t,
                betas=torch.zeros(len(p), model.num_betas),
                return_verts=True,
            )
            verts.append(out.vertices.numpy().astype(np.float64))
            joints.append(out.joints[:, :24].numpy().astype(np.float64))
    v, j = np.concatenate(verts), np.concatenate(joints)
    ids = vertex_ids["smplh"]
    names = {
        "nose": "nose",
        "left_eye": "leye",
        "right_eye": "reye",
        "left_ear": "lear",
        "right_ear": "rear",
        "left_big_toe": "LBigToe",
        "left_small_toe": "LSmallToe",
        "left_heel": "LHeel",
        "right_big_toe": "RBigToe",
        "right_small_toe": "RSmallToe",
        "right_heel": "RHeel",
    }
    markers = {k: v[:, ids[src]] for k, src in names.items()}
    return v, j, markers, np.asarray(model.faces, dtype=np.int64)


@lru_cache(maxsize=4)
def _checker_texture(color_a: tuple, color_b: tuple, tiles: int):
    """A (tiles*8)^2 RGB checkerboard image, one 8x8 texel block per tile."""
    ca = (np.array(color_a) * 255).astype(np.uint8)
    cb = (np.array(color_b) * 255).astype(np.uint8)
    idx = np.arange(tiles * 8) // 8
    board = (idx[:, None] + idx[None, :]) % 2 == 0
    return np.where(board[..., None], ca, cb).astype(np.uint8)


def _floor_mesh(cfg: RenderConfig, centre_x: float, floor_y: float, z_near: float):
    """A checkered floor under the dancer, reaching to the camera: two triangles and a texture.

    (A quad per tile would cost ~2k triangles, which is most of a small frame's time in llvmpipe.)
    """
    import pyrender

    tile = cfg.floor_tile_m
    n = 32
    x0 = math.floor(centre_x / tile) * tile - n / 2 * tile
    z0 = math.floor(z_near / tile) * tile - (n - 2) * tile
    x1, z1 = x0 + n * tile, z0 + n * tile
    pos = np.array([[x0, floor_y, z0], [x1, floor_y, z0], [x1, floor_y, z1], [x0, floor_y, z1]], np.float32)
    # texture parity follows world tiles so the pattern does not shift between clips
    parity = (int(round(x0 / tile)) + int(round(z0 / tile))) % 2
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    tex = _checker_texture(
        tuple(cfg.floor_color_b if parity else cfg.floor_color_a),
        tuple(cfg.floor_color_a if parity else cfg.floor_color_b),
        n,
    )
    material = pyrender.MetallicRoughnessMaterial(
        baseColorTexture=pyrender.Texture(source=tex, source_channels="RGB"),
        metallicFactor=0.0,
        roughnessFactor=0.9,
    )
    prim = pyrender.Primitive(
        positions=pos,
        normals=np.tile(np.array([[0, 1, 0]], np.float32), (4, 1)),
        texcoord_0=uv,
        indices=np.array([[0, 2, 1], [0, 3, 2]], np.uint32),
        material=material,
        mode=pyrender.constants.GLTF.TRIANGLES,
    )
    return pyrender.Mesh([prim])


class ClipRenderer:
    """Renders clips with one config. Cheap to construct; the GL context is created on first use."""

    def __init__(self, config: RenderConfig):
        self.config = config
        if config.body == "smpl":
            smpl_model(str(config.smpl_model_dir))  # fail early with a clear message

    # -- geometry, no GL ----------------------------------------------------------------------------------
    def prepare(self, poses: np.ndarray, trans: np.ndarray) -> PreparedClip:
        """Pose the body over a clip ((T, 24, 3) axis-angle, (T, 3) metres, Y-up) and frame the camera."""
        cfg = self.config
        poses = np.asarray(poses, dtype=np.float64)
        trans = np.asarray(trans, dtype=np.float64)
        if poses.ndim != 3 or poses.shape[1:] != (24, 3) or trans.shape != (len(poses), 3) or not len(poses):
            raise FormatError(
                f"render: expected poses (T, 24, 3) and trans (T, 3), got {poses.shape}, {trans.shape}"
            )
        transforms = vertices = None
        if cfg.body == "mannequin":
            joints, rots = forward_kinematics(poses, trans, return_rotations=True)
            markers = marker_positions(joints, rots)
            transforms = {p.name: part_transforms(joints, rots, p.joint) for p in mannequin_parts(1)}
            floor_y = sole_height(joints, rots)
            extent = np.concatenate([joints.reshape(-1, 3), *[m for m in markers.values()]])
        else:
            vertices, joints, markers, _ = _smpl_forward(smpl_model(str(cfg.smpl_model_dir)), poses, trans)
            floor_y = float(vertices[..., 1].min())
            extent = vertices.reshape(-1, 3)[::7]
        kp3d = coco25_from_markers(joints, markers)
        extent = np.concatenate([extent, np.c_[extent[:, 0], np.full(len(extent), floor_y), extent[:, 2]]])
        cam = front_camera(extent, cfg.width, cfg.height, cfg.yfov_deg, cfg.margin_m, cfg.min_half_height_m)
        xy, depth = cam.project(kp3d)
        inside = (xy[..., 0] >= 0) & (xy[..., 0] < cfg.width) & (xy[..., 1] >= 0) & (xy[..., 1] < cfg.height)
        kp2d = np.concatenate([xy, (inside & (depth > 0)).astype(np.float64)[..., None]], axis=-1)
        j2d, _ = cam.project(joints)
        return PreparedClip(
            joints=joints,
            keypoints3d=kp3d,
            keypoints2d=kp2d.astype(np.float32),
            joints2d=j2d,
            camera=cam,
            floor_y=floor_y,
            transforms=transforms,
            vertices=vertices,
        )

    # -- pixels -----------------------------------------------------------------------------------------------
    def scene(self, prep: PreparedClip, floor: bool = True):
        import pyrender

        cfg = self.config
        # The body pass has a transparent background; it is composited over the floor pass.
        bg = (*cfg.background, 1.0) if floor else (0.0, 0.0, 0.0, 0.0)
        scene = pyrender.Scene(bg_color=bg, ambient_light=(0.35, 0.35, 0.38))
        cam_pose = np.asarray(prep.camera.pose)
        scene.add(
            pyrender.PerspectiveCamera(
                yfov=prep.camera.yfov,
                aspectRatio=cfg.width / cfg.height,
                znear=prep.camera.znear,
                zfar=prep.camera.zfar,
            ),
            pose=cam_pose,
        )
        # Key light from the camera, a fill light from above-left: shape reads without shadows.
        scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=2.5), pose=cam_pose)
        fill = np.eye(4)
        c, s = math.cos(math.radians(-55)), math.sin(math.radians(-55))
        fill[:3, :3] = np.array([[1, 0, 0], [0, c, -s], [0, s, c]]) @ np.array(
            [[math.cos(0.6), 0, math.sin(0.6)], [0, 1, 0], [-math.sin(0.6), 0, math.cos(0.6)]]
        )
        scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=1.5), pose=fill)
        if floor:
            scene.add(_floor_mesh(cfg, float(cam_pose[0, 3]), prep.floor_y, float(cam_pose[2, 3])))
        return scene

    def material(self):
        import pyrender

        return pyrender.MetallicRoughnessMaterial(
            baseColorFactor=(*self.config.body_color, 1.0), metallicFactor=0.0, roughnessFactor=0.6
        )

    def render_path(self) -> str:
        """The concrete render path this config resolves to on this process's EGL device."""
        cfg = self.config
        return resolve_render_path(cfg.render_path, gl_target(cfg.width, cfg.height).info)

    def frames(self, prep: PreparedClip, with_depth: bool = False) -> Iterator[np.ndarray]:
        """Yield the clip's frames as (H, W, 3) uint8 RGB (or ``(rgb, depth)`` pairs when ``with_depth``;
        depth is the body's, in metres along the view axis, 0 where the body is not).

        The camera is fixed for a clip and the floor lies below it, behind the dancer: the floor and sky are
        drawn once and per frame only a box around the body is redrawn (see :mod:`ma_data.render.paths` for
        the two ways, ``cpu-composite`` and ``gpu-scene``, and how ``render_path="auto"`` chooses).
        """
        cfg = self.config
        target = gl_target(cfg.width, cfg.height)
        path = resolve_render_path(cfg.render_path, target.info)
        skin = faces = None
        if prep.transforms is not None:
            # All parts form one mesh (one draw call; pyrender's per-primitive Python overhead dominated with
            # one node per part), skinned on the CPU or in the vertex shader.
            skin = mannequin_skin(mesh_detail(cfg))
        else:
            faces = np.asarray(smpl_model(str(cfg.smpl_model_dir)).faces, dtype=np.int64)
        body = make_body(prep, skin, faces, self.material(), gpu=path == "gpu-scene")
        yield from render_frames(
            target,
            path,
            self.scene(prep, floor=True),
            self.scene(prep, floor=False),
            body,
            prep.camera,
            prep.n_frames,
            with_depth=with_depth,
        )
