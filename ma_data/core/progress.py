"""Progress bars: shown on a terminal only, never when ``MACE_DANCE_NO_PROGRESS=1`` (tests, CI, logs)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["progress_bar", "progress_enabled"]

T = TypeVar("T")


def progress_enabled(wanted: bool = True) -> bool:
    """Whether to draw a bar: the caller wants one, stderr is a terminal, and ``MACE_DANCE_NO_PROGRESS`` is
    not ``1``."""
    return wanted and sys.stderr.isatty() and os.environ.get("MACE_DANCE_NO_PROGRESS", "0") != "1"


def progress_bar(items: Iterable[T] | None = None, wanted: bool = True, **tqdm_kwargs: Any) -> Any:
    """``items`` wrapped in a tqdm bar on stderr when :func:`progress_enabled`, else ``items`` unchanged.

    Without ``items`` it returns a manual bar (``total=...``, ``.update(n)``, ``.close()``), disabled (every
    call a no-op) when bars are off.
    """
    if items is not None and not progress_enabled(wanted):
        return items
    from tqdm import tqdm

    return tqdm(items, disable=not progress_enabled(wanted), dynamic_ncols=True, **tqdm_kwargs)
