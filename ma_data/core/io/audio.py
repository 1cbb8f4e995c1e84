"""Audio decoding and resampling that reproduces librosa's loading chain without an ffmpeg binary.

For containers soundfile cannot read (mp4/m4a), librosa 0.11 falls back to audioread, which pipes the file
through the ffmpeg CLI as interleaved signed 16-bit PCM at the native rate; librosa then scales by 1/32768,
averages channels and resamples with soxr "HQ". ``load_audio`` does the same with PyAV: decode, convert to
s16, scale, mix down, resample. For wav/flac it matches soundfile's float reading exactly, as librosa does.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ma_data.core.errors import MediaError
from ma_data.core.io.atomic import atomic_path

_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif"}


def _decode_s16(path: Path) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to float32 (n, channels) via signed 16-bit PCM, as ffmpeg's CLI does."""
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:
        raise MediaError(f"{path}: cannot open media ({exc.__class__.__name__}: {exc})") from exc
    with container:
        if not container.streams.audio:
            raise MediaError(f"{path}: no audio track")
        stream = container.streams.audio[0]
        sr = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        layout = "mono" if channels == 1 else stream.codec_context.layout.name
        resampler = av.AudioResampler(format="s16", layout=layout, rate=sr)
        chunks = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, channels))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1, channels))
        except av.error.FFmpegError as exc:
            raise MediaError(f"{path}: audio decoding failed ({exc})") from exc
    if not chunks:
        raise MediaError(f"{path}: audio track has no samples")
    pcm = np.concatenate(chunks, axis=0)
    return pcm.astype(np.float32) / np.float32(32768.0), sr


def load_audio(
    path: str | os.PathLike, sr: int | None = None, mono: bool = True, res_type: str = "soxr_hq"
) -> tuple[np.ndarray, int]:
    """Load audio as float32, optionally mixed to mono and resampled to ``sr``.

    Returns ``(audio, sr)``; audio is (n,) when mono, else (channels, n) like librosa.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        import soundfile as sf

        try:
            data, native_sr = sf.read(str(path), dtype="float32", always_2d=True)
        except Exception as exc:
            raise MediaError(f"{path}: cannot read audio ({exc})") from exc
    else:
        data, native_sr = _decode_s16(path)
    y = data.T  # (channels, n)
    if mono:
        y = np.mean(y, axis=0) if y.shape[0] > 1 else y[0]
    if sr is not None and sr != native_sr:
        import librosa

        y = librosa.resample(y, orig_sr=native_sr, target_sr=sr, res_type=res_type)
    else:
        sr = native_sr
    return np.ascontiguousarray(y, dtype=np.float32), int(sr)


def write_wav(path: str | os.PathLike, audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write audio ((n,) or (n, channels)) to a wav file atomically."""
    import soundfile as sf

    path = Path(path)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.asarray(audio), sr, subtype=subtype, format="WAV")
    return path
