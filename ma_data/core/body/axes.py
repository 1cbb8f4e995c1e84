"""Y-up <-> Z-up conversions, as EDGE / MACE-Dance do them.

EDGE turns Y-up data (AIST++, FineDance) into its Z-up model space with a +90 degree rotation about X:
points map (x, y, z) -> (x, -z, y), and the root orientation is pre-multiplied by the same rotation. Because
the whole body hangs off the root, FK of the converted pose equals the converted FK joints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ma_data.core.body.rotations import axis_angle_to_matrix, is_torch, matrix_to_axis_angle
from ma_data.core.errors import check_choice

Array = Any

#: +90 degrees about X: the Y-up -> Z-up rotation (column-vector convention).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: Its inverse, -90 degrees about X: Z-up -> Y-up, (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = Y_UP_TO_Z_UP.T.copy()

UP_AXES = ("y", "z")


def _rotation(src: str, dst: str) -> np.ndarray:
    for a in (src, dst):
        check_choice("up axis", a, UP_AXES)
    if src == dst:
        return np.eye(3)
    return Y_UP_TO_Z_UP if (src, dst) == ("y", "z") else Z_UP_TO_Y_UP


def _as_like(m: np.ndarray, like: Array):
    if is_torch(like):
        import torch

        return torch.as_tensor(m, dtype=like.dtype, device=like.device)
    return m.astype(
        np.asarray(like).dtype if np.issubdtype(np.asarray(like).dtype, np.floating) else np.float64
    )


def convert_points(points: Array, src: str, dst: str) -> Array:
    """Rotate (..., 3) points from the ``src`` up-axis convention to ``dst`` ("y" or "z")."""
    r = _as_like(_rotation(src, dst), points)
    return points @ r.T


def y_up_to_z_up(points: Array) -> Array:
    """(x, y, z) -> (x, -z, y)."""
    return convert_points(points, "y", "z")


def z_up_to_y_up(points: Array) -> Array:
    """(x, y, z) -> (x, z, -y)."""
    return convert_points(points, "z", "y")


def convert_root_orient(root_aa: Array, src: str, dst: str) -> Array:
    """Pre-multiply (..., 3) root axis-angle orientations by the up-axis change rotation."""
    if src == dst:
        return root_aa
    r = _as_like(_rotation(src, dst), root_aa)
    return matrix_to_axis_angle(r @ axis_angle_to_matrix(root_aa))


def convert_motion(poses: Array, trans: Array, src: str, dst: str) -> tuple[Array, Array]:
    """Convert (..., 24, 3) axis-angle poses and (..., 3) translations between up-axis conventions.

    Only the root rotation and the translation change; local joint rotations are frame independent.
    """
    if src == dst:
        return poses, trans
    root = convert_root_orient(poses[..., 0, :], src, dst)
    if is_torch(poses):
        import torch

        out = torch.cat([root[..., None, :].to(poses.dtype), poses[..., 1:, :]], dim=-2)
    else:
        out = np.concatenate([root[..., None, :].astype(poses.dtype), poses[..., 1:, :]], axis=-2)
    return out, convert_points(trans, src, dst)
