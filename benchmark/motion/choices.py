"""Choices shared by the 2D and 3D motion protocols (the values recorded in their ``params``)."""

from __future__ import annotations

import enum

__all__ = ["BasWithoutBeats", "DiversityMode", "FidComplexMode", "FidSqrtm"]


class FidSqrtm(str, enum.Enum):
    """Matrix square root of the Frechet distance (:func:`benchmark.motion.common.frechet_distance`)."""

    LEGACY = "legacy"  # SciPy <= 1.15's Schur algorithm, as the references ran
    SCIPY = "scipy"  # the installed SciPy's


class FidComplexMode(str, enum.Enum):
    """What happens to a complex square root (:func:`benchmark.motion.common.frechet_distance`)."""

    REAL = "real"
    BAILANDO = "bailando"


class DiversityMode(str, enum.Enum):
    """How the pairwise distances are summed (:func:`benchmark.motion.common.diversity`)."""

    TRIU = "triu"
    FULL = "full"
    LOOP = "loop"


class BasWithoutBeats(str, enum.Enum):
    """A sample whose music has no beat in the compared range (or ends before it): the reference's score (0
    without beats), averaged in; or undefined, left out of the mean and listed."""

    ZERO = "zero"
    UNDEFINED = "undefined"
