"""Synthetic keypoint sets with known answers (the motion protocols' test fixtures) and stick-figure videos.

:func:`make_demo_set` writes ground-truth and generated keypoint tracks (official JSON) plus GT videos (mp4, a
stick figure with click-track music at a known tempo):

- Ground truth: dancers that pause on every music beat (high BAS; quarter-pixel jitter keeps it below 1).
- Generated: the same kind of dancer with smaller moves, off-beat by half a beat, so BAS drops and the
  kinetic distribution shifts (which mace2d-official, normalising each set by its own statistics, cannot see).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ma_data.core.formats.keypoints import SKELETON_EDGES, KeypointTrack, write_official_json
from ma_data.core.io.video import write_video
from ma_data.core.synthetic import click_track, synthetic_dancer

FPS = 16.0
N_FRAMES = 96  # 6 s at 16 fps; the protocols use the first 64 frames
AUDIO_SR = 22050


def make_demo_set(root: Path, n_samples: int = 24, seed: int = 0) -> dict[str, Path]:
    """Write ``gt_keypoints/``, ``pred_keypoints/`` and ``audio/`` under ``root``; return the folders."""
    rng = np.random.default_rng(seed)
    dirs = {name: root / name for name in ("gt_keypoints", "pred_keypoints", "audio")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    for i in range(n_samples):
        stem = f"demo_{i:03d}"
        bpm = float(rng.uniform(96, 144))
        offset = float(rng.uniform(0.1, 0.4))
        music = click_track(bpm, N_FRAMES / FPS, AUDIO_SR, offset)
        # A quarter pixel of jitter, as any detector has: without it root-relative hip rows are exactly
        # constant in GT, which GT-statistics normalisation (mace2d-strict) cannot scale.
        gt = synthetic_dancer(
            N_FRAMES, FPS, bpm, rng, offset_s=offset, amplitude=float(rng.uniform(30, 50)), noise_px=0.25
        )
        pred = synthetic_dancer(
            N_FRAMES,
            FPS,
            bpm,
            rng,
            offset_s=offset,
            amplitude=float(rng.uniform(20, 40)),
            noise_px=0.25,
            phase_shift_beats=0.5,
        )
        for folder, kp in (("gt_keypoints", gt), ("pred_keypoints", pred)):
            track = KeypointTrack(data=kp, fps=FPS, width=512, height=512, extractor="synthetic")
            write_official_json(dirs[folder] / f"{stem}.json", track)
        # The official protocol reads GT music from the GT video (.mp4); ours shows the stick dancer.
        write_video(
            dirs["audio"] / f"{stem}.mp4", stick_figure_frames(gt), FPS, audio=music, audio_sr=AUDIO_SR
        )
    return dirs


def stick_figure_frames(kp: np.ndarray, size: int = 256) -> list[np.ndarray]:
    """Draw (T, 25, 3) keypoints of a 512x512 frame as white bones on black, downscaled to ``size``."""
    scale = size / 512
    frames = []
    for pts in kp[..., :2] * scale:
        img = np.zeros((size, size, 3), np.uint8)
        for a, b in SKELETON_EDGES:
            n = int(np.ceil(np.abs(pts[b] - pts[a]).max())) + 1
            xy = np.linspace(pts[a], pts[b], n).round().astype(int).clip(0, size - 1)
            img[xy[:, 1], xy[:, 0]] = 255
        frames.append(img)
    return frames
