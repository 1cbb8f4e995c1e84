"""The per-sample beat-alignment plot is a real PNG for both protocols."""

from __future__ import annotations

import numpy as np

from benchmark.motion.mace2d import MACE2D_OFFICIAL, MACE2D_STRICT
from benchmark.motion.plots import plot_beat_alignment


def _track(t=80):
    rng = np.random.default_rng(0)
    kp = np.zeros((t, 25, 3))
    kp[:, :, :2] = 300 + 20 * np.sin(np.arange(t)[:, None, None] / 3.0 + rng.uniform(0, 6, (1, 25, 2)))
    kp[:, :, 2] = 1
    kp[10] = 0  # a missed frame
    return kp


def test_plot_official_and_strict(tmp_path):
    kp = _track()
    out = plot_beat_alignment(kp, np.array([8, 16, 24, 70]), MACE2D_OFFICIAL, tmp_path / "a.png", title="a")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out2 = plot_beat_alignment(
        kp, np.array([0.5, 1.0, 1.5]), MACE2D_STRICT, tmp_path / "sub" / "b.png", gt_kp=kp + 1, fps=16
    )
    assert out2.stat().st_size > 1000
