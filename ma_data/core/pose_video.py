"""Pose videos in the style of the official ``tools/motion_to_pose_video.py`` (Wan-Animate ``draw_aapose``).

The Appearance Expert is driven by a black video with an OpenPose-18 skeleton plus feet and hands. This module
draws that video from SMPL-24 joints already projected to pixels (:func:`draw_pose_frames`, used for rendered
MA-Data clips so the skeleton lies exactly on the render), or from a Z-up 3D motion with the official
orthographic front projection and canvas fit (:func:`motion_to_pose_frames`, for Motion Expert output).

Conventions reproduced from the official tool (MACE-Dance's pose-video script):

* OpenPose-18 from SMPL: 1 neck = midpoint of the shoulders; 2-4 right arm (17, 19, 21); 5-7 left arm
  (16, 18, 20); 8-10 right leg (2, 5, 8); 11-13 left leg (1, 4, 7); nose/eyes/ears synthesised from the 2D head
  joint (15), the shoulder width and the neck->head / right->left-shoulder directions (head scale 1.8, width
  and height multipliers 1.65 and 1.15).
* 17 limbs as filled ellipses (half-width 4 px at 720 px width), the 18-colour OpenPose palette (RGB), feet as
  two extra limbs ankle->toe coloured (255, 0, 85) left and (185, 255, 0) right; the limb layer is multiplied
  by 0.6; joints are filled circles of radius 4 in full colour.
* Hands: with no reference image, a synthetic fan of 5 fingers (angles -30, -14, 0, 14, 30 deg, lengths
  0.70/0.88/0.96/0.86/0.70 x 0.55 x forearm, 4 joints each) along the wrist->hand direction; 20 hand bones in
  HSV-rainbow colours, width 2; hand joints blue, radius 4; hands are not dimmed.

Line widths and radii scale with ``min(W, H) / 720`` so small (demo) videos keep the proportions.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator

import cv2
import numpy as np

__all__ = [
    "FOOT_COLORS",
    "LIMB_PAIRS",
    "OPENPOSE18_NAMES",
    "OPENPOSE_COLORS",
    "canvas_fit",
    "draw_pose_frame",
    "draw_pose_frames",
    "motion_to_pose_frames",
    "smpl_to_openpose18",
    "synthetic_hands",
]

OPENPOSE18_NAMES = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)  # fmt: skip

#: OpenPose limb pairs (0-based), limb i drawn in colour i.
LIMB_PAIRS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip

OPENPOSE_COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip

#: Left and right foot limb colours (ankle -> toe).
FOOT_COLORS = ((255, 0, 85), (185, 255, 0))

_SMPL_OP = {2: 17, 3: 19, 4: 21, 5: 16, 6: 18, 7: 20, 8: 2, 9: 5, 10: 8, 11: 1, 12: 4, 13: 7}
_HAND_EDGES = tuple((0 if k % 4 == 0 else k, k + 1) for k in range(20))  # wrist->finger base, then chains
_FINGER_ANGLES = (-30.0, -14.0, 0.0, 14.0, 30.0)
_FINGER_LENGTHS = (0.70, 0.88, 0.96, 0.86, 0.70)
_HEAD_SCALE, _HEAD_W, _HEAD_H = 1.8, 1.65, 1.15


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-9, n, 1.0)


def smpl_to_openpose18(j2d: np.ndarray) -> np.ndarray:
    """(T, 24, 2) projected SMPL joints -> (T, 18, 2) OpenPose-18 with the synthesised face."""
    j2d = np.asarray(j2d, dtype=np.float64)
    out = np.zeros(j2d.shape[:-2] + (18, 2))
    for op, smpl in _SMPL_OP.items():
        out[..., op, :] = j2d[..., smpl, :]
    l_sh, r_sh = j2d[..., 16, :], j2d[..., 17, :]
    neck = (l_sh + r_sh) / 2.0
    out[..., 1, :] = neck
    head = j2d[..., 15, :]
    sw = np.linalg.norm(l_sh - r_sh, axis=-1, keepdims=True)
    d_h = _unit(head - neck)
    d_s = _unit(l_sh - r_sh)
    hs = _HEAD_SCALE
    nose = head + 0.10 * sw * (hs * _HEAD_H) * d_h
    side = 0.055 * sw * (hs * _HEAD_W) * d_s
    up = 0.018 * sw * (hs * _HEAD_H) * d_h
    ear = 0.095 * sw * (hs * _HEAD_W) * d_s
    out[..., 0, :] = nose
    out[..., 14, :] = nose - side + up  # right eye (towards the right shoulder)
    out[..., 15, :] = nose + side + up
    out[..., 16, :] = nose - ear
    out[..., 17, :] = nose + ear
    return out


def synthetic_hands(j2d: np.ndarray) -> np.ndarray:
    """(T, 24, 2) projected SMPL joints -> (T, 2, 21, 2) fan hands (left, right), OpenPose hand order."""
    j2d = np.asarray(j2d, dtype=np.float64)
    hands = np.zeros(j2d.shape[:-2] + (2, 21, 2))
    for h, (elbow, wrist, tip, sign) in enumerate(((18, 20, 22, 1.0), (19, 21, 23, -1.0))):
        w = j2d[..., wrist, :]
        forearm = np.linalg.norm(w - j2d[..., elbow, :], axis=-1)
        d = _unit(j2d[..., tip, :] - w)
        hands[..., h, 0, :] = w
        for f, (ang, ln) in enumerate(zip(_FINGER_ANGLES, _FINGER_LENGTHS, strict=True)):
            a = math.radians(ang) * sign
            rot = np.stack([d[..., 0] * math.cos(a) - d[..., 1] * math.sin(a),
                            d[..., 0] * math.sin(a) + d[..., 1] * math.cos(a)], axis=-1)  # fmt: skip
            length = ln * 0.55 * forearm
            for k in range(4):
                hands[..., h, 1 + 4 * f + k, :] = w + rot * (length * (k + 1) / 4.0)[..., None]
    return hands


def _ellipse_limb(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, half_width: int, color) -> None:
    mx, my = (a + b) / 2.0
    length = float(np.hypot(*(a - b)))
    angle = math.degrees(math.atan2(a[1] - b[1], a[0] - b[0]))
    poly = cv2.ellipse2Poly(
        (int(round(mx)), int(round(my))), (int(length / 2), half_width), int(angle), 0, 360, 1
    )
    cv2.fillConvexPoly(canvas, poly, color)


def draw_pose_frame(
    op18: np.ndarray,
    feet: np.ndarray,
    hands: np.ndarray | None,
    width: int,
    height: int,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Draw one frame: op18 (18, 2), feet (2, 2, 2) [(ankle, toe) left, right], hands (2, 21, 2) or None."""
    scale = min(width, height) / 720.0
    stick = max(1, int(round(4 * scale)))
    radius = max(1, int(round(4 * scale)))
    hand_w = max(1, int(round(2 * scale)))
    valid = np.ones(18, bool) if valid is None else np.asarray(valid, bool)
    limbs = np.zeros((height, width, 3), np.uint8)
    for i, (a, b) in enumerate(LIMB_PAIRS):
        if valid[a] and valid[b]:
            _ellipse_limb(limbs, op18[a], op18[b], stick, OPENPOSE_COLORS[i])
    for (ankle, toe), color in zip(feet, FOOT_COLORS, strict=True):
        _ellipse_limb(limbs, ankle, toe, stick, color)
    canvas = (limbs.astype(np.float32) * 0.6).astype(np.uint8)  # the dimmed limb layer
    for k in range(18):
        if valid[k]:
            cv2.circle(canvas, _pt(op18[k]), radius, OPENPOSE_COLORS[k], thickness=-1)
    for (_, toe), color in zip(feet, FOOT_COLORS, strict=True):
        cv2.circle(canvas, _pt(toe), radius, color, thickness=-1)
    if hands is not None:
        for hand in hands:
            for e, (a, b) in enumerate(_HAND_EDGES):
                rgb = colorsys.hsv_to_rgb(e / 20.0, 1.0, 1.0)
                cv2.line(canvas, _pt(hand[a]), _pt(hand[b]), tuple(int(c * 255) for c in rgb), hand_w)
            for p in hand:
                cv2.circle(canvas, _pt(p), radius, (0, 0, 255), thickness=-1)
    return canvas


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def draw_pose_frames(j2d: np.ndarray, width: int, height: int, hands: bool = True) -> Iterator[np.ndarray]:
    """Yield (H, W, 3) uint8 RGB pose frames from (T, 24, 2) projected SMPL joints (pixels)."""
    op = smpl_to_openpose18(j2d)
    feet = np.stack([np.stack([j2d[:, 7], j2d[:, 10]], 1), np.stack([j2d[:, 8], j2d[:, 11]], 1)], 1)
    hs = synthetic_hands(j2d) if hands else None
    for t in range(len(op)):
        yield draw_pose_frame(op[t], feet[t], None if hs is None else hs[t], width, height)


def canvas_fit(joints_zup: np.ndarray, width: int = 720, height: int = 1280) -> np.ndarray:
    """The official orthographic front view and canvas fit: (T, 24, 3) Z-up joints -> (T, 24, 2) pixels.

    u = x, v = -z; one uniform scale ``s = min(0.72 W / span_x, 0.86 H / span_v)`` over all joints of all
    frames; the bounding-box centre goes to (0.5 W, 0.56 H). Root translation is kept.
    """
    j = np.asarray(joints_zup, dtype=np.float64)
    uv = np.stack([j[..., 0], -j[..., 2]], axis=-1)
    lo, hi = uv.reshape(-1, 2).min(0), uv.reshape(-1, 2).max(0)
    span = np.maximum(hi - lo, 1e-6)
    s = min(0.72 * width / span[0], 0.86 * height / span[1])
    centre = (lo + hi) / 2.0
    return (uv - centre) * s + np.array([0.5 * width, 0.56 * height])


def motion_to_pose_frames(
    joints_zup: np.ndarray, width: int = 720, height: int = 1280, n_frames: int | None = None
) -> Iterator[np.ndarray]:
    """Pose frames for a Z-up motion (e.g. Motion Expert ``full_pose``), as the official tool draws them.

    ``n_frames`` keeps the first frames only (the official default is 80, with no temporal resampling).
    """
    j = np.asarray(joints_zup)[:n_frames]
    yield from draw_pose_frames(canvas_fit(j, width, height), width, height)
