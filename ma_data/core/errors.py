"""Exceptions shared across the toolkit.

Every error that reaches a user names the file (or weight) involved and the problem, in one line, so CLIs can
print ``str(err)`` and exit instead of showing a traceback.
"""

from __future__ import annotations


class MaceError(Exception):
    """Base class for expected, user-facing errors."""


class MediaError(MaceError):
    """A video or audio file cannot be opened, decoded or written."""


class FormatError(MaceError):
    """A data file (keypoints, motion, manifest, JSON) has the wrong structure or values."""


class MissingWeightError(MaceError):
    """A model weight file is not in the cache; the message says where it was looked for and how to get it."""


class WeightMismatchError(MaceError):
    """A weight file exists but its sha256 differs from the registry."""


class ConfigError(MaceError, ValueError):
    """An option, setting or argument has an invalid value (also a ``ValueError`` for library callers)."""


class TrainingError(MaceError):
    """Training cannot go on (e.g. the loss became NaN); the message says at which step and what to try."""
