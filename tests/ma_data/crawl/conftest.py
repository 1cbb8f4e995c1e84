"""Fixtures for the crawler tests: synthetic sources with known cuts, served by the loopback fault server."""

from __future__ import annotations

import os

import pytest

from ma_data.crawl.synthetic import make_source_video, shot_bounds

#: name -> (segments, seed). good_a/good_b have hard cuts at known frames; still is one static shot. The
#: *2 videos have the same cuts but other pictures (other bytes: another source, as every video is named by
#: its content when a page has no site id).
SOURCES = {
    "good_a.mp4": ([(5.5, "moving"), (2.0, "moving"), (6.0, "moving")], 1),
    "good_b.mp4": ([(7.0, "moving"), (5.2, "moving")], 2),
    "still.mp4": ([(6.0, "static")], 3),
    "good_a2.mp4": ([(5.5, "moving"), (2.0, "moving"), (6.0, "moving")], 4),
    "good_b2.mp4": ([(7.0, "moving"), (5.2, "moving")], 5),
}
FPS = 30.0


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    """name -> (path, shot bounds in frames)."""
    os.environ.setdefault("MACE_DANCE_NO_PROGRESS", "1")
    root = tmp_path_factory.mktemp("crawl_sources")
    out = {}
    for name, (segments, seed) in SOURCES.items():
        path = make_source_video(root / name, segments, fps=FPS, width=128, height=96, seed=seed)
        out[name] = (path, shot_bounds(segments, FPS))
    return out
