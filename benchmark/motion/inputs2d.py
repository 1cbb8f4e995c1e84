"""Reading the inputs of a 2D protocol: keypoint tracks (files, or extracted from videos) and GT music beats.

Every function reads one item per per-item boundary (:mod:`benchmark.inputs`): a file that cannot be read
becomes that stem's skip reason and the batch goes on. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.inputs import PairedInputs, item_failure
from benchmark.motion.protocols2d import Mace2dProtocol
from benchmark.protocol_base import fps_problem
from ma_data.core.errors import MaceError

__all__ = [
    "Motion2dSamples",
    "extract_keypoints",
    "load_keypoint_array",
    "music_beats",
    "pose_backend_options",
    "read_keypoints",
]


@dataclass
class Motion2dSamples:
    """Keypoint tracks in the official channel order ``(y, x, conf)`` and what the scorer needs with them."""

    gt: dict[str, np.ndarray] = field(default_factory=dict)
    pred: dict[str, np.ndarray] = field(default_factory=dict)
    #: stem -> (GT fps, generated fps), None where the file declares none
    fps: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    #: stem -> GT music beats in the protocol's beat unit
    beats: dict[str, np.ndarray] = field(default_factory=dict)
    #: stem -> decoded duration of the GT music (seconds)
    audio_seconds: dict[str, float] = field(default_factory=dict)
    #: the keypoint extractor that produced the tracks, when they come from videos
    extraction: dict | None = None


def load_keypoint_array(path: Path) -> tuple[np.ndarray, float | None]:
    """Official-order (T, 25, 3) float64 array from an official JSON or one of our npz tracks, and its fps.

    JSON values are kept exactly as stored (float64), as the official script reads them.
    """
    from ma_data.core.formats.keypoints import load_npz, read_official_array_with_fps

    if path.suffix.lower() == ".npz":
        track = load_npz(path)
        return track.to_official_array("yxc").astype(np.float64), track.fps
    return read_official_array_with_fps(path)


def read_keypoints(paired: PairedInputs, gt_side: str, pred_side: str) -> Motion2dSamples:
    """Read both keypoint files of every paired stem; a stem with an unreadable file, or a declared frame
    rate outside the plausible range, is skipped with the file named (``paired.stems`` keeps the others)."""
    out = Motion2dSamples()
    for stem in list(paired.stems):
        loaded, reasons = {}, []
        for side in (gt_side, pred_side):
            path = paired.sides[side][stem]
            try:  # per-item boundary (see benchmark.inputs): any failure names the file, the batch goes on
                loaded[side] = load_keypoint_array(path)
            except Exception as exc:
                reasons.append(item_failure(path, exc))
                continue
            declared = loaded[side][1]
            problem = fps_problem(declared, "declared frame rate") if declared is not None else None
            if problem is not None:
                reasons.append(f"{path}: {problem}")
        if reasons:
            paired.skipped[stem] = "; ".join(reasons)
            continue
        (out.gt[stem], gt_fps), (out.pred[stem], pred_fps) = loaded[gt_side], loaded[pred_side]
        out.fps[stem] = (gt_fps, pred_fps)
    paired.stems = [s for s in paired.stems if s in out.gt]
    return out


def pose_backend_options(pose: str, detector: str, protocol: Mace2dProtocol) -> dict:
    """Constructor options of the pose backend for video inputs: with ``vitpose``, the protocol's
    invisible-joint rule and the detector (``auto``: the protocol's preference among the cached ones)."""
    if pose != "vitpose":
        if detector != "auto":
            raise MaceError(f"--detector {detector} applies to --pose vitpose (got --pose {pose})")
        return {}
    from ma_data.core.pose.detector import pick_detector

    video = protocol.video_keypoints
    return {
        "detector_name": pick_detector(detector, tuple(video.detector_preference)),
        "invisible_joints": video.invisible_joints,
    }


def extract_keypoints(
    paired: PairedInputs,
    gt_side: str,
    pred_side: str,
    pose: str,
    *,
    backend_options: dict | None = None,
    cache: bool = True,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    executor: str = "serial",
    workers: int | None = None,
    address: str | None = None,
) -> Motion2dSamples:
    """Extract one dancer's keypoints from the GT and generated videos of every paired stem with one backend
    (``pose`` built with ``backend_options``; tracks cached by video hash); a video that fails, or whose
    frame rate is implausible, skips its stem with the reason. ``extraction`` records what ran.

    ``executor`` (``serial`` | ``process`` | ``ray``, with ``workers``/``address``) spreads the videos, one per
    task, over one pool for both sides (:func:`ma_data.core.pose.extract.extract_tracks`): the same tracks.
    """
    from ma_data.core.pose.extract import build_backend, extract_tracks, extraction_executor

    out = Motion2dSamples()
    if not paired.stems:
        return out
    if executor == "serial":
        runner = {"backend": build_backend(pose, backend_options)}
    else:
        runner = {"executor": extraction_executor(executor, pose, backend_options, workers, address)}
        runner |= {"backend_name": pose, "backend_kwargs": backend_options}
    arrays: dict[str, dict[str, np.ndarray]] = {}
    rates: dict[str, dict[str, float | None]] = {}
    info: dict = {}
    try:
        for side in (gt_side, pred_side):
            videos = {s: paired.sides[side][s] for s in paired.stems}
            if log is not None:
                log(f"extracting keypoints ({pose}) from {len(videos)} {side}s")
            tracks, errors = extract_tracks(
                videos, cache=cache, progress=progress, backend_info=info, **runner
            )
            for stem, err in errors.items():
                paired.skipped.setdefault(stem, f"{side}: {err}")
            arrays[side] = {s: t.to_official_array("yxc").astype(np.float64) for s, t in tracks.items()}
            rates[side] = {s: t.fps for s, t in tracks.items()}
        # name, version, weights hash (+ detector, invisible-joint rule, dtype); from a worker when spread
        out.extraction = info or None
    finally:
        (runner.get("backend") or runner["executor"]).close()
    for side in (gt_side, pred_side):
        for stem, rate in rates[side].items():
            problem = fps_problem(rate, f"{side} frame rate") if rate is not None else None
            if problem is not None and stem in paired.stems:
                paired.skipped.setdefault(stem, f"{paired.sides[side][stem]}: {problem}")
    gt, pred = arrays[gt_side], arrays[pred_side]
    paired.stems = [s for s in paired.stems if s in gt and s in pred and s not in paired.skipped]
    out.gt = {s: gt[s] for s in paired.stems}
    out.pred = {s: pred[s] for s in paired.stems}
    out.fps = {s: (rates[gt_side][s], rates[pred_side][s]) for s in paired.stems}
    return out


def music_beats(
    paired: PairedInputs, audio_side: str, protocol: Mace2dProtocol, samples: Motion2dSamples
) -> None:
    """GT music beats (in the protocol's unit) and music duration of every paired stem, into ``samples``; a
    file that cannot be decoded or tracked skips its stem with the file named."""
    from benchmark.motion.music_beats import music_beats_for_protocol

    for stem in paired.stems:
        path = paired.sides[audio_side][stem]
        try:  # per-item boundary: an audio file that cannot be decoded or tracked is named and skipped
            samples.beats[stem], samples.audio_seconds[stem] = music_beats_for_protocol(path, protocol)
        except Exception as exc:
            paired.skipped[stem] = item_failure(path, exc)
    paired.stems = [s for s in paired.stems if s in samples.beats]
