"""The SMPL-24 skeleton used by EDGE, FineDance and MACE-Dance's Motion Expert.

A fixed rest skeleton: 24 joint offsets (metres, expressed in the Y-up SMPL rest frame, each relative to its
parent) and the standard SMPL kinematic tree. The numbers are the public SMPL template values that also appear
in EDGE's and FineDance's ``vis.py``.
"""

from __future__ import annotations

import numpy as np

from ma_data.core.joint_names import ARM_JOINTS

NUM_JOINTS = 24

#: EDGE / FineDance short names, in SMPL order.
JOINT_NAMES: tuple[str, ...] = (
    "root",
    "lhip",
    "rhip",
    "belly",
    "lknee",
    "rknee",
    "spine",
    "lankle",
    "rankle",
    "chest",
    "ltoes",
    "rtoes",
    "neck",
    "linshoulder",
    "rinshoulder",
    "head",
    "lshoulder",
    "rshoulder",
    "lelbow",
    "relbow",
    "lwrist",
    "rwrist",
    "lhand",
    "rhand",
)

#: The official SMPL names for the same joints (handy when talking to smplx / AIST++ code).
SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    *ARM_JOINTS,
    "left_hand",
    "right_hand",
)

#: Parent of each joint (-1 for the root). Parents always precede children, so FK can run in index order.
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

_OFFSETS = (
    (0.0, 0.0, 0.0),
    (0.05858135, -0.08228004, -0.01766408),
    (-0.06030973, -0.09051332, -0.01354254),
    (0.00443945, 0.12440352, -0.03838522),
    (0.04345142, -0.38646945, 0.008037),
    (-0.04325663, -0.38368791, -0.00484304),
    (0.00448844, 0.1379564, 0.02682033),
    (-0.01479032, -0.42687458, -0.037428),
    (0.01905555, -0.4200455, -0.03456167),
    (-0.00226458, 0.05603239, 0.00285505),
    (0.04105436, -0.06028581, 0.12204243),
    (-0.03483987, -0.06210566, 0.13032329),
    (-0.0133902, 0.21163553, -0.03346758),
    (0.07170245, 0.11399969, -0.01889817),
    (-0.08295366, 0.11247234, -0.02370739),
    (0.01011321, 0.08893734, 0.05040987),
    (0.12292141, 0.04520509, -0.019046),
    (-0.11322832, 0.04685326, -0.00847207),
    (0.2553319, -0.01564902, -0.02294649),
    (-0.26012748, -0.01436928, -0.03126873),
    (0.26570925, 0.01269811, -0.00737473),
    (-0.26910836, 0.00679372, -0.00602676),
    (0.08669055, -0.01063603, -0.01559429),
    (-0.0887537, -0.00865157, -0.01010708),
)


def rest_offsets() -> np.ndarray:
    """A fresh (24, 3) float64 copy of the rest offsets (parent-relative, metres, Y-up)."""
    return np.array(_OFFSETS, dtype=np.float64)


def rest_joints() -> np.ndarray:
    """(24, 3) rest-pose joint positions, root at the origin: offsets summed along each chain."""
    off = rest_offsets()
    out = np.zeros_like(off)
    for j in range(1, NUM_JOINTS):
        out[j] = out[PARENTS[j]] + off[j]
    return out


def joint_index(name: str) -> int:
    """Index of a joint given its EDGE short name or its SMPL name."""
    if name in JOINT_NAMES:
        return JOINT_NAMES.index(name)
    if name in SMPL_JOINT_NAMES:
        return SMPL_JOINT_NAMES.index(name)
    raise KeyError(f"unknown SMPL joint name {name!r}")


#: Foot joints (left ankle, left toe, right ankle, right toe) as used by EDGE's PFC and the contact labels.
FOOT_JOINTS = (7, 10, 8, 11)
