"""Kinetic and geometric features of 2D keypoint tracks, as the official MACE-Dance 2D metric computes them.

Floating-point types follow the official code step by step (the official requirements pin numpy 1.26, whose
scalar promotion differs from numpy 2; we spell the 1.26 types out explicitly):

- kinetic features: float64 throughout (the JSON is read as float64), cast to float32 at the end;
- geometric features: joint positions float32, thresholds float64, angle tests on float32 unit vectors with a
  float64 ``arccos``; each feature is ``float32(count) / float32(T - 1)``.

Keypoint arrays are consumed as given: with the official JSON that is rows in easy_ViTPose ``coco_25`` order
and channels ``(y, x, conf)`` (see :mod:`ma_data.core.formats.keypoints`); which rows are read is the joint
map (:mod:`benchmark.motion.joints2d`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from benchmark.motion.joints2d import joint_rows
from ma_data.core.joint_names import LIMB_JOINTS

__all__ = [
    "GEOMETRIC_ZERO_COLUMNS",
    "N_GEOMETRIC",
    "N_KINETIC",
    "compute_features",
    "geometric_features",
    "kinetic_features",
]

#: Geometric columns the official 2D adaptation stubs to 0 (all plane / normal-plane predicates).
GEOMETRIC_ZERO_COLUMNS: tuple[int, ...] = (2, 3, 8, 14, 15, 16, 17, 18, 27, 29, 30)

N_KINETIC = 75
N_GEOMETRIC = 32


def _check_batch(kp: np.ndarray, name: str) -> np.ndarray:
    kp = np.asarray(kp)
    if kp.ndim != 4 or kp.shape[2] != 25 or kp.shape[3] < 2:
        raise ValueError(f"{name}: expected keypoints of shape (B, T, 25, 3), got {kp.shape}")
    return kp


# ----------------------------------------------------------------------------------------------------------
# Kinetic features (75 = 25 joints x [mean vx^2, mean vy^2, mean |a|])
# ----------------------------------------------------------------------------------------------------------


def _box_smooth(v: np.ndarray, half: int, out: np.ndarray | None = None) -> np.ndarray:
    """Zero-padded centred moving average along axis 1 (``np.convolve(x, ones(2h+1)/(2h+1), 'same')``).

    Taps are accumulated left to right (t-h ... t+h) and the sum is scaled once; the reference scales each
    tap first, which differs in the last float64 bit only and never reaches the float32 features. ``out``
    (same shape, not ``v``) is overwritten when given, to avoid allocations on large batches.
    """
    if half == 0:
        return v
    width = 2 * half + 1
    t = v.shape[1]
    if out is None:
        out = np.zeros_like(v)
    else:
        out.fill(0.0)
    for d in range(-half, half + 1):
        if d < 0:
            out[:, -d:] += v[:, : t + d]
        elif d == 0:
            out += v
        else:
            out[:, : t - d] += v[:, d:]
    out *= np.ones(width)[0] / width  # the reference kernel value, e.g. 0.2 for a 5-tap window
    return out


def kinetic_features(
    kp: np.ndarray,
    frame_time: float = 1 / 30.0,
    sliding_window: int = 2,
    joint_map: str | Mapping[str, int] = "official",
) -> np.ndarray:
    """Kinetic features of a batch of 2D tracks: (B, T, 25, >=2) -> (B, 75) float32.

    Equal to the official ``features/kinetic_2d.kinetic_features`` on the same array (channels 0 and 1 are
    taken as its "x" and "y"; with official JSON that is image row then column):

    - positions relative to the midpoint of the two "hip" rows, per frame (float64);
    - velocity = forward difference / ``frame_time``, the first frame a copy of the second;
    - zero-padded centred box filter of half-width ``sliding_window``;
    - per joint: mean squared channel-0 velocity, mean squared channel-1 velocity, and the mean norm of the
      smoothed acceleration (forward difference of the smoothed velocity / ``frame_time``, first frame
      copied, smoothed again).

    ``joint_map="official"`` reads the rows the official code reads; ``"coco25"`` the real hips.
    """
    kp = _check_batch(kp, "kinetic_features")
    rows = joint_rows(joint_map)
    b, t = kp.shape[:2]
    if t < 2:
        raise ValueError(f"kinetic_features: need at least 2 frames, got {t}")
    # Two (B, T, 25, 2) float64 buffers are reused throughout: big batches stay memory-light.
    x = np.array(kp[..., :2], dtype=np.float64)  # always a copy: modified in place below
    root = (x[:, :, rows["left_hip"]] + x[:, :, rows["right_hip"]]) / 2.0
    x -= root[:, :, None, :]
    buf = np.empty_like(x)
    np.subtract(x[:, 1:], x[:, :-1], out=buf[:, 1:])
    buf[:, 1:] /= frame_time
    buf[:, 0] = buf[:, 1]
    vel = _box_smooth(buf, sliding_window, out=x)  # x (positions) is free now
    energy = np.mean(np.multiply(vel, vel, out=buf), axis=1)  # (B, 25, 2): channel-0, channel-1 energy
    np.subtract(vel[:, 1:], vel[:, :-1], out=buf[:, 1:])
    buf[:, 1:] /= frame_time
    buf[:, 0] = buf[:, 1]
    acc = _box_smooth(buf, sliding_window, out=vel)
    np.multiply(acc, acc, out=buf)
    expend = np.mean(np.sqrt(buf[..., 0] + buf[..., 1]), axis=1)  # (B, 25): mean |acceleration|
    feats = np.concatenate([energy, expend[..., None]], axis=2)  # (B, 25, 3)
    return feats.reshape(b, 25 * 3).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------
# Geometric features (32 boolean predicates averaged over frames 1..T-1)
# ----------------------------------------------------------------------------------------------------------


def _norm32(v: np.ndarray) -> np.ndarray:
    """float32 norm of the last (size-2) axis, ``sqrt(x0*x0 + x1*x1)`` as ``np.linalg.norm`` on float32."""
    return np.sqrt(v[..., 0] * v[..., 0] + v[..., 1] * v[..., 1])


def _unit32(v: np.ndarray) -> np.ndarray:
    """``v / (norm(v) + 1e-6)`` with numpy 1.26 types: the denominator is formed in float64 and rounded to
    float32 for the float32 division."""
    den = (_norm32(v).astype(np.float64) + 1e-6).astype(np.float32)
    return v / den[..., None]


def _angle_in(v1: np.ndarray, v2: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Angle between float32 vectors within [lo, hi] degrees (inclusive): float32 unit vectors and dot
    product, then ``clip``/``arccos``/``degrees`` in float64 (numpy 1.26 promotes the 0-d float32 dot
    to float64 in ``np.clip(dot, -1.0, 1.0)``)."""
    u1, u2 = _unit32(v1), _unit32(v2)
    dot = u1[..., 0] * u2[..., 0] + u1[..., 1] * u2[..., 1]
    ang = np.degrees(np.arccos(np.clip(dot.astype(np.float64), -1.0, 1.0)))
    return (ang >= lo) & (ang <= hi)


def geometric_features(
    kp: np.ndarray,
    joint_map: str | Mapping[str, int] = "official",
    threshold_scale: float = 1.0,
) -> np.ndarray:
    """Geometric (Mueller-style boolean) features of a batch of 2D tracks: (B, T, 25, >=2) -> (B, 32) float32.

    Equal to the official ``features/geometric_2d.geometric_features`` on the same array:

    - joints as float32 positions; "root"/"belly"/"spine" = midpoint of the two hip rows, "chest"/"neck" =
      midpoint of the two shoulder rows (midpoints formed in float64, then rounded);
    - ``hl = sw = |lshoulder - rshoulder| at frame 0 + 1e-6`` (float64);
    - "move"/"nmove"/"fast" predicates: the first named joint's per-frame displacement > k * hl;
    - angle predicates: inclusive bounds, zero-length vectors give 90 degrees;
    - the 11 plane predicates (:data:`GEOMETRIC_ZERO_COLUMNS`) are 0;
    - each column is the mean over frames 1..T-1 (``float32(count) / float32(T - 1)``).

    ``threshold_scale`` multiplies every displacement threshold (1.0 in the official protocol; the strict
    protocol passes ``16 / fps`` so that thresholds mean the same speed at any frame rate).
    """
    kp = _check_batch(kp, "geometric_features")
    rows = joint_rows(joint_map)
    b, t = kp.shape[:2]
    out = np.zeros((b, N_GEOMETRIC), dtype=np.float32)
    if t <= 1:
        return out
    names = LIMB_JOINTS
    # One gather of the 12 joints the predicates read (float64 as given), then float32 like the reference's
    # position array; the virtual root/chest joints are float64 midpoints rounded to float32.
    x64 = np.asarray(kp[:, :, [rows[n] for n in names], :2], dtype=np.float64)
    x32 = x64.astype(np.float32)
    p = {name: x32[:, :, i] for i, name in enumerate(names)}
    root = ((x64[:, :, 6] + x64[:, :, 7]) / 2.0).astype(np.float32)
    chest = ((x64[:, :, 0] + x64[:, :, 1]) / 2.0).astype(np.float32)
    sw = _norm32(p["left_shoulder"][:, 0] - p["right_shoulder"][:, 0]).astype(np.float64) + 1e-6  # (B,)
    hl = sw[:, None] if threshold_scale == 1.0 else sw[:, None] * threshold_scale

    def moving(pos: np.ndarray, k: float) -> np.ndarray:
        step = _norm32(pos[:, 1:] - pos[:, :-1])  # float32, compared exactly against float64 thresholds
        return step > k * hl

    def angle(a1, a2, a3, a4, lo, hi) -> np.ndarray:
        return _angle_in(a2[:, 1:] - a1[:, 1:], a4[:, 1:] - a3[:, 1:], lo, hi)

    neck_root = root[:, 1:] - chest[:, 1:]
    cols: dict[int, np.ndarray] = {}
    cols[0] = cols[1] = moving(chest, 1.8)
    cols[4] = cols[5] = moving(root, 1.8)
    cols[6] = angle(p["right_elbow"], p["right_shoulder"], p["right_elbow"], p["right_wrist"], 0, 110)
    cols[7] = angle(p["left_elbow"], p["left_shoulder"], p["left_elbow"], p["left_wrist"], 0, 110)
    cols[9] = cols[11] = moving(p["left_wrist"], 1.4)
    cols[10] = moving(p["right_wrist"], 1.4)
    cols[12] = moving(p["right_wrist"], 2.5)
    cols[13] = moving(p["left_wrist"], 2.5)
    cols[19] = angle(p["right_knee"], p["right_hip"], p["right_knee"], p["right_ankle"], 0, 110)
    cols[20] = angle(p["left_knee"], p["left_hip"], p["left_knee"], p["left_ankle"], 0, 110)
    cols[21] = moving(p["right_ankle"], 2.5)
    cols[22] = moving(p["left_ankle"], 2.5)
    cols[23] = _angle_in(neck_root, p["right_elbow"][:, 1:] - p["right_shoulder"][:, 1:], 25, 180)
    cols[24] = _angle_in(neck_root, p["left_elbow"][:, 1:] - p["left_shoulder"][:, 1:], 25, 180)
    cols[25] = _angle_in(neck_root, p["right_knee"][:, 1:] - p["right_hip"][:, 1:], 50, 180)
    cols[26] = _angle_in(neck_root, p["left_knee"][:, 1:] - p["left_hip"][:, 1:], 50, 180)
    # Torso against the channel-1 unit axis: the axis is an int64 array, so its unit vector (and the dot
    # product with the float32 torso direction) is float64 in the reference.
    u1 = _unit32(neck_root)
    dot = u1[..., 1].astype(np.float64) * (1.0 / (1.0 + 1e-6))
    ang = np.degrees(np.arccos(np.clip(dot, -1.0, 1.0)))
    cols[28] = (ang >= 70) & (ang <= 110)
    cols[31] = moving(root, 2.3)
    denom = np.float32(t - 1)
    for c, mask in cols.items():
        out[:, c] = np.count_nonzero(mask, axis=1).astype(np.float32) / denom
    return out


def compute_features(
    kp: np.ndarray,
    frame_time: float = 1 / 30.0,
    joint_map: str | Mapping[str, int] = "official",
    threshold_scale: float = 1.0,
    sliding_window: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """``(kinetic_features(kp), geometric_features(kp))`` for one batch."""
    return (
        kinetic_features(kp, frame_time=frame_time, sliding_window=sliding_window, joint_map=joint_map),
        geometric_features(kp, joint_map=joint_map, threshold_scale=threshold_scale),
    )
