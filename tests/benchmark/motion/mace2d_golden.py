"""The 2D parity fixture: synthetic keypoints and beats, and what the official code scores on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "mace2d_golden_inputs.npz"

# The official Evaluation-Motion code (numpy 1.26.4, scipy 1.11.2, torch CPU with 8-lane AVX2 kernels) on
# mace2d_golden_inputs.npz: 10 synthetic clips of 70 frames, (y, x, conf) rows, ~5-10% missed frames.
OFFICIAL_GOLDEN = {
    "fid_k": 90.91678215953709,
    "fid_g": 7.325796522479571,
    "div_k": 12.117776150173611,
    "div_g": 5.760515679253472,
    "div_k_gt": 12.157303873697916,
    "div_g_gt": 5.377644517686632,
    "bas": 0.17470215654034285,
    "bas_gt": 0.14456479970172542,
}


def golden_inputs() -> tuple[dict, dict, dict]:
    """(gt, pred, beats) per stem ``clipNN``: float64 (y, x, conf) keypoints and beat frame indices."""
    d = np.load(DATA)
    stems = [f"clip{i:02d}" for i in range(d["gt"].shape[0])]
    gt = {s: d["gt"][i].astype(np.float64) for i, s in enumerate(stems)}
    pred = {s: d["pred"][i].astype(np.float64) for i, s in enumerate(stems)}
    beats = {s: b[b >= 0] for s, b in zip(stems, d["beats"], strict=True)}
    return gt, pred, beats
