"""Windows inside shots, and the frame-accurate re-encode of each window to the clip policy.

Windows come from the shared slicer (:mod:`ma_data.slicing`: seeded random lengths and offsets), run on each
kept shot separately, on the *clip* frame timeline (``policy.fps``). A shot ``[a, b)`` in source frames
becomes ``[ceil(a * fps / src_fps), floor(b * fps / src_fps))`` on that timeline, so every source frame a
clip shows lies inside the shot: no clip spans a cut. Strides are at least the longest window, so clips of a
shot do not overlap (each is distinct footage; the crawler has no need for overlap augmentation).

Clip policy (``ClipPolicy``): H.264 (libx264, CRF 18, yuv420p) at a fixed frame rate (30 fps; output frame
``j`` shows the source frame on screen at time ``j / fps``: frame-accurate, no interpolation); the short side
scaled to 720 px (never upscaled; both sides even) with the aspect ratio kept; the source audio of exactly
the same span, mono, as AAC. Every written clip is probed (frame count, audio) before it is recorded.

Clip lengths are drawn in [5.0, 9.9] s: 9.9 rather than 10 because AAC pads its last frame (1024 samples),
which can make a container's duration a few tens of ms longer than its video; every clip stays within
[5, 10] s however it is measured.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ma_data.core.errors import MediaError
from ma_data.curation.dedupe import clip_signature
from ma_data.curation.shots import Shot
from ma_data.slicing import ClipSpec, SlicingConfig, slice_source

__all__ = ["ClipPolicy", "Window", "draw_windows", "output_size", "write_clips"]


@dataclass(frozen=True)
class ClipPolicy:
    fps: float = 30.0
    short_side: int = 720
    upscale: bool = False
    crf: int = 18
    min_len_s: float = 5.0
    max_len_s: float = 9.9
    max_gap_s: float = 2.0  # random gap between consecutive windows, and the largest first offset
    audio: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Window:
    """A clip: ``spec`` on the clip timeline, plus the source-frame bounds of its shot ``[src_lo, src_hi)``."""

    shot_index: int
    spec: ClipSpec
    src_lo: int
    src_hi: int

    @property
    def n_frames(self) -> int:
        return self.spec.n_frames


def draw_windows(
    shots: list[Shot], src_fps: float, policy: ClipPolicy, seed: int, source_id: str
) -> list[Window]:
    """Seeded random windows inside each shot (see the module docstring)."""
    out: list[Window] = []
    for si, shot in enumerate(shots):
        lo = math.ceil(shot.start * policy.fps / src_fps - 1e-9)
        hi = math.floor(shot.end * policy.fps / src_fps + 1e-9)
        if hi - lo <= 0:
            continue
        # The first offset never eats the only window: a shot of >= min_len_s always gives a clip.
        slack = max(0, hi - lo - math.ceil(policy.min_len_s * policy.fps - 1e-9)) / policy.fps
        cfg = SlicingConfig(
            min_len_s=policy.min_len_s,
            max_len_s=policy.max_len_s,
            min_stride_s=policy.max_len_s,
            max_stride_s=policy.max_len_s + policy.max_gap_s,
            max_offset_s=min(policy.max_gap_s, slack),
            seed=seed,
        )
        for c in slice_source(f"{source_id}/shot{si:04d}", hi - lo, policy.fps, cfg, subset="internet"):
            spec = ClipSpec("internet", source_id, lo + c.start_frame, lo + c.end_frame, policy.fps)
            out.append(Window(si, spec, shot.start, shot.end))
    return out


def output_size(width: int, height: int, policy: ClipPolicy) -> tuple[int, int]:
    """(width, height) after scaling the short side to ``policy.short_side`` (never up unless allowed)."""
    short = min(width, height)
    target = policy.short_side if (policy.upscale or short > policy.short_side) else short
    scale = target / short
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def source_index(window: Window, j: int, src_fps: float, out_fps: float) -> int:
    """Source frame on screen at clip-timeline frame ``j`` (frame-accurate), clamped inside the shot."""
    idx = int(math.floor(j * src_fps / out_fps + 1e-6))
    if not window.src_lo <= idx < window.src_hi:
        idx = min(max(idx, window.src_lo), window.src_hi - 1)
    return idx


def write_clips(
    source: str | os.PathLike,
    windows: list[Window],
    src_fps: float,
    out_paths: list[Path],
    policy: ClipPolicy,
    audio: tuple[np.ndarray, int] | None = None,
) -> list[dict]:
    """Encode each window of ``source`` to its path in one decoding pass; return a probe record per clip.

    ``audio``: the source's mono audio and rate (None: clips without audio). Windows must not overlap.
    """
    import cv2

    from ma_data.core.io.video import iter_frames, probe_video, write_video

    order = sorted(range(len(windows)), key=lambda i: windows[i].spec.start_frame)
    for a, b in zip(order[:-1], order[1:], strict=True):
        if windows[a].spec.end_frame > windows[b].spec.start_frame:
            raise ValueError("clip windows overlap")
    frames_it = enumerate(iter_frames(source))
    current: tuple[int, np.ndarray] | None = None
    records: dict[int, dict] = {}

    def frame_at(index: int) -> np.ndarray:
        nonlocal current
        while current is None or current[0] < index:
            try:
                current = next(frames_it)
            except StopIteration:
                raise MediaError(f"{source}: ended before frame {index}") from None
        return current[1]

    for wi in order:
        win = windows[wi]
        spec = win.spec
        n_out = spec.n_frames
        first = frame_at(source_index(win, spec.start_frame, src_fps, policy.fps))
        w, h = output_size(first.shape[1], first.shape[0], policy)
        sig_at = set(np.linspace(0, n_out - 1, num=min(5, n_out)).round().astype(int).tolist())
        sampled: list[np.ndarray] = []

        def gen(win: Window = win, w: int = w, h: int = h, sig_at: set = sig_at, sampled: list = sampled):
            for k, j in enumerate(range(win.spec.start_frame, win.spec.end_frame)):
                frame = frame_at(source_index(win, j, src_fps, policy.fps))
                if frame.shape[1] != w or frame.shape[0] != h:
                    frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
                if k in sig_at:
                    sampled.append(frame)
                yield frame

        clip_audio = None
        sr = None
        if audio is not None and policy.audio:
            samples, sr = audio
            a0 = int(round(spec.start_s * sr))
            clip_audio = samples[a0 : a0 + int(round(spec.duration_s * sr))]
            if len(clip_audio) == 0:
                clip_audio, sr = None, None
        path = out_paths[wi]
        write_video(path, gen(), policy.fps, audio=clip_audio, audio_sr=sr, crf=policy.crf)
        info = probe_video(path)
        if info.n_frames != n_out:
            raise MediaError(f"{path}: wrote {info.n_frames} frames, expected {n_out}")
        records[wi] = {
            "n_frames": n_out,
            "width": info.width,
            "height": info.height,
            "has_audio": info.has_audio,
            "phash": clip_signature(sampled),
            "audio": clip_audio,
            "audio_sr": sr,
        }
    return [records[i] for i in range(len(windows))]
