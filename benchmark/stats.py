"""Bootstrap confidence intervals for set-level metrics (FID, Div, BAS over a sample set)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def bootstrap_ci(
    stat_fn: Callable[[np.ndarray], dict[str, float]],
    n_items: int,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap over items: resample item indices with replacement and recompute every metric.

    ``stat_fn(indices)`` returns the set-level metrics for the items at ``indices`` (repeats allowed). Returns
    ``{metric: (low, high)}``; a metric that is non-finite in more than half of the resamples gets (nan, nan).
    The seed makes intervals reproducible.
    """
    if n_items < 2 or n_boot <= 0:
        return {}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        idx = rng.integers(0, n_items, size=n_items)
        for key, value in stat_fn(idx).items():
            draws.setdefault(key, []).append(float(value))
    out = {}
    for key, values in draws.items():
        arr = np.asarray(values, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        if finite.size * 2 < arr.size:
            out[key] = (float("nan"), float("nan"))
            continue
        lo, hi = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
        out[key] = (float(lo), float(hi))
    return out
