"""MACE-Dance 2D motion protocol: kinetic/geometric features, FID, diversity and BAS on ViTPose-25 keypoints.

Two protocols are registered here:

``mace2d-official``
    Bit-compatible with the official ``Evaluation-Motion/calculate_metric.py`` (AMAP-ML/MACE-Dance @ 8f92d12),
    quirks included. Keypoint arrays are consumed exactly as the official JSON stores them: rows in
    easy_ViTPose ``coco_25`` order, channels ``(y, x, conf)`` (easy_ViTPose returns row/column order; see
    :mod:`ma_data.core.formats.keypoints`). The official feature code indexes those rows with a *COCO-17-style*
    name list, so its "hips" are rows 11/12 (right wrist / left hip), its "shoulders" rows 5/6 (neck / left
    shoulder) and so on; we index the same rows.

``mace2d-strict``
    The same measurement with the reference's defects fixed. Each fix is listed in ``STRICT_FIXES`` next to
    the quirk it replaces and recorded in the protocol parameters.

Floating-point types follow the official code step by step (the official requirements pin numpy 1.26, whose
scalar promotion differs from numpy 2; we spell the 1.26 types out explicitly):

- kinetic features: float64 throughout (the JSON is read as float64), cast to float32 at the end;
- geometric features: joint positions float32, thresholds float64, angle tests on float32 unit vectors with a
  float64 ``arccos``; each feature is ``float32(count) / float32(T - 1)``;
- normalisation: float32 torch arithmetic (see :func:`benchmark.motion.common.normalize_own_stats`);
- FID: float64 covariances of the float32 features, SciPy <= 1.15 ``sqrtm``, real part;
- Div: float32 pairwise distances; BAS: float64.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmark.motion.common import (
    beat_align_score,
    diversity,
    feature_stats,
    fid_interval_warning,
    frechet_distance,
    frechet_warnings,
    kinetic_velocity,
    motion_beats,
    normalize_own_stats,
)
from benchmark.protocols import PLAUSIBLE_FPS, Protocol, fps_problem, register_protocol
from benchmark.results import MetricReport, MetricValue

__all__ = [
    "GEOMETRIC_ZERO_COLUMNS",
    "MACE2D_OFFICIAL",
    "MACE2D_STRICT",
    "OFFICIAL_JOINT_ROWS",
    "COCO25_JOINT_ROWS",
    "STRICT_FIXES",
    "compute_features",
    "geometric_features",
    "kinetic_features",
    "sample_motion_beats",
    "score_mace2d",
    "select_stems",
]

# ----------------------------------------------------------------------------------------------------------
# Joint rows
# ----------------------------------------------------------------------------------------------------------

#: Rows the official feature code reads for each named joint. Its name list is COCO-17 order followed by
#: head_top, neck and the feet, applied to arrays whose rows are really easy_ViTPose ``coco_25`` order.
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

#: The rows those joints really occupy in easy_ViTPose ``coco_25`` order (used by ``mace2d-strict``).
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

_JOINT_MAPS = {"official": OFFICIAL_JOINT_ROWS, "coco25": COCO25_JOINT_ROWS}

#: Geometric columns the official 2D adaptation stubs to 0 (all plane / normal-plane predicates).
GEOMETRIC_ZERO_COLUMNS: tuple[int, ...] = (2, 3, 8, 14, 15, 16, 17, 18, 27, 29, 30)

N_KINETIC = 75
N_GEOMETRIC = 32


def _rows(joint_map: str | Mapping[str, int]) -> Mapping[str, int]:
    if isinstance(joint_map, str):
        try:
            return _JOINT_MAPS[joint_map]
        except KeyError:
            raise ValueError(f"unknown joint_map {joint_map!r}; use one of {sorted(_JOINT_MAPS)}") from None
    return joint_map


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
    rows = _rows(joint_map)
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
    rows = _rows(joint_map)
    b, t = kp.shape[:2]
    out = np.zeros((b, N_GEOMETRIC), dtype=np.float32)
    if t <= 1:
        return out
    names = (
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_hip",
        "right_hip",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
    )
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
) -> tuple[np.ndarray, np.ndarray]:
    """``(kinetic_features(kp), geometric_features(kp))`` for one batch."""
    return (
        kinetic_features(kp, frame_time=frame_time, joint_map=joint_map),
        geometric_features(kp, joint_map=joint_map, threshold_scale=threshold_scale),
    )


# ----------------------------------------------------------------------------------------------------------
# Protocols
# ----------------------------------------------------------------------------------------------------------

_BEAT_TRACK = {"hop_length": 512, "start_bpm": 120.0, "tightness": 100, "trim": True}

MACE2D_OFFICIAL = register_protocol(
    Protocol(
        name="mace2d-official",
        version="1.0",
        kind="motion2d",
        description=(
            "MACE-Dance Evaluation-Motion/calculate_metric.py (AMAP-ML/MACE-Dance @ 8f92d12), quirks included: "
            "first 64 frames, own-set normalisation, 1/30 s frame time, official joint rows, zero frames kept."
        ),
        params={
            "reference": "AMAP-ML/MACE-Dance@8f92d12 Evaluation-Motion/calculate_metric.py",
            "keypoint_channels": "as stored in the official JSON (y, x, conf)",
            "joint_map": "official",
            "n_frames": 64,
            "window": "first",
            "min_frames": 64,
            "fps": 16,
            "beats_unit": "frames",
            "audio_sr": 8320,
            "audio_suffixes": [".mp4"],
            "beat_track": dict(_BEAT_TRACK),
            "frame_time": 1 / 30.0,
            "sliding_window": 2,
            "missing_frames": "zeros",
            "normalization": "own",
            "norm_eps": 1e-4,
            "norm_ddof": 1,
            "fid_eps": 1e-5,
            "fid_sqrtm": "legacy",
            "fid_complex": "real",
            "div_dtype": "float32",
            "warn_small_sample": True,
            "bas_sigma": 3.5,
            "bas_kernel_sigma": 3.0,
        },
    )
)

#: What ``mace2d-strict`` changes, each next to the official quirk it replaces (also in its params).
STRICT_FIXES: dict[str, str] = {
    "normalization": "official: GT and generated sets each z-scored by their OWN mean/std, so FID cannot see "
    "mean or scale shifts -> strict: both sets z-scored by the GT mean and unbiased std (eps 1e-4); a column "
    "constant over GT takes the pooled GT+generated std so it cannot explode.",
    "joint_map": "official: COCO-17 row indices applied to coco_25 rows (its 'hips' are right wrist / left hip) "
    "-> strict: the real coco_25 rows for hips, shoulders, elbows, wrists, knees, ankles, toes.",
    "keypoint_channels": "official: (y, x) rows treated as (x, y), so 'horizontal' energy is vertical and the "
    "upright-torso test measures the wrong axis -> strict: channels swapped to (x, y) before features.",
    "missing_frames": "official: missed detections stay all-zero rows, creating huge jumps -> strict: linearly "
    "interpolated from neighbouring detections (ends held); clips below min_detection_rate are skipped.",
    "frame_time": "official: velocity divides by 1/30 s although clips are 16 fps -> strict: 1/fps of each "
    "track; displacement thresholds of the geometric features are scaled by 16/fps.",
    "window": "official: first 64 frames (4 s at 16 fps) regardless of fps -> strict: the first "
    "min(GT duration, generated duration, max_seconds) seconds of both tracks; clips shorter than "
    "min_seconds are skipped.",
    "bas_time": "official: motion and music beats compared as frame indices (velocity sample i vs frame i) -> "
    "strict: compared in seconds (velocity sample i at (i + 0.5)/fps), sigmas converted from 16 fps frames.",
    "sample_size": "official: silent when n_samples < feature dimension (singular covariances) -> strict: a "
    "warning in the results.",
    "bas_without_beats": "official: a clip whose GT music has no beat in the window (silent, beatless) or is "
    "shorter than the window scores BAS 0 and is averaged in -> strict: its BAS is undefined, left out of "
    "the mean and listed (v1.1).",
    "fps": "official: the file's fps is ignored -> strict: it sets the frame time; a declared fps outside "
    "plausible_fps skips the clip (v1.1; the official protocol skips it too, as a corrupt file).",
}

MACE2D_STRICT = register_protocol(
    Protocol(
        name="mace2d-strict",
        version="1.1",
        kind="motion2d",
        description="The mace2d-official measurement with its defects fixed (see params['fixes']).",
        params={
            "reference": "mace2d-official 1.0 with documented fixes",
            "keypoint_channels": "(y, x, conf) input swapped to (x, y)",
            "joint_map": "coco25",
            "window": "common",
            "max_seconds": 10.0,
            "min_seconds": 4.0,
            "default_fps": 16.0,
            "fps": 16,
            "beats_unit": "seconds",
            "audio_sr": 8320,
            "audio_suffixes": [
                ".mp4",
                ".wav",
                ".m4a",
                ".mp3",
                ".flac",
                ".aac",
                ".ogg",
                ".mov",
                ".mkv",
                ".webm",
            ],
            "beat_track": dict(_BEAT_TRACK),
            "frame_time": "1/fps",
            "reference_fps": 16.0,
            "sliding_window": 2,
            "missing_frames": "interpolate",
            "min_detection_rate": 0.5,
            "normalization": "gt",
            "norm_eps": 1e-4,
            "norm_ddof": 1,
            "fid_eps": 1e-5,
            "fid_sqrtm": "legacy",
            "fid_complex": "real",
            "div_dtype": "float32",
            "bas_sigma_s": 3.5 / 16,
            "bas_kernel_sigma_s": 3.0 / 16,
            "bas_without_beats": "undefined",
            "plausible_fps": list(PLAUSIBLE_FPS),
            "warn_small_sample": True,
            "fixes": dict(STRICT_FIXES),
        },
    )
)


def _is_strict(protocol: Protocol) -> bool:
    return protocol.params.get("window") != "first"


def _fps_pair(stem: str, fps: Mapping[str, Any] | None, default: float) -> tuple[float, float]:
    if fps is None or stem not in fps or fps[stem] is None:
        return float(default), float(default)
    value = fps[stem]
    if isinstance(value, tuple | list):
        g, p = value
        return float(g or default), float(p or default)
    return float(value), float(value)


# ----------------------------------------------------------------------------------------------------------
# Sample selection
# ----------------------------------------------------------------------------------------------------------


def select_stems(
    gt: Mapping[str, Any],
    pred: Mapping[str, Any],
    music_beats: Mapping[str, Any],
    protocol: Protocol,
    fps: Mapping[str, Any] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Apply the protocol's sample rules; return ``(kept stems sorted, {skipped stem: reason})``.

    Official rules (``collect_aligned_data``): a stem counts only if GT keypoints, generated keypoints and GT
    music beats all exist; stems are sorted; the stem is dropped if either keypoint array is not
    (T, 25, 3) or has T < 64, or if beat extraction failed (``None`` beats). Every failing part is named.
    Strict adds: tracks shorter than ``min_seconds`` and tracks with a detection rate below
    ``min_detection_rate`` are dropped.
    """
    params = protocol.params
    strict = _is_strict(protocol)
    all_stems = sorted(set(gt) | set(pred) | set(music_beats))
    kept: list[str] = []
    skipped: dict[str, str] = {}
    for stem in all_stems:
        missing = [
            name
            for name, side in (
                ("GT keypoints", gt),
                ("generated keypoints", pred),
                ("GT music beats", music_beats),
            )
            if stem not in side or side[stem] is None
        ]
        if missing:
            skipped[stem] = f"missing {' and '.join(missing)}"
            continue
        reasons = []
        fps_g, fps_p = _fps_pair(stem, fps, params.get("default_fps", params.get("fps", 16)))
        for name, arr, side_fps in (("GT", gt[stem], fps_g), ("generated", pred[stem], fps_p)):
            a = np.asarray(arr)
            if a.ndim != 3 or a.shape[1:] != (25, 3):
                reasons.append(f"{name} keypoints have shape {a.shape}, expected (T, 25, 3)")
                continue
            if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
                reasons.append(f"{name} keypoints are not finite numbers")
                continue
            if not strict:
                need = int(params["min_frames"])
                if a.shape[0] < need:
                    reasons.append(f"{name} keypoints have {a.shape[0]} frames < {need}")
            else:
                problem = fps_problem(side_fps, f"{name} keypoints' frame rate")
                if problem is not None:
                    reasons.append(problem)
                    continue
                seconds = a.shape[0] / side_fps
                if seconds + 1e-9 < float(params["min_seconds"]):
                    reasons.append(f"{name} keypoints last {seconds:.2f} s < {params['min_seconds']} s")
                rate = float(np.mean(np.any(a != 0, axis=(1, 2)))) if a.shape[0] else 0.0
                if rate < float(params["min_detection_rate"]):
                    reasons.append(
                        f"{name} keypoints have a person in {rate:.0%} of frames "
                        f"< {float(params['min_detection_rate']):.0%}"
                    )
        if reasons:
            skipped[stem] = "; ".join(reasons)
        else:
            kept.append(stem)
    return kept, skipped


# ----------------------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------------------


def interpolate_missing(track: np.ndarray) -> np.ndarray:
    """Fill all-zero (missed) frames by linear interpolation over time from detected frames; hold the ends."""
    detected = np.any(track != 0, axis=(1, 2))
    if detected.all() or not detected.any():
        return track
    t = np.arange(track.shape[0])
    flat = track.reshape(track.shape[0], -1)
    valid = np.flatnonzero(detected)
    out = np.empty_like(flat)
    for c in range(flat.shape[1]):
        out[:, c] = np.interp(t, valid, flat[valid, c])
    return out.reshape(track.shape)


def sample_motion_beats(
    kp: np.ndarray, protocol: Protocol, fps: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame speed, its motion beats, and the beat positions in the protocol's beat unit.

    ``kp`` is one (T, 25, 3) window as the protocol scores it. Returns ``(speed (T-1,), beat indices into
    speed, beat positions)`` where positions are the indices themselves (official: frames) or
    ``(index + 0.5) / fps`` seconds (strict).
    """
    speed = kinetic_velocity(np.asarray(kp)[:, :, :2])
    if not _is_strict(protocol):
        idx = motion_beats(speed, float(protocol.params["bas_sigma"]))
        return speed, idx, idx
    fps = float(fps or protocol.params["default_fps"])
    idx = motion_beats(speed, float(protocol.params["bas_sigma_s"]) * fps)
    return speed, idx, (idx + 0.5) / fps


def music_positions(beats: np.ndarray, protocol: Protocol, horizon: float) -> np.ndarray:
    """Music beats inside the scored window: unique frames < n_frames (official) or times < horizon s."""
    b = np.asarray(beats).reshape(-1)
    if not _is_strict(protocol):
        b = np.floor(b).astype(np.int64) if b.dtype.kind == "f" else b.astype(np.int64)
        return np.unique(b[(b >= 0) & (b < int(protocol.params["n_frames"]))])
    b = b.astype(np.float64)
    return np.unique(b[(b >= 0) & (b < horizon)])


def _fast_trace_sqrt(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr sqrtm(S1 S2) from the eigenvalues of S1 S2 (real and >= 0 for PSD S1, S2; bootstrap only)."""
    ev = np.linalg.eigvals(s1 @ s2).real
    return float(np.sum(np.sqrt(np.clip(ev, 0, None))))


def _fast_fid(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    s1, s2 = np.cov(a64, rowvar=False), np.cov(b64, rowvar=False)
    diff = a64.mean(0) - b64.mean(0)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * _fast_trace_sqrt(s1, s2))


def _fast_div(x: np.ndarray, idx: np.ndarray | None = None) -> float:
    """Mean pairwise distance (float64 Gram form, bootstrap only). With ``idx`` (the resampled item ids),
    pairs that are two copies of the same item are left out: their zero distance is an artefact of
    resampling with replacement and would bias the interval low."""
    x = x.astype(np.float64)
    n = x.shape[0]
    sq = np.sum(x * x, axis=1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * (x @ x.T), 0, None)
    a, b = np.triu_indices(n, 1)
    if idx is not None:
        keep = idx[a] != idx[b]
        a, b = a[keep], b[keep]
    return float(np.mean(np.sqrt(d2[a, b]))) if a.size else float("nan")


def _normalize_gt_guarded(
    gt_f: np.ndarray, pred_f: np.ndarray, eps: float, ddof: int
) -> tuple[np.ndarray, np.ndarray]:
    """Strict normalisation: both sets z-scored by the GT mean and unbiased std (float64, then float32).

    Guard: a column that is constant over the GT set (std ~ 0) would divide the generated set's variation by
    ``eps`` and blow FID up by many orders of magnitude (Bailando's failure mode). Such columns take their
    scale from the pooled GT + generated std instead; columns constant in both sets become 0.
    """
    g, p = gt_f.astype(np.float64), pred_f.astype(np.float64)
    mean = g.mean(axis=0)
    std_g = g.std(axis=0, ddof=ddof) if g.shape[0] > ddof else np.zeros(g.shape[1])
    both = np.concatenate([g, p])
    std_pool = both.std(axis=0, ddof=ddof)
    constant = std_g <= 1e-7 * (1.0 + np.abs(mean))
    scale = np.where(constant, std_pool, std_g) + eps
    return ((g - mean) / scale).astype(np.float32), ((p - mean) / scale).astype(np.float32)


def _single_threaded_blas():
    """Small (<= 75 x 75) BLAS calls in a tight loop: threads only add synchronisation, which on a busy
    machine costs 10-20x. Limit BLAS to one thread when threadpoolctl is available."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _normalize_fast(
    gt_f: np.ndarray, pred_f: np.ndarray, protocol: Protocol
) -> tuple[np.ndarray, np.ndarray]:
    """float64 version of :func:`_normalize` for bootstrap resamples (same maths, no bit-exact emulation)."""
    eps = float(protocol.params["norm_eps"])
    ddof = int(protocol.params["norm_ddof"])
    if protocol.params["normalization"] == "own":
        g, p = gt_f.astype(np.float64), pred_f.astype(np.float64)
        return (
            (g - g.mean(0)) / (g.std(0, ddof=ddof) + eps),
            (p - p.mean(0)) / (p.std(0, ddof=ddof) + eps),
        )
    return _normalize(gt_f, pred_f, protocol)


def _normalize(gt_f: np.ndarray, pred_f: np.ndarray, protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:
    eps = float(protocol.params["norm_eps"])
    ddof = int(protocol.params["norm_ddof"])
    if protocol.params["normalization"] == "own":
        return normalize_own_stats(gt_f, eps=eps, ddof=ddof), normalize_own_stats(pred_f, eps=eps, ddof=ddof)
    if protocol.params["normalization"] == "gt":
        return _normalize_gt_guarded(gt_f, pred_f, eps, ddof)
    raise ValueError(f"unknown normalization {protocol.params['normalization']!r}")


def _prepare(
    stems: list[str],
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    protocol: Protocol,
    fps: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Cut the scored windows and compute raw features for both sides."""
    params = protocol.params
    n = len(stems)
    if not _is_strict(protocol):
        t = int(params["n_frames"])
        g = np.stack([np.asarray(gt[s], dtype=np.float64)[:t] for s in stems])
        p = np.stack([np.asarray(pred[s], dtype=np.float64)[:t] for s in stems])
        kw = {"frame_time": float(params["frame_time"]), "joint_map": params["joint_map"]}
        gk, gg = compute_features(g, **kw)
        pk, pg = compute_features(p, **kw)
        return {
            "gt_windows": list(g),
            "pred_windows": list(p),
            "gt_fps": [float(params["fps"])] * n,
            "pred_fps": [float(params["fps"])] * n,
            "horizon": [t / float(params["fps"])] * n,
            "feats": (gk, gg, pk, pg),
        }
    ref_fps = float(params["reference_fps"])
    gw, pw, gf, pf, hz = [], [], [], [], []
    for s in stems:
        fg, fp = _fps_pair(s, fps, params["default_fps"])
        a, b = np.asarray(gt[s], dtype=np.float64), np.asarray(pred[s], dtype=np.float64)
        seconds = min(a.shape[0] / fg, b.shape[0] / fp, float(params["max_seconds"]))
        a = a[: max(2, int(math.floor(seconds * fg + 1e-9)))]
        b = b[: max(2, int(math.floor(seconds * fp + 1e-9)))]
        if params["missing_frames"] == "interpolate":
            a, b = interpolate_missing(a), interpolate_missing(b)
        # Official JSON channels are (y, x): swap so channel 0 is horizontal and channel 1 points down.
        gw.append(a[..., [1, 0, 2]])
        pw.append(b[..., [1, 0, 2]])
        gf.append(fg)
        pf.append(fp)
        hz.append(seconds)
    feats = []
    for windows, rates in ((gw, gf), (pw, pf)):
        k = np.zeros((n, N_KINETIC), np.float32)
        g_ = np.zeros((n, N_GEOMETRIC), np.float32)
        groups: dict[tuple[int, float], list[int]] = {}
        for i, (w, r) in enumerate(zip(windows, rates, strict=True)):
            groups.setdefault((w.shape[0], r), []).append(i)
        for (_, r), idx in groups.items():
            batch = np.stack([windows[i] for i in idx])
            k[idx], g_[idx] = compute_features(
                batch, frame_time=1.0 / r, joint_map=params["joint_map"], threshold_scale=ref_fps / r
            )
        feats += [k, g_]
    return {
        "gt_windows": gw,
        "pred_windows": pw,
        "gt_fps": gf,
        "pred_fps": pf,
        "horizon": hz,
        "feats": (feats[0], feats[1], feats[2], feats[3]),
    }


def score_mace2d(
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    music_beats: Mapping[str, np.ndarray],
    protocol: Protocol | str = "mace2d-official",
    n_boot: int = 1000,
    seed: int = 0,
    *,
    fps: Mapping[str, Any] | None = None,
    audio_seconds: Mapping[str, float] | None = None,
) -> MetricReport:
    """Score generated keypoint tracks against GT under a ``mace2d-*`` protocol.

    Args:
        gt, pred: stem -> (T, 25, 3) keypoints in the official JSON channel order ``(y, x, conf)``
            (what :func:`ma_data.core.formats.keypoints.read_official_array` returns).
        music_beats: stem -> GT music beats from :func:`benchmark.motion.music_beats.music_beat_frames`
            (frame indices at 16 fps for ``mace2d-official``, seconds for ``mace2d-strict``); ``None`` marks
            a failed extraction (the stem is skipped, as officially).
        protocol: a :class:`Protocol` or its name.
        n_boot, seed: percentile bootstrap over stems (0 disables the intervals).
        fps: strict only: stem -> fps or (gt_fps, pred_fps); missing entries use ``default_fps``.
        audio_seconds: stem -> duration of the GT music; music shorter than the scored window makes the
            clip's BAS undefined (strict) or flagged (official). Missing entries are not checked.

    A clip whose GT music has no beat in the scored window, or is shorter than it, has no meaningful BAS:
    ``mace2d-strict`` leaves it undefined (null, out of the mean, listed in ``extra['bas_undefined']``);
    ``mace2d-official`` keeps the reference's score (0 without beats) and names the clips in a warning.

    Returns a :class:`MetricReport` with fid_k, fid_g, div_k, div_g, bas, div_k_gt, div_g_gt, bas_gt, the
    per-sample BAS values and beat counts, and every skipped stem with its reason.
    """
    if isinstance(protocol, str):
        from benchmark.protocols import get_protocol

        protocol = get_protocol(protocol)
    params = protocol.params
    strict = _is_strict(protocol)
    kept, skipped = select_stems(gt, pred, music_beats, protocol, fps=fps)
    warn: list[str] = []
    if not kept:
        return MetricReport({}, {}, skipped, 0, protocol, ["no usable samples"], {})
    prep = _prepare(kept, gt, pred, protocol, fps)
    gk, gg, pk, pg = prep["feats"]
    ngk, npk = _normalize(gk, pk, protocol)
    ngg, npg = _normalize(gg, pg, protocol)

    fid_kw = {
        "eps": float(params["fid_eps"]),
        "sqrtm": params["fid_sqrtm"],
        "complex_mode": params["fid_complex"],
    }
    info_k: dict[str, Any] = {}
    info_g: dict[str, Any] = {}
    n = len(kept)
    if n >= 2:
        fid_k = frechet_distance(*feature_stats(npk), *feature_stats(ngk), info=info_k, **fid_kw)
        fid_g = frechet_distance(*feature_stats(npg), *feature_stats(ngg), info=info_g, **fid_kw)
    else:
        fid_k = fid_g = float("nan")
        warn.append("FID and Div need at least 2 samples; they are reported as null")
    div_dtype = np.dtype(params["div_dtype"])
    values = {
        "fid_k": fid_k,
        "fid_g": fid_g,
        "div_k": diversity(npk, div_dtype),
        "div_g": diversity(npg, div_dtype),
        "div_k_gt": diversity(ngk, div_dtype),
        "div_g_gt": diversity(ngg, div_dtype),
    }
    for key, info in (("fid_k", info_k), ("fid_g", info_g)):
        if info.get("offset_applied"):
            warn.append(f"{key}: sqrtm of the covariance product was not finite; added {params['fid_eps']}*I")
    flags: dict[str, list[str]] = {}
    if n >= 2:
        for key, pf, gf in (("fid_k", npk, ngk), ("fid_g", npg, ngg)):
            found = frechet_warnings(key, values[key], feature_stats(pf)[1], feature_stats(gf)[1])
            if found:
                flags[key] = found
                warn.extend(found)

    per_sample: dict[str, dict[str, float]] = {}
    bas_pred, bas_gt = [], []
    kernel = float(params["bas_kernel_sigma_s"] if strict else params["bas_kernel_sigma"])
    undefined = params.get("bas_without_beats", "zero") == "undefined"
    bas_problems: dict[str, str] = {}
    for i, stem in enumerate(kept):
        music = music_positions(music_beats[stem], protocol, prep["horizon"][i])
        problem = _bas_problem(music, prep["horizon"][i], (audio_seconds or {}).get(stem))
        if problem is not None:
            bas_problems[stem] = problem
        row: dict[str, float] = {"n_music_beats": float(music.size)}
        for side, windows, rates, sink in (
            ("", prep["pred_windows"], prep["pred_fps"], bas_pred),
            ("_gt", prep["gt_windows"], prep["gt_fps"], bas_gt),
        ):
            window = windows[i]
            _, idx, pos = sample_motion_beats(window, protocol, rates[i])
            score = (
                float("nan") if problem and undefined else beat_align_score(music, pos, sigma_kernel=kernel)
            )
            sink.append(score)
            row[f"bas{side}"] = score
            row[f"n_motion_beats{side}"] = float(idx.size)
            raw = (pred if side == "" else gt)[stem]
            missed = np.asarray(raw)[: window.shape[0]]
            row[f"missed_frames{side}"] = float(np.count_nonzero(~np.any(missed != 0, axis=(1, 2))))
        per_sample[stem] = row
    values["bas"] = _mean_defined(bas_pred)
    values["bas_gt"] = _mean_defined(bas_gt)
    if bas_problems:
        listed = "; ".join(f"{k} ({v})" for k, v in list(bas_problems.items())[:5])
        more = f"; and {len(bas_problems) - 5} more" if len(bas_problems) > 5 else ""
        if undefined:
            warn.append(
                f"BAS undefined for {len(bas_problems)} clip(s), left out of the BAS means: {listed}{more}"
            )
        else:
            warn.append(
                f"BAS of {len(bas_problems)} clip(s) measures nothing; as in the official script they are "
                f"averaged in with the score computed (0 without beats): {listed}{more}"
            )

    if n < N_KINETIC and params.get("warn_small_sample", True):
        # The reference is silent here; a warning changes no number.
        warn.append(
            f"only {n} samples for {N_KINETIC}-d kinetic / {N_GEOMETRIC}-d geometric (21 informative) features: "
            "the covariances are rank-deficient, so FID is unstable and mostly compares correlation structure"
        )

    cis: dict[str, tuple[float, float]] = {}
    if n_boot and n >= 2:
        from benchmark.stats import bootstrap_ci

        bp, bg = np.asarray(bas_pred, np.float64), np.asarray(bas_gt, np.float64)
        bas_mean = np.nanmean if np.isnan(bp).any() or np.isnan(bg).any() else np.mean

        def stat_fn(idx: np.ndarray) -> dict[str, float]:
            a_gk, a_pk = _normalize_fast(gk[idx], pk[idx], protocol)
            a_gg, a_pg = _normalize_fast(gg[idx], pg[idx], protocol)
            return {
                "fid_k": _fast_fid(a_pk, a_gk),
                "fid_g": _fast_fid(a_pg, a_gg),
                "div_k": _fast_div(a_pk, idx),
                "div_g": _fast_div(a_pg, idx),
                "div_k_gt": _fast_div(a_gk, idx),
                "div_g_gt": _fast_div(a_gg, idx),
                "bas": float(bas_mean(bp[idx])),
                "bas_gt": float(bas_mean(bg[idx])),
            }

        with warnings.catch_warnings(), _single_threaded_blas():
            warnings.simplefilter("ignore", RuntimeWarning)
            cis = bootstrap_ci(stat_fn, n, n_boot=n_boot, seed=seed)

    # Resampling with replacement duplicates clips, which biases FID up and the re-normalised Div: their
    # bootstrap distributions sit off the point estimate (for FID often entirely above it). We keep the
    # bootstrap *width* and centre it on the estimate; BAS (a plain mean) keeps its percentile interval.
    for key in ("fid_k", "fid_g", "div_k", "div_g", "div_k_gt", "div_g_gt"):
        lo, hi = cis.get(key, (None, None))
        if lo is not None and math.isfinite(lo) and math.isfinite(hi) and math.isfinite(values[key]):
            half = (hi - lo) / 2
            # FID and Div are non-negative: a centred interval is cut at zero (both ends: an identical-set
            # FID of -1e-13 would otherwise get the interval [0, -1e-13]).
            cis[key] = (max(values[key] - half, 0.0), max(values[key] + half, 0.0))
    for key in ("fid_k", "fid_g"):
        msg = fid_interval_warning(key, values[key], cis.get(key, (None, None))[1])
        if msg:
            flags.setdefault(key, []).append(msg)
            warn.append(msg)
    order = ("fid_k", "fid_g", "div_k", "div_g", "bas", "div_k_gt", "div_g_gt", "bas_gt")
    metrics = {
        key: MetricValue(float(values[key]), *(cis.get(key, (None, None))), warnings=flags.get(key, []))
        for key in order
    }
    extra: dict[str, Any] = {
        "fid_k_offset_applied": bool(info_k.get("offset_applied", False)),
        "fid_g_offset_applied": bool(info_g.get("offset_applied", False)),
        "feature_dims": {"kinetic": N_KINETIC, "geometric": N_GEOMETRIC, "geometric_informative": 21},
        "bootstrap": {
            "n_boot": int(n_boot),
            "seed": int(seed),
            "method": "resample stems with replacement; BAS: percentile interval; FID/Div: the percentile "
            "interval's width centred on the estimate (duplicated clips bias resampled FID/Div)",
        },
    }
    if bas_problems:
        extra["bas_undefined" if undefined else "bas_without_beats"] = bas_problems
    return MetricReport(metrics, per_sample, skipped, n, protocol, warn, extra)


#: Music may end this much before the scored window without making BAS undefined: container audio often
#: stops a few AAC frames before the video, and at most one beat (120 bpm) can fall in half a second.
AUDIO_SHORTFALL_S = 0.5


def _bas_problem(music: np.ndarray, horizon: float, audio_seconds: float | None) -> str | None:
    """Why a clip's BAS measures nothing, or None: no music beat in the scored window (silent or beatless
    music), or music that ends more than :data:`AUDIO_SHORTFALL_S` before the window does."""
    if audio_seconds is not None and audio_seconds + AUDIO_SHORTFALL_S < horizon:
        return f"GT music lasts {audio_seconds:.2f} s, the scored window {horizon:.2f} s"
    if music.size == 0:
        return "no music beat in the scored window (silent or beatless GT music)"
    return None


def _mean_defined(values: list[float]) -> float:
    """Mean over the defined (non-NaN) values; exactly ``np.mean`` when all are defined; NaN when none."""
    arr = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(arr)
    if keep.all():
        return float(np.mean(arr))
    return float(np.mean(arr[keep])) if keep.any() else float("nan")
