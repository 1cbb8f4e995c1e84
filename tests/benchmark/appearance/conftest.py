"""Appearance test fixtures (helpers live in ``appearance_media.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from appearance_media import h264_video, lossless_flicker_video  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run faster single-threaded on a shared CI machine; restore the setting afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
