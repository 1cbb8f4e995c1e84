"""Surface markers rigidly attached to SMPL-24 joints, and the ViTPose-25 keypoints built from them.

Face and foot keypoints have no SMPL-24 joint, so they are defined as fixed points in a joint's local frame
(metres, the Y-up rest frame: +X the body's left, +Y up, +Z forward). The built-in mannequin's head and feet
are shaped around the same points, so projected keypoints always fall on the rendered body. ``neck`` is the
midpoint of the shoulders and ``hip`` the midpoint of the hips (the OpenPose / official pose-video convention).
"""

from __future__ import annotations

import numpy as np

from ma_data.core.body.skeleton import rest_offsets

_OFF = rest_offsets()

#: Centre and radius of the mannequin's head sphere, in the head joint's (15) frame.
HEAD_CENTRE = np.array([0.0, 0.09, 0.01])
HEAD_RADIUS = 0.11


def _foot(side: str) -> dict[str, tuple[int, np.ndarray]]:
    ankle, toe = (7, 10) if side == "left" else (8, 11)
    medial = -1.0 if side == "left" else 1.0  # the big toe is on the inner side (towards the body's centre)
    t = _OFF[toe]
    return {
        f"{side}_big_toe": (ankle, t + np.array([0.012 * medial, -0.012, 0.05])),
        f"{side}_small_toe": (ankle, t + np.array([-0.022 * medial, -0.012, 0.025])),
        f"{side}_heel": (ankle, np.array([0.0, -0.065, -0.05])),
    }


#: name -> (joint index, offset in that joint's frame)
MARKERS: dict[str, tuple[int, np.ndarray]] = {
    "nose": (15, np.array([0.0, 0.085, 0.105])),
    "left_eye": (15, np.array([0.035, 0.115, 0.085])),
    "right_eye": (15, np.array([-0.035, 0.115, 0.085])),
    "left_ear": (15, np.array([0.095, 0.095, 0.0])),
    "right_ear": (15, np.array([-0.095, 0.095, 0.0])),
    **_foot("left"),
    **_foot("right"),
}

#: ViTPose-25 (coco_25) rows as ("joint", j) | ("marker", name) | ("mid", (a, b)).
COCO25_SOURCES: tuple[tuple[str, object], ...] = (
    ("marker", "nose"),
    ("marker", "left_eye"),
    ("marker", "right_eye"),
    ("marker", "left_ear"),
    ("marker", "right_ear"),
    ("mid", (16, 17)),  # neck
    ("joint", 16),  # left_shoulder
    ("joint", 17),
    ("joint", 18),  # left_elbow
    ("joint", 19),
    ("joint", 20),  # left_wrist
    ("joint", 21),
    ("joint", 1),  # left_hip
    ("joint", 2),
    ("mid", (1, 2)),  # hip
    ("joint", 4),  # left_knee
    ("joint", 5),
    ("joint", 7),  # left_ankle
    ("joint", 8),
    ("marker", "left_big_toe"),
    ("marker", "left_small_toe"),
    ("marker", "left_heel"),
    ("marker", "right_big_toe"),
    ("marker", "right_small_toe"),
    ("marker", "right_heel"),
)


def marker_positions(joints: np.ndarray, world_rots: np.ndarray) -> dict[str, np.ndarray]:
    """World positions (T, 3) of every marker from FK joints (T, 24, 3) and world rotations (T, 24, 3, 3)."""
    return {
        name: joints[:, j] + np.einsum("tij,j->ti", world_rots[:, j], off)
        for name, (j, off) in MARKERS.items()
    }


def coco25_from_markers(joints: np.ndarray, markers: dict[str, np.ndarray]) -> np.ndarray:
    """(T, 25, 3) world points in ViTPose-25 order from joints (T, 24, 3) and :func:`marker_positions`."""
    cols = []
    for kind, src in COCO25_SOURCES:
        if kind == "joint":
            cols.append(joints[:, src])
        elif kind == "mid":
            a, b = src
            cols.append((joints[:, a] + joints[:, b]) / 2.0)
        else:
            cols.append(markers[src])
    return np.stack(cols, axis=1)
