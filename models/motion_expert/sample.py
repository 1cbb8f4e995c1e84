"""Generate a dance for a piece of music with a trained (or the official) Motion Expert.

The output length follows the music: ``T = round(duration_s * 30)`` frames (the 35-d features have one row
per 512-sample hop at 15360 Hz, trimmed to T). Generation is one non-autoregressive pass over the whole
length, as in the release.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ma_data.core.formats.motion import Motion
from ma_data.core.music_features import FPS, HOP_LENGTH, baseline_features
from ma_data.core.progress import progress_bar

from .checkpoint import LoadedExpert
from .diffusion import EditConstraint, MotionDiffusion
from .representation import decode_features


def music_frames(path: Path, fps: int = FPS) -> tuple[np.ndarray, int]:
    """(T, 35) features and T = round(duration * fps) for an audio file."""
    feats = baseline_features(path, fps=fps)
    from ma_data.core.io.audio import load_audio

    y, sr = load_audio(path, sr=fps * HOP_LENGTH)
    n = max(1, int(round(len(y) * fps / sr)))
    return feats[:n], min(n, len(feats))


def sample_motion(
    expert: LoadedExpert,
    music: np.ndarray,
    genre: int,
    beta: float = 0.75,
    steps: int = 50,
    eta: float = 1.0,
    seed: int | None = None,
    guidance: str = "gft",
    cfg_scale: float = 2.0,
    device: str = "cpu",
    constraint: EditConstraint | None = None,
    fps: float = FPS,
    progress: bool | None = None,
) -> tuple[Motion, np.ndarray]:
    """One sample for (T, 35) music features; returns (Z-up Motion with FK joints, (T, 4) contacts)."""
    model = expert.model.to(device).eval()
    diffusion = MotionDiffusion(model, normalizer=expert.normalizer)
    gen = None
    if seed is not None:
        gen = torch.Generator(device=device).manual_seed(int(seed))
    m = torch.as_tensor(np.asarray(music, np.float32), device=device)[None]
    g = torch.tensor([int(genre)], device=device)
    if constraint is not None:
        constraint = EditConstraint(constraint.mask.to(device), constraint.value.to(device))

    def bar(it):
        return progress_bar(it, wanted=progress is not False, desc="sampling", unit="step")

    x = diffusion.ddim_sample(
        m, g, steps=steps, eta=eta, beta=beta, guidance=guidance, cfg_scale=cfg_scale,
        generator=gen, constraint=constraint, progress=bar,
    )  # fmt: skip
    feats = expert.normalizer.unnormalize(x[0].float().cpu())
    return decode_features(feats, fps=fps)


def write_official_pickle(motion: Motion, path: Path) -> Path:
    """The release's per-clip output: ``smpl_poses`` (T, 72), ``smpl_trans`` (T, 3), ``full_pose`` (T, 24, 3).

    The release writes Z-up; a Y-up motion is converted first.
    """
    from ma_data.core.io.atomic import atomic_write

    m = motion.to_up_axis("z")
    payload = {
        "smpl_poses": np.asarray(m.poses, np.float32).reshape(m.n_frames, 72),
        "smpl_trans": np.asarray(m.trans, np.float32),
        "full_pose": np.asarray(m.joints(), np.float32),
    }
    with atomic_write(Path(path), "wb") as fh:
        pickle.dump(payload, fh)
    return Path(path)
