"""The Motion Expert's 151-d frame: 4 foot contacts + 3 root translation + 24 joints x 6D, Z-up.

Encoding follows the official data pipeline (MACE-Dance ``Expert-Motion`` data loading): Y-up SMPL-24 motion is turned
Z-up (+90 degrees about X on the root orientation and translation), joints come from FK on the fixed
skeleton, and a foot joint is "in contact" when it moves less than ``CONTACT_THRESHOLD`` metres to the next
frame (the last frame is always in contact, as in the release).
"""

from __future__ import annotations

import numpy as np
import torch

from ma_data.core.body.axes import convert_motion
from ma_data.core.body.fk import forward_kinematics
from ma_data.core.body.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_rotation_6d,
    rotation_6d_to_matrix,
)
from ma_data.core.errors import ConfigError
from ma_data.core.formats.motion import Motion

N_JOINTS = 24
CONTACT_JOINTS = (7, 8, 10, 11)  # L-ankle, R-ankle, L-toes, R-toes: the order of the 4 contact channels
CONTACT_THRESHOLD = 0.01  # metres per frame (0.3 m/s at 30 fps)
NFEATS = 4 + 3 + 6 * N_JOINTS  # 151
CONTACT = slice(0, 4)
ROOT_POS = slice(4, 7)
ROT6D = slice(7, NFEATS)
MODEL_UP_AXIS = "z"


def contact_labels(joints: np.ndarray, threshold: float = CONTACT_THRESHOLD) -> np.ndarray:
    """(T, 24, 3) joints -> (T, 4) {0, 1} contact flags for ``CONTACT_JOINTS``."""
    feet = joints[:, list(CONTACT_JOINTS)]
    speed = np.zeros(feet.shape[:2])
    speed[:-1] = np.linalg.norm(feet[1:] - feet[:-1], axis=-1)
    return (speed < threshold).astype(np.float32)


def encode_motion(motion: Motion) -> np.ndarray:
    """SMPL-24 motion (any up axis, 30 fps) -> (T, 151) float32 features in the Z-up model space."""
    if motion.poses is None:
        raise ConfigError(
            f"{motion.source or 'motion'}: the Motion Expert needs joint rotations, not joints only"
        )
    poses, trans = np.asarray(motion.poses, np.float64), np.asarray(motion.trans, np.float64)
    if motion.up_axis != MODEL_UP_AXIS:
        poses, trans = convert_motion(poses, trans, motion.up_axis, MODEL_UP_AXIS)
    joints = forward_kinematics(poses, trans)
    rot6d = matrix_to_rotation_6d(axis_angle_to_matrix(poses)).reshape(len(poses), -1)
    return np.concatenate([contact_labels(joints), trans, rot6d], axis=1).astype(np.float32)


def features_to_matrices(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 151 or 147) -> (root translation (..., 3), local rotation matrices (..., 24, 3, 3))."""
    body = x[..., 4:] if x.shape[-1] == NFEATS else x
    rot = rotation_6d_to_matrix(body[..., 3:].reshape(*body.shape[:-1], N_JOINTS, 6))
    return body[..., :3], rot


def fk_features(x: torch.Tensor) -> torch.Tensor:
    """(..., 151 or 147) features -> (..., 24, 3) joint positions by FK (differentiable)."""
    trans, rot = features_to_matrices(x)
    return forward_kinematics(rot, trans)


def decode_features(x: np.ndarray | torch.Tensor, fps: float = 30.0) -> tuple[Motion, np.ndarray]:
    """(T, 151) unnormalised features -> (Z-up ``Motion`` with FK joints stored, (T, 4) contacts)."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float64) if not torch.is_tensor(x) else x.double())
    trans, rot = features_to_matrices(x)
    poses = matrix_to_axis_angle(rot)
    joints = forward_kinematics(rot, trans)
    motion = Motion(
        poses=poses.numpy(),
        trans=trans.numpy(),
        fps=fps,
        up_axis=MODEL_UP_AXIS,
        stored_joints=joints.numpy(),
        source="motion-expert",
    )
    return motion, x[..., CONTACT].numpy()
