"""What a scorer returns: :class:`MetricReport` (one protocol on one sample set) of :class:`MetricValue`.

Scorers (2D, 3D, appearance) build these and never print; the runner (:mod:`benchmark.runner`) turns them
into a results document (:mod:`benchmark.results`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from benchmark.protocol_base import Protocol

__all__ = ["MetricReport", "MetricValue", "json_number"]


@dataclass
class MetricValue:
    """A set-level value with its bootstrap 95% interval (None when not computable) and the reasons, if any,
    not to trust it (e.g. an FID dominated by a blown-up feature column)."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = json_number(self.ci_low), json_number(self.ci_high)
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        out: dict[str, Any] = {"value": json_number(self.value), "ci95": [lo, hi]}
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


@dataclass
class MetricReport:
    """What one protocol produced on one sample set.

    ``warnings`` are sentences for the reader (small samples, undefined values, suspicious numbers); protocol
    code returns them here and never prints. A warning about one metric is also attached to that
    :class:`MetricValue`.
    """

    metrics: dict[str, MetricValue]
    per_sample: dict[str, dict[str, float]]
    skipped: dict[str, str]
    n_samples: int
    protocol: Protocol
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def json_number(x: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if x is None:
        return None
    if isinstance(x, float | int) and not isinstance(x, bool):
        x = float(x)
        return x if math.isfinite(x) else None
    return x
