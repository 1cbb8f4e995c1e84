"""Set-level values that can be recomputed from per-sample values, with the scorers' own arithmetic.

- 2D motion (:func:`benchmark.motion.mace2d.score_mace2d`): ``bas`` and ``bas_gt`` are
  ``float(np.mean(np.asarray(values, float64)))`` over the scored stems in sorted order; their interval is
  :func:`benchmark.stats.bootstrap_ci` with the recorded ``n_boot``/``seed`` on ``values[idx].mean()``
  (the other metrics draw from the same index stream, so recomputing two keys gives the same draws).
- Appearance (:func:`benchmark.appearance.api.score_appearance`): dimensions averaged over videos (IQ, AQ,
  MS, TF, SSIM, PSNR, LPIPS) are ``float(np.mean(values))`` over the sorted stems that have the key; the
  interval is the bootstrap of ``num[idx].sum() / den[idx].sum()`` with ``den = 1`` and seed 0. Subject and
  background consistency are weighted by each video's frame pairs, which the results do not record: their
  set value must lie between the smallest and largest per-video value. FVD is set-level (not recomputable).
- FID and Div are set-level: only re-scoring from keypoint tracks recomputes them (:mod:`.rescore`). Without
  tracks one invariant still holds: ``score_mace2d`` centres their bootstrap interval on the estimate,
  ``[max(v - h, 0), v + h]``, so a value edited without its interval is caught (:func:`centred`).

Comparisons use :func:`close` with ``rtol = 1e-9``: the recomputation repeats the same float64 operations on
the same values (JSON round-trips floats exactly), so on one machine it is bit-identical; the tolerance only
absorbs summation-order differences between numpy builds (~1e-16 relative) and is far below any edit that
changes a printed digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from benchmark.stats import bootstrap_ci

RTOL = 1e-9
ATOL = 1e-12
MEAN_OF_SAMPLES = {
    "motion2d": ("bas", "bas_gt"),
    "appearance": (
        "imaging_quality",
        "aesthetic_quality",
        "motion_smoothness",
        "temporal_flickering",
        "ssim",
        "psnr",
        "lpips",
    ),
}
WEIGHTED_MEAN = {"motion2d": (), "appearance": ("subject_consistency", "background_consistency")}
#: set-level values whose interval the scorer centres on the estimate (cut at zero)
CENTRED_INTERVAL = {
    "motion2d": ("fid_k", "fid_g", "div_k", "div_g", "div_k_gt", "div_g_gt"),
    "appearance": (),
}
MAX_VERIFY_BOOT = 10_000


def close(a: float | None, b: float | None, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Equal within tolerance; None and NaN count as the same missing value."""
    a_missing = a is None or not math.isfinite(a)
    b_missing = b is None or not math.isfinite(b)
    if a_missing or b_missing:
        return a_missing and b_missing
    return abs(a - b) <= atol + rtol * abs(b)


def point_mean(values: list[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def _motion_stat(columns: dict[str, np.ndarray]) -> Callable[[np.ndarray], dict[str, float]]:
    return lambda idx: {k: float(v[idx].mean()) for k, v in columns.items()}


def _appearance_stat(num: np.ndarray) -> Callable[[np.ndarray], dict[str, float]]:
    den = np.ones_like(num)
    return lambda idx: {"v": float(num[idx].sum() / den[idx].sum())}


def recompute_intervals(
    kind: str, columns: dict[str, list[float]], n_boot: int, seed: int
) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals of the mean-of-samples keys, exactly as the protocol's scorer computes them."""
    if kind == "motion2d":
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
        n = len(next(iter(arrays.values()))) if arrays else 0
        if not n_boot or n < 2:
            return {}
        return bootstrap_ci(_motion_stat(arrays), n, n_boot=n_boot, seed=seed)
    out = {}
    for key, values in columns.items():
        if len(values) < 2 or not n_boot:
            continue
        ci = bootstrap_ci(_appearance_stat(np.asarray(values, dtype=np.float64)), len(values), n_boot=n_boot)
        if "v" in ci:
            out[key] = ci["v"]
    return out


def centred(value: float | None, low: float | None, high: float | None) -> bool:
    """Whether ``[low, high]`` is an interval centred on ``value`` and cut at zero (or no interval at all)."""
    if value is None or low is None or high is None:
        return True
    half = high - value
    scale = max(abs(value), abs(high), 1e-300)
    return half >= -RTOL * scale and abs(low - max(value - half, 0.0)) <= ATOL + RTOL * scale
