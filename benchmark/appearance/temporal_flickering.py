"""VBench ``temporal_flickering`` (TF), reproduced to float32 bit-parity.

What VBench does (``vbench/temporal_flickering.py``):

1. decode every frame with ``cv2.VideoCapture`` (BGR uint8, native size, no frame sampling);
2. for each consecutive pair, ``np.mean(cv2.absdiff(float32(a), float32(b)))``: a float32 mean over
   H x W x 3 (numpy's pairwise float32 summation);
3. the per-pair values form a float32 array whose float32 ``np.mean`` is the video's MAE;
4. video score = (255 - MAE) / 255 in float64; the dimension is the plain mean over videos;
   a video with no decodable frame is skipped (VBench catches the ``assert frames != []``).

We stream the frames (one previous frame in memory) instead of holding the whole video; every arithmetic
step keeps VBench's dtypes and array layouts, so the per-pair float32 means are bit-identical.
``|a - b|`` of integer-valued float32 inputs is exact, so ``np.abs(a - b)`` equals ``cv2.absdiff``.

Measured parity: OpenCV 4.10 and 5.0 decode H.264 test clips to identical bytes, and with the same numpy the
score is bit-identical to VBench's code. numpy 1.26 (VBench pins numpy<2) and numpy 2.x sum float32 arrays
in a different order, which moved one test clip's score by 1.8e-8 relative (far inside 1e-6).

Deviation (documented): VBench returns NaN for a one-frame video (mean of an empty array) and crashes on a
mid-video size change; we raise :class:`MediaError` for both so the video is reported as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from benchmark.appearance.decode import iter_frames_bgr
from ma_data.core.errors import MediaError


def pair_mae(a: np.ndarray, b: np.ndarray) -> np.float32:
    """Float32 mean absolute difference of two uint8 frames, as VBench's ``calculate_mae``."""
    fa = np.asarray(a, dtype=np.float32)
    fb = np.asarray(b, dtype=np.float32)
    return np.mean(np.abs(fa - fb))


def mae_sequence(frames: Iterable[np.ndarray], source: str = "<frames>") -> np.ndarray:
    """Per-consecutive-pair MAEs (float32 array of length T-1) from an iterable of frames."""
    maes: list[np.float32] = []
    prev = None
    for frame in frames:
        cur = np.asarray(frame, dtype=np.float32)
        if prev is not None:
            if cur.shape != prev.shape:
                raise MediaError(f"{source}: frame size changes mid-video ({prev.shape} -> {cur.shape})")
            maes.append(np.mean(np.abs(prev - cur)))
        prev = cur
    if prev is None:
        raise MediaError(f"{source}: OpenCV decoded no frames (unreadable or empty video)")
    if not maes:
        raise MediaError(f"{source}: only one frame; temporal flickering needs at least two")
    return np.array(maes)


def score_from_maes(maes: np.ndarray) -> float:
    """Video score (255 - mean MAE) / 255 with VBench's float32 mean then float64 arithmetic."""
    return (255.0 - np.mean(np.asarray(maes, dtype=np.float32)).item()) / 255.0


def temporal_flickering_frames(frames: Iterable[np.ndarray], source: str = "<frames>") -> float:
    """TF score of a decoded frame sequence; bit-identical to VBench for OpenCV's BGR frames in order."""
    return score_from_maes(mae_sequence(frames, source))


def temporal_flickering_video(path: str | Path) -> float:
    """TF score of one video file, decoding it with OpenCV exactly as VBench does."""
    return temporal_flickering_frames(iter_frames_bgr(path), source=str(path))


def aggregate(scores: Iterable[float]) -> float:
    """Dimension value: the plain mean over videos (``np.mean`` of Python floats, as VBench)."""
    values = list(scores)
    if not values:
        raise ValueError("no video scores to aggregate")
    return float(np.mean(values))
