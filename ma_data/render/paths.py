"""The two ways a clip's frames are drawn (``RenderConfig.render_path``), and how ``auto`` picks one.

Both draw the same scene (camera, lights, floor, body, 4x MSAA) with pyrender's shaders. The camera is fixed
for a clip, so the floor and sky are drawn once per clip; per frame only the pixels in a box around the body
are cleared, rasterised, resolved and read back, and the rest of the frame is the once-drawn backdrop.

``cpu-composite`` (Mesa llvmpipe): the body is skinned on the CPU, drawn alone over a transparent background
and alpha-composited over the backdrop in numpy. It never shades a floor pixel per frame, which is what costs
on a CPU rasteriser. Its frames are bit-identical to the renderer's earlier whole-frame version of the same
design (the box only skips pixels that cannot change; the arithmetic is the same).

``gpu-scene`` (a hardware GPU): the body is skinned in the vertex shader (the CPU sends 25 matrices a frame)
and depth-tested against the floor's saved MSAA colour and depth samples, so no composite runs on the CPU.
It differs from ``cpu-composite`` only where MSAA mixes body and floor inside a pixel (the composite blends
with the pixel's resolved floor colour, the scene with each sample's) and by float rounding of the skinning:
see tests/ma_data/render/test_render_paths.py for the measured bound.

``auto`` picks ``cpu-composite`` when the EGL context's ``GL_RENDERER`` names a software rasteriser
(:data:`ma_data.render.gl.SOFTWARE_RENDERER_MARKERS`) and ``gpu-scene`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import numpy as np

from ma_data.core.errors import ConfigError, check_choice
from ma_data.render.camera import Camera
from ma_data.render.config import RENDER_PATHS
from ma_data.render.gl import Box, GLInfo, GLTarget, body_box, offscreen_renderer
from ma_data.render.skinning import bone_matrices, part_corners, skin_cpu

__all__ = ["RENDER_PATHS", "gl_target", "render_frames", "resolve_render_path"]


def resolve_render_path(requested: str, info: GLInfo) -> str:
    """The concrete path for ``requested`` on a context described by ``info``."""
    if check_choice("render_path", requested, RENDER_PATHS) == "auto":
        return "cpu-composite" if info.software else "gpu-scene"
    return requested


@cache
def gl_target(width: int, height: int) -> GLTarget:
    """One :class:`GLTarget` per size and process, over the shared pyrender offscreen renderer."""
    return GLTarget(offscreen_renderer(width, height))


# -- bodies: what is drawn per frame, and where on screen it can be -------------------------------------------
class _Body:
    """A body mesh drawn as one pyrender primitive; subclasses say how a frame's pose reaches the GPU."""

    primitive = None

    def box(self, t: int, camera: Camera) -> Box:
        """Where frame ``t``'s body can be on screen (called first for each frame)."""
        raise NotImplementedError

    def pose(self, t: int, program) -> None:
        """Make frame ``t``'s pose current (vertex upload or bone uniforms; ``program`` is bound)."""
        raise NotImplementedError


def _upload(primitive, interleaved: np.ndarray) -> None:
    """Replace a primitive's vertex buffer contents (pyrender's interleaved float32 layout) in place."""
    from OpenGL import GL as gl

    data = np.ascontiguousarray(interleaved, dtype=np.float32)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, primitive._buffers[0])
    gl.glBufferSubData(gl.GL_ARRAY_BUFFER, 0, data.nbytes, data)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)


class _MannequinBody(_Body):
    """The mannequin, skinned on the CPU (vertices uploaded per frame) or by the GPU (bone uniforms)."""

    def __init__(self, skin, transforms: dict[str, np.ndarray], material, gpu: bool):
        import pyrender

        self.skin, self.gpu = skin, gpu
        self.rots = np.stack([transforms[n][:, :3, :3] for n in skin.part_names], 1)  # (T, P, 3, 3)
        self.offs = np.stack([transforms[n][:, :3, 3] for n in skin.part_names], 1)
        self._frame: tuple[int, np.ndarray] | None = None
        if gpu:
            self.corners = part_corners(skin.vertices, skin.joint, len(skin.part_names))
            self.bones = bone_matrices(transforms, skin.part_names)
            extra = {"texcoord_1": np.c_[skin.joint, np.zeros(len(skin.joint))].astype(np.float32)}
            pos, nrm = skin.vertices.astype(np.float32), skin.normals.astype(np.float32)
        else:
            extra = {}
            pos, nrm = self._skinned(0)
        self.primitive = pyrender.Primitive(
            positions=pos,
            normals=nrm,
            indices=skin.faces,
            material=material,
            mode=pyrender.constants.GLTF.TRIANGLES,
            **extra,
        )

    def _skinned(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.skin
        return skin_cpu(self.rots[t], self.offs[t], s.joint, s.vertices, s.normals)

    def box(self, t: int, camera: Camera) -> Box:
        if self.gpu:  # the parts' boxes: no vertex is transformed on the CPU
            world = np.einsum("pij,pkj->pki", self.rots[t], self.corners) + self.offs[t][:, None]
        else:  # the vertices are skinned here anyway: the tightest box
            pos, nrm = self._skinned(t)
            self._frame = (t, np.hstack([pos, nrm]))
            world = pos
        xy, _ = camera.project(world.reshape(-1, 3))
        return body_box(xy, camera.width, camera.height)

    def pose(self, t: int, program) -> None:
        if self.gpu:
            program.set_bones(self.bones[t])
            return
        if self._frame is None or self._frame[0] != t:
            pos, nrm = self._skinned(t)
            self._frame = (t, np.hstack([pos, nrm]))
        _upload(self.primitive, self._frame[1])


class _MeshBody(_Body):
    """Per-frame vertices computed elsewhere (the SMPL mesh); smooth normals as ``Mesh.from_trimesh``."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, material):
        import pyrender
        import trimesh

        self.vertices, self.faces = vertices, faces
        mesh = pyrender.Mesh.from_trimesh(
            trimesh.Trimesh(vertices[0], faces, process=False), material=material
        )
        self.primitive = mesh.primitives[0]

    def box(self, t: int, camera: Camera) -> Box:
        xy, _ = camera.project(self.vertices[t])
        return body_box(xy, camera.width, camera.height)

    def pose(self, t: int, program) -> None:
        import trimesh

        tm = trimesh.Trimesh(self.vertices[t], self.faces, process=False)
        pos = np.asarray(tm.vertices, dtype=np.float32)
        nrm = np.asarray(tm.vertex_normals, dtype=np.float32)
        _upload(self.primitive, np.hstack([pos, nrm]))


def make_body(prep, skin, faces, material, gpu: bool) -> _Body:
    """The body of a prepared clip: the mannequin (``skin`` given) or per-frame mesh vertices."""
    if prep.transforms is not None:
        return _MannequinBody(skin, prep.transforms, material, gpu)
    return _MeshBody(prep.vertices, faces, material)


# -- the frame loops ----------------------------------------------------------------------------------------
def _linear_depth(raw: np.ndarray, znear: float, zfar: float) -> np.ndarray:
    """Depth-buffer values -> metres along the view axis, 0 where nothing was drawn (pyrender's formula)."""
    inf = raw == 1.0
    d = 2.0 * raw - 1.0
    noninf = np.logical_not(inf)
    d[noninf] = (2.0 * znear * zfar) / (zfar + znear - d[noninf] * (zfar - znear))
    d[inf] = 0.0
    return d


def _composite(out: np.ndarray, rgba: np.ndarray, backdrop: np.ndarray) -> None:
    """``out`` (holding the backdrop) <- premultiplied ``rgba`` over ``backdrop`` (float32), in place.

    The formula is the whole-frame one, ``clip(rgb + backdrop * (1 - a / 255) + 0.5)`` in float32, and gives
    the same bytes; it only runs where it can change something. Where no MSAA sample hit the body, alpha and
    colour are 0 and the result is the backdrop, already in ``out``; where every sample did, alpha is 255,
    ``255 * float32(1/255)`` rounds to exactly 1 and the result is the body's colour.
    """
    a = rgba[..., 3]
    full = a == 255
    out[full] = rgba[..., :3][full]
    edge = (a != 0) & ~full
    px = rgba[edge]
    alpha = px[:, 3:4].astype(np.float32) * (1.0 / 255.0)
    out[edge] = np.clip(px[:, :3] + backdrop[edge] * (1.0 - alpha) + 0.5, 0, 255).astype(np.uint8)


class _Clip:
    """Per-clip GL state of one path on one target; re-created if another clip used the target meanwhile."""

    def __init__(
        self, target: GLTarget, backdrop_scene, body_scene, body: _Body, path: str, with_depth: bool
    ):
        self.target, self.backdrop_scene, self.body_scene = target, backdrop_scene, body_scene
        self.body, self.path, self.with_depth = body, path, with_depth
        self.backdrop: np.ndarray | None = None
        import pyrender

        body_scene.add(pyrender.Mesh([body.primitive]))

    def setup(self) -> None:
        """Draw the backdrop, then prime pyrender's program for the body (uniforms stay set per clip)."""
        tg = self.target
        full = tg.full_box()
        tg.pyrender_pass(self.backdrop_scene, rgba=False)
        if self.path == "gpu-scene":
            tg.save_backdrop()
        if self.backdrop is None:
            tg.resolve(full, depth=self.with_depth)
            self.backdrop = np.ascontiguousarray(tg.read(full, 3))
            self.backdrop_f32 = self.backdrop.astype(np.float32)
            self.backdrop_raw_depth = tg.read_depth(full).copy() if self.with_depth else None
        # uploads the body and sets every uniform of its program, which then draws each frame
        self.program = tg.pyrender_pass(self.body_scene, rgba=True, program_of=self.body.primitive)
        tg.owner = self

    def frame(self, t: int, camera: Camera):
        """Frame ``t``: the backdrop with the body's box redrawn; and the body's depth if asked."""
        tg = self.target
        if tg.owner is not self or not self.body.primitive._in_context():
            self.setup()
        box = self.body.box(t, camera)
        out = self.backdrop.copy()
        depth = np.zeros(out.shape[:2], np.float32) if self.with_depth else None
        if box.empty:
            return out, depth
        ys, xs = box.slices()
        tg.begin(box)
        try:
            if self.path == "gpu-scene":
                tg.restore_backdrop(box)
            else:
                tg.clear((0.0, 0.0, 0.0, 0.0))
            self.program._bind()
            self.body.pose(t, self.program)
            tg.draw(self.program, self.body.primitive)
            tg.resolve(box, depth=self.with_depth)
            if self.path == "gpu-scene":
                out[ys, xs] = tg.read(box, 3)
            else:
                _composite(out[ys, xs], tg.read(box, 4), self.backdrop_f32[ys, xs])
            if self.with_depth:
                raw = tg.read_depth(box)
                if self.path == "gpu-scene":  # the body is where the depth test replaced the floor's depth
                    raw = np.where(raw < self.backdrop_raw_depth[ys, xs], raw, np.float32(1.0))
                depth[ys, xs] = _linear_depth(raw, camera.znear, camera.zfar)
        finally:
            tg.end()
        return out, depth


def render_frames(
    target: GLTarget, path: str, backdrop_scene, body_scene, body: _Body, camera: Camera, n_frames: int,
    with_depth: bool = False,
) -> Iterator:  # fmt: skip
    """Yield ``n_frames`` (H, W, 3) uint8 frames (``(rgb, depth)`` pairs when ``with_depth``)."""
    if path not in RENDER_PATHS[1:]:
        raise ConfigError(f"unknown concrete render path {path!r}")
    clip = _Clip(target, backdrop_scene, body_scene, body, path, with_depth)
    for t in range(n_frames):
        rgb, depth = clip.frame(t, camera)
        yield (rgb, depth) if with_depth else rgb
