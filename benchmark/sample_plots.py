"""Distributions of per-sample metrics, generated vs ground truth, drawn from a results document.

A consumer of results (schema 2.0): every metric with per-sample values (``bas``, ``temporal_flickering``,
``ssim``, ``pfc`` ...) becomes one series, paired with its ground-truth counterpart (``<key>_gt``) when the
protocol scores the GT samples too. :func:`distribution_pngs` draws each series as overlaid histograms with
the individual samples as ticks (matplotlib Agg, PNG bytes, for the HTML report).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Series", "distribution_pngs", "per_sample_series"]


@dataclass
class Series:
    key: str
    label: str
    generated: list[float]
    gt: list[float] | None


def _finite(values: list[Any]) -> list[float]:
    return [
        float(v)
        for v in values
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ]


def per_sample_series(results: dict[str, Any]) -> list[Series]:
    """One :class:`Series` per metric key (in the results' metric order) that has per-sample values."""
    per_sample = results.get("per_sample") or {}
    metrics = results.get("metrics") or {}
    out = []
    for key, entry in metrics.items():
        if key.endswith("_gt"):
            continue  # drawn with the metric it is the ground truth of
        gen = _finite([v.get(key) for v in per_sample.values() if isinstance(v, dict)])
        if not gen:
            continue
        gt = _finite([v.get(f"{key}_gt") for v in per_sample.values() if isinstance(v, dict)])
        label = entry.get("label", key) if isinstance(entry, dict) else key
        out.append(Series(key, str(label), gen, gt or None))
    return out


def distribution_png(series: Series) -> bytes:
    """Overlaid histograms (generated in blue, GT in grey) with one tick per sample and the means dashed."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(4.6, 2.3), dpi=100)
    groups = [("generated", series.generated, "tab:blue")]
    if series.gt:
        groups.append(("GT", series.gt, "tab:gray"))
    values = np.concatenate([np.asarray(v, np.float64) for _, v, _ in groups])
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5  # every sample equal: one visible bin around it
    bins = np.linspace(lo, hi, min(20, max(5, len(values) // 2)) + 1)
    for name, vals, colour in groups:
        ax.hist(vals, bins=bins, alpha=0.45, color=colour, label=f"{name} (n={len(vals)})")
        ax.plot(vals, np.zeros(len(vals)), "|", color=colour, ms=12, mew=1.2)
        ax.axvline(float(np.mean(vals)), color=colour, ls="--", lw=1.2)
    ax.set_title(f"{series.label} per sample", fontsize=9)
    ax.set_ylabel("samples", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    plt.close(fig)
    return buf.getvalue()


def distribution_pngs(results: dict[str, Any]) -> list[tuple[Series, bytes]]:
    """Every per-sample series of ``results`` with its picture."""
    return [(s, distribution_png(s)) for s in per_sample_series(results)]
