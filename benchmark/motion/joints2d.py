"""Joint rows of ViTPose-25 keypoint tracks as the 2D features read them.

The official feature code indexes easy_ViTPose ``coco_25`` rows with a *COCO-17-style* name list (COCO-17
order followed by head_top, neck and the feet), so its "hips" are rows 11/12 (right wrist / left hip), its
"shoulders" rows 5/6 (neck / left shoulder) and so on: :data:`OFFICIAL_JOINT_ROWS` reproduces that;
:data:`COCO25_JOINT_ROWS` names the rows those joints really occupy (``mace2d-strict``).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COCO25_JOINT_ROWS", "JOINT_MAPS", "OFFICIAL_JOINT_ROWS", "joint_rows"]

#: Rows the official feature code reads for each named joint.
OFFICIAL_JOINT_ROWS: dict[str, int] = {
    "nose": 0,
    "left_shoulder": 5,
    "right_shoulder": 6,
    "left_elbow": 7,
    "right_elbow": 8,
    "left_wrist": 9,
    "right_wrist": 10,
    "left_hip": 11,
    "right_hip": 12,
    "left_knee": 13,
    "right_knee": 14,
    "left_ankle": 15,
    "right_ankle": 16,
    "left_big_toe": 19,
    "right_big_toe": 22,
}

#: The rows those joints really occupy in easy_ViTPose ``coco_25`` order.
COCO25_JOINT_ROWS: dict[str, int] = {
    "nose": 0,
    "left_shoulder": 6,
    "right_shoulder": 7,
    "left_elbow": 8,
    "right_elbow": 9,
    "left_wrist": 10,
    "right_wrist": 11,
    "left_hip": 12,
    "right_hip": 13,
    "left_knee": 15,
    "right_knee": 16,
    "left_ankle": 17,
    "right_ankle": 18,
    "left_big_toe": 19,
    "right_big_toe": 22,
}

#: Joint maps by name (the values of :class:`benchmark.motion.protocols2d.JointMap`).
JOINT_MAPS: dict[str, dict[str, int]] = {"official": OFFICIAL_JOINT_ROWS, "coco25": COCO25_JOINT_ROWS}


def joint_rows(joint_map: str | Mapping[str, int]) -> Mapping[str, int]:
    """The row of each named joint for a joint-map name (``"official"``, ``"coco25"``, or the
    :class:`~benchmark.motion.protocols2d.JointMap` member) or an explicit mapping."""
    if isinstance(joint_map, str):  # a JointMap member is a str too
        key = getattr(joint_map, "value", joint_map)
        try:
            return JOINT_MAPS[key]
        except KeyError:
            raise ValueError(f"unknown joint_map {joint_map!r}; use one of {sorted(JOINT_MAPS)}") from None
    return joint_map
