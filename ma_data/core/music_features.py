"""The 35-d "baseline" music features of EDGE / FineDance / MACE-Dance, and beat vectors at a motion fps.

Recipe (EDGE ``data/audio_extraction/baseline_features.py``, also FineDance ``music_npy`` and MACE-Dance's
``baseline_feats``):

- audio loaded mono at ``sr = fps * 512`` (15360 Hz for 30 fps), hop 512: one feature frame per motion frame;
- columns, in order: onset-strength envelope (1), MFCC n_mfcc=20 (20), chroma_cens n_chroma=12 (12),
  onset-peak one-hot from ``onset_detect`` on the envelope (1) [column 33], beat one-hot from ``beat_track``
  on the envelope with ``tightness=100`` (1) [column 34];
- ``start_bpm`` for the beat tracker: AIST++ music names encode it (``mBR0`` -> 80 BPM ...); otherwise
  librosa's tempo estimate on a separate default-rate (22050 Hz) load of the file (EDGE, FineDance names).

librosa is pinned to 0.11.0 because beat tracking is not stable across versions.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError, MediaError

HOP_LENGTH = 512
FPS = 30
SR = FPS * HOP_LENGTH  # 15360
N_FEATURES = 35
#: Column indices in the 35-d feature matrix.
ENVELOPE_COL, MFCC_COLS, CHROMA_COLS, ONSET_COL, BEAT_COL = 0, slice(1, 21), slice(21, 33), 33, 34

_AIST_MUSIC = re.compile(r"^m(BR|PO|LO|MH|LH|WA|KR|JS|JB|HO)(\d)$")


def aist_start_bpm(name: str) -> float | None:
    """BPM encoded in an AIST++ sequence name (``gBR_sBM_cAll_d04_mBR0_ch01`` -> 80), else None.

    Like EDGE, only the fifth ``_``-separated field is read, so a bare ``mBR0.wav`` falls back to the tempo
    estimate exactly as it does there.
    """
    parts = Path(name).stem.split("_")
    m = _AIST_MUSIC.match(parts[4]) if len(parts) > 4 else None
    if m is None:
        return None
    genre, digit = m.group(1), int(m.group(2))
    return float(digit * 5 + 110) if genre == "HO" else float(digit * 10 + 80)


def _librosa():
    import librosa

    return librosa


def estimate_start_bpm(path: str | os.PathLike) -> float:
    """librosa's tempo estimate on a default-rate (22050 Hz) load: EDGE's fallback for non-AIST names."""
    from ma_data.core.io.audio import load_audio

    y, sr = load_audio(path, sr=22050)
    return float(_librosa().feature.tempo(y=y, sr=sr)[0])


def onehot(indices: np.ndarray, n: int) -> np.ndarray:
    """A float32 0/1 vector of length n with ones at ``indices`` (indices >= n dropped)."""
    v = np.zeros(n, dtype=np.float32)
    idx = np.asarray(indices, dtype=np.int64)
    v[idx[(idx >= 0) & (idx < n)]] = 1.0
    return v


def baseline_features_from_audio(
    y: np.ndarray, fps: int = FPS, start_bpm: float = 120.0, n_frames: int | None = None
) -> np.ndarray:
    """The (T, 35) float32 features from mono audio already sampled at ``fps * 512`` Hz."""
    lr = _librosa()
    sr = fps * HOP_LENGTH
    y = np.asarray(y, dtype=np.float32)
    envelope = lr.onset.onset_strength(y=y, sr=sr)
    mfcc = lr.feature.mfcc(y=y, sr=sr, n_mfcc=20).T
    chroma = lr.feature.chroma_cens(y=y, sr=sr, hop_length=HOP_LENGTH, n_chroma=12).T
    peaks = lr.onset.onset_detect(onset_envelope=envelope.flatten(), sr=sr, hop_length=HOP_LENGTH)
    _, beats = lr.beat.beat_track(
        onset_envelope=envelope, sr=sr, hop_length=HOP_LENGTH, start_bpm=start_bpm, tightness=100
    )
    n = len(envelope)
    feats = np.concatenate(
        [envelope[:, None], mfcc[:n], chroma[:n], onehot(peaks, n)[:, None], onehot(beats, n)[:, None]],
        axis=-1,
    ).astype(np.float32)
    return feats if n_frames is None else feats[:n_frames]


def baseline_features(
    path: str | os.PathLike,
    fps: int = FPS,
    start_bpm: float | None = None,
    n_frames: int | None = None,
) -> np.ndarray:
    """(T, 35) float32 baseline features of an audio file, one row per motion frame at ``fps``.

    ``start_bpm`` defaults to the AIST++ name BPM or the librosa tempo estimate (see module docstring).
    ``n_frames`` trims to the motion length (``min(len_music, len_motion)`` as EDGE/FineDance do).
    """
    from ma_data.core.io.audio import load_audio

    path = Path(path)
    y, _ = load_audio(path, sr=fps * HOP_LENGTH)
    if y.size == 0:
        raise MediaError(f"{path}: audio is empty")
    if start_bpm is None:
        start_bpm = aist_start_bpm(path.name) or estimate_start_bpm(path)
    return baseline_features_from_audio(y, fps=fps, start_bpm=start_bpm, n_frames=n_frames)


def beat_frames_lodge(path: str | os.PathLike) -> np.ndarray:
    """Music-beat frame indices (30 fps) the way LODGE's FineDance BAS computes them, quirks included.

    ``metric/beat_align_score.py``: load at 15360 Hz, onset envelope, ``start_bpm`` from
    ``librosa.beat.tempo`` called on the 15360 Hz samples but with librosa's default ``sr=22050`` (so the
    estimate is scaled by 22050/15360), ``beat_track(tightness=100)``. The whole song is tracked:
    a slicing slip (``librosa.load(...)[:length]`` slices the (audio, sr) tuple) leaves beats uncut.
    """
    from ma_data.core.io.audio import load_audio

    lr = _librosa()
    path = Path(path)
    y, _ = load_audio(path, sr=SR)
    if y.size == 0:
        raise MediaError(f"{path}: audio is empty")
    envelope = lr.onset.onset_strength(y=y, sr=SR)
    start_bpm = float(lr.feature.tempo(y=y)[0])  # sr left at 22050 on purpose (reference quirk)
    _, beats = lr.beat.beat_track(
        onset_envelope=envelope, sr=SR, hop_length=HOP_LENGTH, start_bpm=start_bpm, tightness=100
    )
    return np.asarray(beats, dtype=np.int64)


def beat_vector(
    path: str | os.PathLike,
    fps: int = FPS,
    n_frames: int | None = None,
    recipe: str = "edge",
    start_bpm: float | None = None,
) -> np.ndarray:
    """A 0/1 float32 music-beat vector at ``fps``.

    recipe "edge": column 34 of the baseline features (MACE-Dance's and EDGE's beats).
    recipe "lodge": LODGE's FineDance BAS beats (30 fps only), see ``beat_frames_lodge``.
    ``n_frames`` pads with zeros or trims to that length; None keeps the song length.
    """
    if recipe == "edge":
        v = baseline_features(path, fps=fps, start_bpm=start_bpm)[:, BEAT_COL]
    elif recipe == "lodge":
        if fps != FPS:
            raise ConfigError("the 'lodge' beat recipe is defined at 30 fps only")
        beats = beat_frames_lodge(path)
        n = int(beats.max()) + 1 if len(beats) else 0
        v = onehot(beats, max(n, n_frames or 0))
    else:
        raise ConfigError(f"unknown beat recipe {recipe!r} (expected 'edge' or 'lodge')")
    if n_frames is not None:
        v = v[:n_frames] if len(v) >= n_frames else np.pad(v, (0, n_frames - len(v)))
    return v.astype(np.float32)


def beat_indices(vector: np.ndarray) -> np.ndarray:
    """Frame indices of the ones in a 0/1 beat vector."""
    return np.flatnonzero(np.asarray(vector).astype(bool))
