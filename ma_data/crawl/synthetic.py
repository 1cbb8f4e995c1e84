"""Synthetic source videos with known shot cuts, for the crawler's tests and the ``build-data`` demo.

Clearly synthetic: each shot is a flat colour field with a textured band and moving shapes (or, for a
``"static"`` shot, the same picture held still), with a tone track. The cut frames are known exactly, so
tests can check that no clip spans one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

__all__ = ["make_source_video", "shot_bounds"]

_PALETTE = [(200, 60, 50), (50, 170, 80), (60, 80, 200), (210, 180, 40), (150, 60, 170), (40, 170, 170)]


def shot_bounds(segments: Sequence[tuple[float, str]], fps: float) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` of the segments as :func:`make_source_video` writes them."""
    out, t = [], 0
    for dur, _ in segments:
        n = int(round(dur * fps))
        out.append((t, t + n))
        t += n
    return out


def _frames(segments, fps, width, height, seed) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    for si, ((start, end), (_dur, kind)) in enumerate(zip(shot_bounds(segments, fps), segments, strict=True)):
        colour = np.array(_PALETTE[(si + seed) % len(_PALETTE)], dtype=np.float32)
        texture = rng.integers(0, 60, size=(height // 8 + 1, width // 8 + 1)).repeat(8, 0).repeat(8, 1)
        base = np.empty((height, width, 3), np.float32)
        base[:] = colour
        base[: height // 4] += texture[: height // 4, :width, None]
        speed = 1.0 + si * 0.37
        for k in range(end - start):
            t = 0.0 if kind == "static" else k / fps
            img = base.copy()
            # a "dancer": a bright ellipse orbiting the centre, and a bar sweeping sideways
            cx = width / 2 + width / 4 * np.cos(2 * np.pi * 0.5 * speed * t)
            cy = height * 0.6 + height / 6 * np.sin(2 * np.pi * 0.7 * speed * t)
            mask = ((xx - cx) / (width / 10)) ** 2 + ((yy - cy) / (height / 6)) ** 2 <= 1
            img[mask] = (245, 245, 245)
            bx = int((t * width * 0.3 * speed) % width)
            img[height // 3 : height // 3 + height // 12, bx : bx + width // 8] = (20, 20, 20)
            yield np.clip(img, 0, 255).astype(np.uint8)


def make_source_video(
    path: str | os.PathLike,
    segments: Sequence[tuple[float, str]],
    fps: float = 30.0,
    width: int = 192,
    height: int = 144,
    seed: int = 0,
    audio_sr: int | None = 16000,
) -> Path:
    """Write a synthetic video whose shots are ``segments``: ``(seconds, "moving" | "static")``."""
    from ma_data.core.io.video import write_video

    audio = None
    if audio_sr:
        n = int(round(sum(int(round(d * fps)) for d, _ in segments) / fps * audio_sr))
        t = np.arange(n) / audio_sr
        beat = (np.sin(2 * np.pi * 2.0 * t) > 0.95).astype(np.float32)  # 120 bpm clicks
        audio = (0.2 * np.sin(2 * np.pi * (220 + 110 * seed) * t) + 0.3 * beat).astype(np.float32)
    return write_video(path, _frames(segments, fps, width, height, seed), fps, audio=audio, audio_sr=audio_sr)
