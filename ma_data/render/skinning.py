"""Rigid skinning of the mannequin on the CPU, the per-frame bone matrices for the GPU, and part boxes.

The mannequin is one mesh whose every vertex belongs to one part, and each part follows one 4x4 transform
(:mod:`ma_data.render.mannequin`). ``cpu-composite`` transforms vertices and normals here in float64 per
frame; ``gpu-scene`` sends :func:`bone_matrices` to the skinning shader (:mod:`ma_data.render.shaders`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["bone_matrices", "part_corners", "skin_cpu"]


def skin_cpu(
    rots: np.ndarray, offs: np.ndarray, owner: np.ndarray, vertices: np.ndarray, normals: np.ndarray
):
    """World vertices and normals (float32) of one frame: ``rots`` (P, 3, 3), ``offs`` (P, 3) per part,
    ``owner`` (V,) each vertex's part. float64 arithmetic, as the renderer has always done it (it is ~1% of
    a frame; the rounding to float32 is what the GPU sees)."""
    r_v = rots[owner]
    pos = np.einsum("vij,vj->vi", r_v, vertices) + offs[owner]
    nrm = np.einsum("vij,vj->vi", r_v, normals)
    return pos.astype(np.float32), nrm.astype(np.float32)


def bone_matrices(transforms: dict[str, np.ndarray], part_names: tuple[str, ...]) -> np.ndarray:
    """(T, P, 4, 4) float32 part transforms in the skinned mesh's part order."""
    return np.stack([transforms[name] for name in part_names], axis=1).astype(np.float32)


def part_corners(vertices: np.ndarray, owner: np.ndarray, n_parts: int) -> np.ndarray:
    """(P, 8, 3) corners of each part's bounding box in the part's own frame.

    A part lies inside its box, so the screen rectangle around the projected corners of all boxes holds the
    whole body (perspective maps the box's convex hull onto the hull of the projected corners).
    """
    out = np.empty((n_parts, 8, 3))
    for k in range(n_parts):
        v = vertices[owner == k]
        lo, hi = v.min(axis=0), v.max(axis=0)
        out[k] = [
            [(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[m][2]] for i in (0, 1) for j in (0, 1) for m in (0, 1)
        ]
    return out
