"""The bad-input contract: a file the user must fix gives one line that starts with the file's name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ma_data.core.errors import FormatError


def one_line_error(
    call: Callable[[], object],
    path: str | Path,
    *needles: str,
    errors: type[BaseException] | tuple[type[BaseException], ...] = FormatError,
    max_extra: int | None = None,
) -> str:
    """``call()`` raises one of ``errors`` whose message is ``"<path>: ..."`` on one line, contains every
    needle and, with ``max_extra``, is at most that many characters longer than the path. Returns it."""
    with pytest.raises(errors) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, (needle, msg)
    if max_extra is not None:
        assert len(msg) < max_extra + len(str(path)), msg
    return msg
