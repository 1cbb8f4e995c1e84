"""Data files shipped with the toolkit, in the ``manifests`` package: the one way to find them.

The weights registry, URL lists and the takedown list, paper tables, test-set manifests and reference
results all live under ``manifests/`` (installed as package data), so an installed toolkit finds them the same
way as a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def packaged_path(*parts: str) -> Path:
    """Path of ``manifests/<parts...>`` (a file or folder; it need not exist)."""
    return Path(str(resources.files("manifests"))).joinpath(*parts)


def read_packaged_text(*parts: str) -> str:
    """Text of the packaged file ``manifests/<parts...>`` (UTF-8)."""
    return packaged_path(*parts).read_text(encoding="utf-8")
