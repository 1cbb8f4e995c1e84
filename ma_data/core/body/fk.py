"""Batched forward kinematics on the fixed SMPL-24 skeleton, for numpy arrays and torch tensors.

``world_rot[0] = local[0]``, ``world_pos[0] = trans``;
``world_pos[i] = world_rot[parent] @ offset[i] + world_pos[parent]``;
``world_rot[i] = world_rot[parent] @ local[i]`` — the recursion EDGE's ``SMPLSkeleton`` runs with quaternions,
here with matrices (identical up to float rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ma_data.core.body.rotations import axis_angle_to_matrix, is_torch
from ma_data.core.body.skeleton import PARENTS, rest_offsets

Array = Any


def forward_kinematics(
    poses: Array,
    trans: Array,
    offsets: Array | None = None,
    parents: Sequence[int] = PARENTS,
    return_rotations: bool = False,
):
    """Joint positions from local joint rotations and the root translation.

    Args:
        poses: (..., J, 3) axis-angle or (..., J, 3, 3) rotation matrices (local, parent-relative).
        trans: (..., 3) root translation, same leading shape.
        offsets: (J, 3) parent-relative rest offsets; defaults to the SMPL-24 skeleton.
        parents: parent index per joint, -1 for the root, parents before children.
        return_rotations: also return the (..., J, 3, 3) world rotations.

    Returns:
        (..., J, 3) joint positions (same array kind and float dtype as ``poses``), and optionally the world
        rotations.
    """
    torch_mode = is_torch(poses)
    if torch_mode:
        import torch

        if not poses.is_floating_point():
            poses = poses.double()
        trans = torch.as_tensor(trans, dtype=poses.dtype, device=poses.device)
        off = torch.as_tensor(
            rest_offsets() if offsets is None else offsets, dtype=poses.dtype, device=poses.device
        )
        stack = torch.stack
    else:
        poses = np.asarray(poses)
        if not np.issubdtype(poses.dtype, np.floating):
            poses = poses.astype(np.float64)
        trans = np.asarray(trans, dtype=poses.dtype)
        off = np.asarray(rest_offsets() if offsets is None else offsets, dtype=poses.dtype)
        stack = np.stack

    is_matrix = poses.ndim >= 3 and tuple(poses.shape[-2:]) == (3, 3)
    local = poses if is_matrix else axis_angle_to_matrix(poses)
    n_joints = local.shape[-3]
    if n_joints != len(parents) or off.shape[0] != n_joints:
        raise ValueError(
            f"forward_kinematics: {n_joints} joint rotations but the skeleton has {len(parents)} parents "
            f"and {off.shape[0]} offsets"
        )
    if tuple(trans.shape) != tuple(local.shape[:-3]) + (3,):
        raise ValueError(
            f"forward_kinematics: trans shape {tuple(trans.shape)} does not match poses {tuple(poses.shape)}"
        )

    rots: list = [None] * n_joints
    pos: list = [None] * n_joints
    for j, p in enumerate(parents):
        if p < 0:
            rots[j] = local[..., j, :, :]
            pos[j] = trans
        else:
            pos[j] = (rots[p] @ off[j][:, None])[..., 0] + pos[p]
            rots[j] = rots[p] @ local[..., j, :, :]
    joints = stack(pos, -2)
    if return_rotations:
        return joints, stack(rots, -3)
    return joints
