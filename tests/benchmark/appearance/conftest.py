"""Appearance test fixtures: small videos with known content (built by ``appearance_media.py``), and one torch
thread per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmark.appearance.appearance_media import flicker_frames, moving_frames, write_frames


@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread(one_torch_thread):
    """Tiny models run faster single-threaded on a shared CI machine."""


@pytest.fixture
def lossless_flicker_video(tmp_path: Path):
    offsets = [0, 3, 3, 10, 0, 7, 7, 1]
    frames = flicker_frames(offsets)
    return write_frames(tmp_path / "flicker.mkv", frames, codec="ffv1"), frames, offsets


@pytest.fixture
def h264_video(tmp_path: Path):
    frames = moving_frames()
    return write_frames(tmp_path / "moving.mp4", frames), frames
