"""Sample selection and the scored windows of the 2D protocols.

Which clips count (:func:`select_stems`), which frames of each track are scored (:func:`cut_windows`), and
where the motion and music beats of a window lie (:func:`sample_motion_beats`, :func:`music_positions`). Every
choice reads a field of :class:`~benchmark.motion.protocols2d.Mace2dProtocol`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.motion.common import kinetic_velocity, motion_beats
from benchmark.motion.protocols2d import BeatsUnit, KeypointChannels, Mace2dProtocol, MissingFrames, Window
from benchmark.protocol_base import fps_problem

__all__ = [
    "ScoredWindows",
    "cut_windows",
    "fps_pair",
    "interpolate_missing",
    "music_positions",
    "sample_motion_beats",
    "scored_window",
    "select_stems",
    "window_frames",
]


def fps_pair(stem: str, fps: Mapping[str, Any] | None, protocol: Mace2dProtocol) -> tuple[float, float]:
    """(GT, generated) frame rates of a stem: the tracks' own under a protocol that reads them (``fps`` maps
    stem -> fps or (gt_fps, pred_fps)), else the protocol's assumed rate."""
    default = protocol.assumed_fps()
    if protocol.window is Window.FIRST or fps is None or stem not in fps or fps[stem] is None:
        return default, default
    value = fps[stem]
    if isinstance(value, tuple | list):
        g, p = value
        return float(g or default), float(p or default)
    return float(value), float(value)


def select_stems(
    gt: Mapping[str, Any],
    pred: Mapping[str, Any],
    music_beats: Mapping[str, Any],
    protocol: Mace2dProtocol,
    fps: Mapping[str, Any] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Apply the protocol's sample rules; return ``(kept stems sorted, {skipped stem: reason})``.

    Official rules (``collect_aligned_data``): a stem counts only if GT keypoints, generated keypoints and GT
    music beats all exist; stems are sorted; the stem is dropped if either keypoint array is not
    (T, 25, 3) or has T < ``min_frames``, or if beat extraction failed (``None`` beats). Every failing part is
    named. A protocol windowing by seconds drops tracks shorter than ``min_seconds`` instead, and, where it
    sets them, tracks with an implausible frame rate (``plausible_fps``) or a detection rate below
    ``min_detection_rate``.
    """
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
        fps_g, fps_p = fps_pair(stem, fps, protocol)
        for name, arr, side_fps in (("GT", gt[stem], fps_g), ("generated", pred[stem], fps_p)):
            a = np.asarray(arr)
            if a.ndim != 3 or a.shape[1:] != (25, 3):
                reasons.append(f"{name} keypoints have shape {a.shape}, expected (T, 25, 3)")
                continue
            if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
                reasons.append(f"{name} keypoints are not finite numbers")
                continue
            if protocol.window is Window.FIRST:
                need = int(protocol.min_frames)
                if a.shape[0] < need:
                    reasons.append(f"{name} keypoints have {a.shape[0]} frames < {need}")
                continue
            if protocol.plausible_fps is not None:
                problem = fps_problem(
                    side_fps, f"{name} keypoints' frame rate", tuple(protocol.plausible_fps)
                )
                if problem is not None:
                    reasons.append(problem)
                    continue
            seconds = a.shape[0] / side_fps
            if seconds + 1e-9 < float(protocol.min_seconds):
                reasons.append(f"{name} keypoints last {seconds:.2f} s < {protocol.min_seconds} s")
            if protocol.min_detection_rate is not None:
                rate = float(np.mean(np.any(a != 0, axis=(1, 2)))) if a.shape[0] else 0.0
                if rate < float(protocol.min_detection_rate):
                    reasons.append(
                        f"{name} keypoints have a person in {rate:.0%} of frames "
                        f"< {float(protocol.min_detection_rate):.0%}"
                    )
        if reasons:
            skipped[stem] = "; ".join(reasons)
        else:
            kept.append(stem)
    return kept, skipped


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


@dataclass
class ScoredWindows:
    """The frames of each kept clip that the protocol scores, as the features consume them."""

    gt: list[np.ndarray]
    pred: list[np.ndarray]
    gt_fps: list[float]
    pred_fps: list[float]
    #: seconds the window covers (music beats past it are not compared)
    horizon: list[float]


def window_frames(fps: float, seconds: float) -> int:
    """Frames of a window of ``seconds`` at ``fps`` (at least 2)."""
    return max(2, int(math.floor(seconds * fps + 1e-9)))


def scored_window(
    track: np.ndarray, protocol: Mace2dProtocol, fps: float, seconds: float | None = None
) -> np.ndarray:
    """One track's scored window as the features consume it: the first ``n_frames`` frames (first window)
    or the first ``seconds`` (common window; default: the track's own duration up to ``max_seconds``), then
    missed frames interpolated and channels swapped where the protocol says so."""
    a = np.asarray(track, dtype=np.float64)
    if protocol.window is Window.FIRST:
        a = a[: int(protocol.n_frames)]
    else:
        if seconds is None:
            seconds = min(a.shape[0] / fps, float(protocol.max_seconds))
        a = a[: window_frames(fps, seconds)]
    if protocol.missing_frames is MissingFrames.INTERPOLATE:
        a = interpolate_missing(a)
    if protocol.keypoint_channels is KeypointChannels.SWAPPED:
        # Official JSON channels are (y, x): swap so channel 0 is horizontal and channel 1 points down.
        a = a[..., [1, 0, 2]]
    return a


def cut_windows(
    stems: list[str],
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    protocol: Mace2dProtocol,
    fps: Mapping[str, Any] | None,
) -> ScoredWindows:
    """Cut the scored window of both tracks of every stem.

    First window: the first ``n_frames`` frames of each track, all at the assumed frame rate. Common window:
    the first ``min(GT duration, generated duration, max_seconds)`` seconds of both tracks, each at its own
    frame rate.
    """
    out = ScoredWindows([], [], [], [], [])
    for s in stems:
        fg, fp = fps_pair(s, fps, protocol)
        if protocol.window is Window.FIRST:
            seconds = int(protocol.n_frames) / fg
            wg, wp = scored_window(gt[s], protocol, fg), scored_window(pred[s], protocol, fp)
        else:
            seconds = min(len(gt[s]) / fg, len(pred[s]) / fp, float(protocol.max_seconds))
            wg = scored_window(gt[s], protocol, fg, seconds)
            wp = scored_window(pred[s], protocol, fp, seconds)
        out.gt.append(wg)
        out.pred.append(wp)
        out.gt_fps.append(fg)
        out.pred_fps.append(fp)
        out.horizon.append(seconds)
    return out


def sample_motion_beats(
    kp: np.ndarray, protocol: Mace2dProtocol, fps: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame speed, its motion beats, and the beat positions in the protocol's beat unit.

    ``kp`` is one (T, 25, 3) window as the protocol scores it. Returns ``(speed (T-1,), beat indices into
    speed, beat positions)`` where positions are the indices themselves (beats in frames) or
    ``(index + 0.5) / fps`` seconds (beats in seconds).
    """
    speed = kinetic_velocity(np.asarray(kp)[:, :, :2])
    fps = float(fps or protocol.assumed_fps())
    idx = motion_beats(speed, protocol.smoothing_sigma(fps))
    if protocol.beats_unit is BeatsUnit.FRAMES:
        return speed, idx, idx
    return speed, idx, (idx + 0.5) / fps


def music_positions(beats: np.ndarray, protocol: Mace2dProtocol, horizon: float) -> np.ndarray:
    """Music beats inside the scored window: unique frames < n_frames (beats in frames) or times < horizon
    seconds (beats in seconds)."""
    b = np.asarray(beats).reshape(-1)
    if protocol.beats_unit is BeatsUnit.FRAMES:
        b = np.floor(b).astype(np.int64) if b.dtype.kind == "f" else b.astype(np.int64)
        return np.unique(b[(b >= 0) & (b < int(protocol.n_frames))])
    b = b.astype(np.float64)
    return np.unique(b[(b >= 0) & (b < horizon)])
