"""Small synthetic videos with known content, written with PyAV (independent of OpenCV)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_frames(path: Path, frames: np.ndarray, codec: str = "libx264", fps: int = 16, **opts) -> Path:
    """Encode RGB uint8 frames (T, H, W, 3). ``codec="ffv1"`` / ``"libx264rgb"`` with qp 0 are lossless."""
    t, h, w, _ = frames.shape
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        if codec == "ffv1":
            stream.pix_fmt = "bgr0"
        elif codec == "libx264rgb":
            stream.pix_fmt = "bgr24"
            stream.options = {"qp": "0", "preset": "ultrafast"}
        else:
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "ultrafast", **opts}
        stream.thread_count = 1
        for fr in frames:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(fr), format="rgb24")
            for pkt in stream.encode(vf):
                container.mux(pkt)
        for pkt in stream.encode():
            container.mux(pkt)
    return path


def flicker_frames(offsets: list[int], h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A random textured base image plus a global per-frame brightness offset (the known flicker)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(20, 200, size=(h, w, 3), dtype=np.int16)
    return np.stack([(base + o).astype(np.uint8) for o in offsets])


def moving_frames(t: int = 12, h: int = 64, w: int = 96, seed: int = 1) -> np.ndarray:
    """A smooth gradient with a moving square and mild noise: natural-ish content for lossy codecs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for i in range(t):
        chans = [(xx * 2 + i * 3) % 256, (yy * 3) % 256, (xx + yy + i * 5) % 256]
        img = np.stack(chans, -1).astype(np.float64)
        x0 = 5 + 4 * i
        img[10:30, x0 : x0 + 20] = (230, 40, 90)
        img += rng.normal(0, 4, img.shape)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(frames)
