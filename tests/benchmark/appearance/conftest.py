"""Appearance test fixtures (helpers live in ``appearance_media.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from appearance_media import h264_video, lossless_flicker_video  # noqa: E402,F401
