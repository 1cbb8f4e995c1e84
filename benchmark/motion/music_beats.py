"""Music beats for the 2D motion protocols, computed from the GT clip's audio as the official script does.

``Evaluation-Motion/calculate_metric.py`` (``load_valid_beats``) runs::

    y, sr = librosa.load(mp4, sr=8320)                 # audioread -> ffmpeg CLI -> s16 -> /32768, soxr_hq
    _, frames = librosa.beat.beat_track(y=y, sr=sr)    # hop 512, start_bpm 120, tightness 100, trim
    idx = (librosa.frames_to_time(frames, sr=sr) * 16).astype(int)

and keeps the indices below 64 in a 0/1 vector (so duplicates collapse). We decode with
:func:`ma_data.io.audio.load_audio`, which reproduces the audioread/ffmpeg chain with PyAV (no ffmpeg binary
needed; the same libavcodec applies the AAC priming/edit-list trimming), then call the same librosa functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.protocols import Protocol
from ma_data.errors import MaceError, MediaError

__all__ = ["beat_times_to_frames", "music_beat_frames", "music_beat_times"]

_DEFAULT_BEAT_TRACK = {"hop_length": 512, "start_bpm": 120.0, "tightness": 100, "trim": True}


def music_beat_times(
    path: str | os.PathLike,
    sr: int = 8320,
    beat_track: dict[str, Any] | None = None,
) -> np.ndarray:
    """Beat times (seconds, float64) of the audio in ``path`` (any container PyAV/soundfile reads).

    Raises :class:`MediaError` naming the file when it cannot be decoded or has no audio.
    """
    import librosa

    from ma_data.io.audio import load_audio

    path = Path(path)
    opts = dict(_DEFAULT_BEAT_TRACK if beat_track is None else beat_track)
    y, sr_out = load_audio(path, sr=sr)
    if y.size == 0:
        raise MediaError(f"{path}: audio track has no samples")
    try:
        _, frames = librosa.beat.beat_track(y=y, sr=sr_out, **opts)
    except Exception as exc:  # librosa raises ParameterError etc. on degenerate input
        raise MediaError(f"{path}: beat extraction failed ({exc.__class__.__name__}: {exc})") from exc
    return np.asarray(librosa.frames_to_time(frames, sr=sr_out, hop_length=opts["hop_length"]), np.float64)


def beat_times_to_frames(times: np.ndarray, fps: float, n_frames: int | None = None) -> np.ndarray:
    """Frame indices ``int(t * fps)`` (truncation, as ``astype(int)``), unique and sorted; with ``n_frames``
    only indices below it are kept (the official 0/1 beat vector of length 64)."""
    idx = (np.asarray(times, dtype=np.float64) * fps).astype(np.int64)
    if n_frames is not None:
        idx = idx[idx < n_frames]
    return np.unique(idx)


def music_beat_frames(path: str | os.PathLike, protocol: Protocol) -> np.ndarray:
    """GT music beats in the protocol's beat unit.

    - ``mace2d-official`` (``beats_unit == "frames"``): unique frame indices ``int(t * 16)`` below 64.
    - ``mace2d-strict`` (``beats_unit == "seconds"``): beat times in seconds (the strict scorer compares in
      seconds so clips at any frame rate are treated alike).

    Raises :class:`MaceError` (with the file name) when the beats cannot be extracted; the caller skips the
    stem, as the official script does.
    """
    params = protocol.params
    try:
        times = music_beat_times(path, sr=int(params["audio_sr"]), beat_track=params.get("beat_track"))
    except MaceError:
        raise
    except Exception as exc:
        raise MediaError(f"{path}: beat extraction failed ({exc.__class__.__name__}: {exc})") from exc
    if params.get("beats_unit", "frames") == "seconds":
        return times
    n_frames = params.get("n_frames")
    return beat_times_to_frames(times, float(params["fps"]), int(n_frames) if n_frames else None)
