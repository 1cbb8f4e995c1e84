"""Exceptions shared across the toolkit.

Every error that reaches a user names the file (or weight) involved and the problem, in one line, so CLIs can
print ``str(err)`` and exit instead of showing a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


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


def check_choice(what: str, value: T, choices: Iterable[Any]) -> T:
    """``value`` when it is one of ``choices``, else a :class:`ConfigError` ``"<what> must be one of a, b, got
    'x'"`` (the one way a setting with named values is checked)."""
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"{what} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value
