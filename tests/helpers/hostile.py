"""Hostile pickles for the "files from others are data" tests."""

from __future__ import annotations

import os

#: The callable a hostile pickle names; a safe loader's error message quotes it.
SYSTEM = f"{os.system.__module__}.system"


class Marker:
    """Pickles as ``os.system("touch PATH")``: ``PATH`` exists afterwards only if something unpickled it unsafely."""

    def __init__(self, path) -> None:
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)
