"""Fixtures: a small synthetic FineDance directory (motion/NNN.npy (T,315), music_wav/NNN.wav, label_json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ma_data.core.body.rotations import axis_angle_to_rotation_6d

N_SMPLH = 52


def synthetic_dance(n_frames: int, bpm: float, seed: int) -> np.ndarray:
    """A (T, 315) FineDance-layout array: periodic joint swings locked to the beat, Y-up root path."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / 30.0
    phase = 2 * np.pi * (bpm / 60.0) * t
    axes = rng.normal(size=(N_SMPLH, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    amp = rng.uniform(0.1, 0.6, size=N_SMPLH)
    offs = rng.uniform(0, 2 * np.pi, size=N_SMPLH)
    aa = (amp[None, :, None] * np.sin(phase[:, None] + offs[None])[..., None]) * axes[None]
    aa[:, 0] += np.array([0.0, 0.3, 0.0]) * np.sin(0.5 * phase)[:, None]  # root turns about +Y
    trans = np.stack(
        [0.4 * np.sin(0.25 * phase), 0.9 + 0.05 * np.sin(2 * phase), 0.4 * np.cos(0.25 * phase)], 1
    )
    rot6d = axis_angle_to_rotation_6d(aa).reshape(n_frames, N_SMPLH * 6)
    return np.concatenate([trans, rot6d], axis=1).astype(np.float32)


def click_track(seconds: float, bpm: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = 0.01 * rng.normal(size=int(seconds * sr))
    for beat in np.arange(0, seconds, 60.0 / bpm):
        i = int(beat * sr)
        n = min(len(y) - i, 800)
        y[i : i + n] += 0.8 * np.exp(-np.arange(n) / 120.0) * np.sin(2 * np.pi * 880 * np.arange(n) / sr)
    return y.astype(np.float32)


def write_finedance(root: Path, specs: list[tuple[str, float, float, str]]) -> Path:
    """specs: (seq_id, seconds, bpm, style2). Returns root."""
    for sub in ("motion", "music_wav", "label_json"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for k, (seq_id, seconds, bpm, genre) in enumerate(specs):
        np.save(root / "motion" / f"{seq_id}.npy", synthetic_dance(int(seconds * 30), bpm, seed=k))
        sf.write(root / "music_wav" / f"{seq_id}.wav", click_track(seconds, bpm, seed=k), 22050)
        label = {"name": f"song{seq_id}", "style1": "Modern", "style2": genre}
        (root / "label_json" / f"{seq_id}.json").write_text(json.dumps(label))
    return root


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is as fast, and immune to oversubscribed shared CPUs."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def finedance_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("finedance")
    return write_finedance(
        root, [("001", 6.0, 120, "Hiphop"), ("002", 5.0, 100, "Popping"), ("003", 4.0, 140, "Jazz")]
    )


@pytest.fixture
def dance_array():
    """Factory: (n_frames, bpm, seed) -> a (T, 315) FineDance-layout array."""
    return synthetic_dance


@pytest.fixture(scope="session")
def other_music(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("music") / "other.wav"
    sf.write(path, click_track(3.3, 128, seed=9), 22050)
    return path
