"""Fixtures: a small FineDance-format folder and beat-locked (T, 315) dances, all from :mod:`ma_data.sample`,
and a click track to sample motion for (:func:`ma_data.core.synthetic.click_track`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ma_data.core.formats.motion import to_finedance_array
from ma_data.core.io.audio import write_wav
from ma_data.core.synthetic import click_track
from ma_data.sample import SampleSequence, dance_motion, write_sample

# Three short train-split sequences (the shortest, 4 s, bounds the training window in test_data.py).
SEQUENCES = (
    SampleSequence("001", "Hiphop", "Street", 120.0, 6.0, 0.7, 98.0),
    SampleSequence("002", "Popping", "Street", 100.0, 5.0, 0.9, 110.0),
    SampleSequence("003", "Jazz", "Modern", 140.0, 4.0, 0.3, 130.8),
)


@pytest.fixture(scope="session")
def finedance_dir(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("finedance"), SEQUENCES)


@pytest.fixture
def dance_array():
    """Factory: ``(n_frames, bpm, sharpness=0.7)`` -> a beat-locked (T, 315) FineDance-layout array."""

    def make(n_frames: int, bpm: float, sharpness: float = 0.7) -> np.ndarray:
        seq = SampleSequence("900", "Hiphop", "Street", bpm, n_frames / 30.0, sharpness, 98.0)
        poses, trans, _ = dance_motion(seq)
        return to_finedance_array(poses, trans)

    return make


@pytest.fixture(scope="session")
def other_music(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("music") / "other.wav"
    write_wav(path, click_track(128.0, 3.3, 22050, click_hz=880.0, noise=0.01, seed=9), 22050)
    return path
