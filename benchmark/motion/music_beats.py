"""Music beats for the 2D motion protocols, computed from the GT clip's audio as the official script does.

``Evaluation-Motion/calculate_metric.py`` (``load_valid_beats``) runs::

    y, sr = librosa.load(mp4, sr=8320)                 # audioread -> ffmpeg CLI -> s16 -> /32768, soxr_hq
    _, frames = librosa.beat.beat_track(y=y, sr=sr)    # hop 512, start_bpm 120, tightness 100, trim
    idx = (librosa.frames_to_time(frames, sr=sr) * 16).astype(int)

and keeps the indices below 64 in a 0/1 vector (so duplicates collapse). We decode with
:func:`ma_data.core.io.audio.load_audio`, which reproduces the audioread/ffmpeg chain with PyAV (no ffmpeg binary
needed; the same libavcodec applies the AAC priming/edit-list trimming), then call the same librosa functions.

Verified against librosa 0.11 ``librosa.load`` (audioread -> Debian ffmpeg 5.1 CLI) on AAC mp4 clips with and
without edit lists: same length and alignment; about 1e-4 of the samples differ by one 16-bit step because
the AAC decoders of different FFmpeg releases differ by ~1e-8 before rounding; beat frames identical.

Beat times are cached on disk (:class:`ma_data.core.cache.ContentCache` ``beats``, under ``$MACE_DANCE_CACHE``
or ``~/.cache/mace-dance``), keyed by the audio file's sha256, the sample rate, the beat-tracker settings and the
librosa/PyAV versions, so a re-run or a second protocol does not decode and track the same song again.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.motion.protocols2d import BeatsUnit, BeatTrack, Mace2dProtocol
from ma_data.core.cache import ContentCache, settings_tag
from ma_data.core.errors import MaceError, MediaError

__all__ = [
    "beat_times_to_frames",
    "music_beat_frames",
    "music_beat_times",
    "music_beat_times_and_duration",
    "music_beats_for_protocol",
]

_DEFAULT_BEAT_TRACK = dataclasses.asdict(BeatTrack())


_BEATS = ContentCache("beats", ".npz")


def _cache_key(path: Path, sr: int, opts: dict[str, Any]) -> tuple[str, str] | None:
    """(audio sha256, settings tag) naming the cache entry, or None when the library versions are unknown."""
    from importlib import metadata

    from ma_data.core.io.atomic import sha256_file

    try:
        versions = {pkg: metadata.version(pkg) for pkg in ("librosa", "av", "soxr")}
    except metadata.PackageNotFoundError:
        return None
    # "layout" 2: an npz holding the beat times and the decoded duration.
    tag = settings_tag({"sr": sr, "beat_track": opts, "versions": versions, "layout": 2})
    return sha256_file(path), tag


def _load_entry(path: Path) -> tuple[np.ndarray, float]:
    with np.load(path, allow_pickle=False) as entry:
        return np.asarray(entry["times"], dtype=np.float64), float(entry["duration"])


def music_beat_times(
    path: str | os.PathLike,
    sr: int = 8320,
    beat_track: dict[str, Any] | None = None,
    cache: bool = True,
) -> np.ndarray:
    """Beat times (seconds, float64) of the audio in ``path`` (any container PyAV/soundfile reads).

    ``librosa.beat.beat_track`` with the given settings (defaults: hop 512, start_bpm 120, tightness 100,
    trim) on the mono signal resampled to ``sr`` with soxr HQ, then ``frames_to_time``. Raises
    :class:`MediaError` naming the file when it cannot be decoded or has no audio.
    """
    return music_beat_times_and_duration(path, sr, beat_track, cache)[0]


def music_beat_times_and_duration(
    path: str | os.PathLike,
    sr: int = 8320,
    beat_track: dict[str, Any] | None = None,
    cache: bool = True,
) -> tuple[np.ndarray, float]:
    """:func:`music_beat_times` and the audio's decoded duration in seconds (samples / ``sr``)."""
    import librosa

    from ma_data.core.io.audio import load_audio

    path = Path(path)
    opts = dict(_DEFAULT_BEAT_TRACK if beat_track is None else beat_track)
    key = _cache_key(path, sr, opts) if cache and path.is_file() else None
    if key is not None and (hit := _BEATS.get(*key, _load_entry)) is not None:
        return hit
    y, sr_out = load_audio(path, sr=sr)
    if y.size == 0:
        raise MediaError(f"{path}: audio track has no samples")
    try:
        _, frames = librosa.beat.beat_track(y=y, sr=sr_out, **opts)
    except Exception as exc:  # librosa raises ParameterError etc. on degenerate input
        raise MediaError(f"{path}: beat extraction failed ({exc.__class__.__name__}: {exc})") from exc
    times = np.asarray(librosa.frames_to_time(frames, sr=sr_out, hop_length=opts["hop_length"]), np.float64)
    duration = float(y.shape[-1] / sr_out)
    if key is not None:
        _BEATS.put(*key, lambda tmp: np.savez(tmp, times=times, duration=np.float64(duration)))
    return times, duration


def beat_times_to_frames(times: np.ndarray, fps: float, n_frames: int | None = None) -> np.ndarray:
    """Frame indices ``int(t * fps)`` (truncation, as ``astype(int)``), unique and sorted; with ``n_frames``
    only indices below it are kept (the official 0/1 beat vector of length 64)."""
    idx = (np.asarray(times, dtype=np.float64) * fps).astype(np.int64)
    if n_frames is not None:
        idx = idx[idx < n_frames]
    return np.unique(idx)


def music_beat_frames(path: str | os.PathLike, protocol: Mace2dProtocol) -> np.ndarray:
    """GT music beats in the protocol's beat unit (see :func:`music_beats_for_protocol`)."""
    return music_beats_for_protocol(path, protocol)[0]


def music_beats_for_protocol(path: str | os.PathLike, protocol: Mace2dProtocol) -> tuple[np.ndarray, float]:
    """GT music beats in the protocol's beat unit.

    - beats in frames (``mace2d-official``): unique frame indices ``int(t * fps)`` below ``n_frames`` (16 fps,
      64 frames);
    - beats in seconds (``mace2d-strict``): beat times in seconds (the strict scorer compares in seconds so
      clips at any frame rate are treated alike).

    The audio is decoded at ``audio_sr`` and tracked with ``beat_track``. Also returns the audio's duration
    in seconds (the strict protocol leaves BAS undefined when the music is shorter than the scored window).
    Raises :class:`MaceError` (with the file name) when the beats cannot be extracted; the caller skips the
    stem, as the official script does.
    """
    try:
        times, duration = music_beat_times_and_duration(
            path, sr=int(protocol.audio_sr), beat_track=dataclasses.asdict(protocol.beat_track)
        )
    except MaceError:
        raise
    except Exception as exc:
        raise MediaError(f"{path}: beat extraction failed ({exc.__class__.__name__}: {exc})") from exc
    if protocol.beats_unit is BeatsUnit.SECONDS:
        return times, duration
    n_frames = protocol.n_frames
    return beat_times_to_frames(times, float(protocol.fps), int(n_frames) if n_frames else None), duration
