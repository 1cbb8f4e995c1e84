"""The whole-frame render, kept as the reference the fast paths (:mod:`ma_data.render.paths`) are checked
and benchmarked against.

This is the renderer's design before the paths: per frame, the CPU-skinned mannequin (or SMPL mesh) goes
into a new pyrender primitive, pyrender renders and reads back the whole frame (colour and depth), and
the body is alpha-composited over the once-rendered floor in numpy. ``cpu-composite`` must give the same
bytes; ``gpu-scene`` the same picture within the tolerance its test states.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["reference_frames"]


def reference_frames(renderer, prep, with_depth: bool = False) -> Iterator:
    """Frames of ``prep`` by the whole-frame design (``renderer`` is a ``ClipRenderer``)."""
    import pyrender
    import trimesh

    from ma_data.render.renderer import mannequin_skin, mesh_detail, offscreen_renderer, smpl_model

    cfg = renderer.config
    r = offscreen_renderer(cfg.width, cfg.height)
    backdrop = r.render(renderer.scene(prep, floor=True))[0].astype(np.float32)
    scene = renderer.scene(prep, floor=False)

    def render_frame():
        rgba, depth = r.render(scene, flags=pyrender.RenderFlags.RGBA)
        alpha = rgba[..., 3:4].astype(np.float32) * (1.0 / 255.0)
        color = np.clip(rgba[..., :3] + backdrop * (1.0 - alpha) + 0.5, 0, 255).astype(np.uint8)
        return color, depth

    material = renderer.material()
    node = None
    if prep.transforms is not None:
        skin = mannequin_skin(mesh_detail(cfg))
        rots = np.stack([prep.transforms[name][:, :3, :3] for name in skin.part_names], 1)  # (T, P, 3, 3)
        offs = np.stack([prep.transforms[name][:, :3, 3] for name in skin.part_names], 1)
        for t in range(prep.n_frames):
            r_v = rots[t][skin.joint]
            pos = np.einsum("vij,vj->vi", r_v, skin.vertices) + offs[t][skin.joint]
            nrm = np.einsum("vij,vj->vi", r_v, skin.normals)
            prim = pyrender.Primitive(
                positions=pos.astype(np.float32),
                normals=nrm.astype(np.float32),
                indices=skin.faces,
                material=material,
                mode=pyrender.constants.GLTF.TRIANGLES,
            )
            if node is not None:
                scene.remove_node(node)
            node = scene.add(pyrender.Mesh([prim]))
            color, depth = render_frame()
            yield (color, depth.copy()) if with_depth else color
    else:
        faces = np.asarray(smpl_model(str(cfg.smpl_model_dir)).faces, dtype=np.int64)
        for t in range(prep.n_frames):
            if node is not None:
                scene.remove_node(node)
            tm = trimesh.Trimesh(prep.vertices[t], faces, process=False)
            node = scene.add(pyrender.Mesh.from_trimesh(tm, material=material, smooth=True))
            color, depth = render_frame()
            yield (color, depth.copy()) if with_depth else color
