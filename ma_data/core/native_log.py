"""Quieting what native libraries write straight to file descriptor 2.

MediaPipe's C++ graph logs through absl, which ignores ``GLOG_minloglevel`` and has no Python switch: every
new pose graph writes "Created TensorFlow Lite XNNPACK delegate" and two "Feedback manager requires a model
with a single signature" warnings, so a 200-video evaluation printed 600 such lines. :func:`native_stderr`
sends fd 2 to a temporary file around the calls that emit them, then writes back every line that is not
known chatter (errors and anything unexpected still reach the user).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

__all__ = ["CHATTER", "native_stderr"]

#: Lines native libraries print on every start that carry nothing for the user: absl/glog INFO and WARNING
#: records (``I0000 ...`` / ``W0000 ...``), TFLite's delegate notice and absl's pre-initialisation banner.
CHATTER = re.compile(
    r"^(?:[IW]\d{4} .*|INFO: Created TensorFlow Lite .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)$"
)


@contextlib.contextmanager
def native_stderr(chatter: re.Pattern[str] = CHATTER) -> Iterator[None]:
    """Capture what is written to fd 2 inside the block (by C/C++ code and Python alike) and re-emit the
    lines that ``chatter`` does not match. Use it around short calls only: a progress bar drawn inside the
    block would be held back until it ends."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (captured by a test runner, embedded)
        fd = 2
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
    kept = [line for line in text.splitlines() if line.strip() and not chatter.match(line)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
        sys.stderr.flush()
