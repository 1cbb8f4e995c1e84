"""Appearance benchmark: VBench dimensions (IQ, AQ, SC, BC, MS, TF) and full-reference metrics.

Public entry point: :func:`score_appearance`. Importing this package registers the ``vbench-appearance``
protocol.
"""

from benchmark.appearance.api import (
    ALL_DIMS,
    FULL_REFERENCE_DIMS,
    VBENCH_DIMS,
    build_dimensions,
    score_appearance,
)
from benchmark.appearance.decode import collect_videos
from benchmark.appearance.protocol import VBENCH_APPEARANCE

__all__ = [
    "ALL_DIMS",
    "FULL_REFERENCE_DIMS",
    "VBENCH_APPEARANCE",
    "VBENCH_DIMS",
    "build_dimensions",
    "collect_videos",
    "score_appearance",
]
