"""Limb joint names shared by the skeletons of the toolkit: the ViTPose/COCO-25 keypoints
(:data:`ma_data.core.formats.keypoints.JOINT_NAMES`) and the official SMPL-24 names
(:data:`ma_data.core.body.skeleton.SMPL_JOINT_NAMES`) spell these joints alike."""

from __future__ import annotations

#: Shoulders, elbows and wrists, left before right.
ARM_JOINTS: tuple[str, ...] = (
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)

#: Hips, knees and ankles, left before right.
LEG_JOINTS: tuple[str, ...] = (
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

#: The twelve limb joints: arms, then legs.
LIMB_JOINTS: tuple[str, ...] = ARM_JOINTS + LEG_JOINTS
