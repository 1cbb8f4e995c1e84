"""The toolkit's cache folder and its content-addressed entries.

Everything the toolkit caches lives under one folder, ``$MACE_DANCE_CACHE`` or ``~/.cache/mace-dance``
(:func:`cache_dir`). A :class:`ContentCache` keeps one kind of entry in ``<cache dir>/<namespace>/``, one
file per entry::

    <namespace>/<digest[:2]>/<digest>-<tag><suffix>

``digest`` names what the entry was computed from (the input file's sha256, say), ``tag`` the settings it was
computed with (:func:`settings_tag`), so a changed input or setting is a different file, never a stale hit.

- **Written atomically**: a temporary file beside the entry, renamed over it. Concurrent writers of one entry
  each leave a complete file and the last rename wins; a reader sees an old entry, a new one, or none.
- **Read with validation**: the caller's loader parses the file. A loader that raises one of :data:`DAMAGED`
  makes the entry a miss and the file is removed (unless a writer replaced it meanwhile); a loader that
  returns ``None`` (readable, but not what was asked for) makes it a miss and leaves the file.
- **Never fails the work**: a cache that cannot be written (read-only, full) is logged at debug level and
  skipped; the next run computes again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ma_data.core.errors import MaceError
from ma_data.core.io.atomic import atomic_path

__all__ = ["CACHE_ENV", "DAMAGED", "ContentCache", "cache_dir", "settings_tag"]

CACHE_ENV = "MACE_DANCE_CACHE"

#: What a loader raises on a damaged entry (truncated, foreign or hand-edited file): the entry is a miss.
DAMAGED: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,  # json.JSONDecodeError, numpy's format errors
    KeyError,
    EOFError,
    zipfile.BadZipFile,
    MaceError,  # the project's readers (FormatError)
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_DIGEST = re.compile(r"^[0-9a-f]{16,128}$")
_TAG = re.compile(r"^[A-Za-z0-9_.+]{0,64}$")  # no "-": it separates digest and tag
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.+-]{1,100}$")
_SUFFIX = re.compile(r"^(\.[A-Za-z0-9]{1,16})?$")


def cache_dir() -> Path:
    """The toolkit's cache root: ``$MACE_DANCE_CACHE`` or ``~/.cache/mace-dance`` (read at each call)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "mace-dance")).expanduser()


def settings_tag(settings: Any) -> str:
    """16 hex digits naming JSON-able ``settings`` (dict key order does not matter)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ContentCache:
    """Entries ``<root>/<namespace>/<digest[:2]>/<digest>-<tag><suffix>``; ``root`` defaults to
    :func:`cache_dir` (looked up at each use, so a changed ``$MACE_DANCE_CACHE`` is honoured)."""

    namespace: str
    suffix: str = ""
    root: Path | None = None

    def __post_init__(self) -> None:
        if not _NAMESPACE.match(self.namespace) or set(self.namespace) == {"."}:
            raise ValueError(f"cache namespace must be one plain folder name, got {self.namespace!r}")
        if not _SUFFIX.match(self.suffix):
            raise ValueError(f"cache suffix must be empty or like '.npz', got {self.suffix!r}")

    @property
    def folder(self) -> Path:
        return Path(self.root if self.root is not None else cache_dir()) / self.namespace

    def path(self, digest: str, tag: str = "") -> Path:
        """Where the entry for ``(digest, tag)`` lives (it may not exist)."""
        if not _DIGEST.match(digest):
            raise ValueError(f"cache digest must be 16-128 lowercase hex digits, got {digest!r}")
        if not _TAG.match(tag):
            raise ValueError(f"cache tag must be up to 64 of [A-Za-z0-9_.+], got {tag!r}")
        name = f"{digest}-{tag}" if tag else digest
        return self.folder / digest[:2] / f"{name}{self.suffix}"

    def get(self, digest: str, tag: str, load: Callable[[Path], T | None]) -> T | None:
        """``load(path)`` of the entry, or ``None`` on a miss (absent, damaged, or rejected by ``load``)."""
        path = self.path(digest, tag)
        try:
            before = path.stat()
        except OSError:
            return None
        try:
            return load(path)
        except DAMAGED as exc:
            log.debug("damaged cache entry %s (%s: %s): ignored", path, type(exc).__name__, exc)
            _discard(path, before)
            return None

    def put(self, digest: str, tag: str, write: Callable[[Path], None]) -> Path | None:
        """Store an entry: ``write(tmp)`` fills a temporary file (same folder and suffix) that is then renamed
        into place. Returns the entry's path, or ``None`` when the cache cannot be written."""
        path = self.path(digest, tag)
        try:
            with atomic_path(path) as tmp:
                write(tmp)
        except OSError as exc:  # a read-only or full cache only costs recomputing next time
            log.debug("could not write cache entry %s: %s", path, exc)
            return None
        return path


def _discard(path: Path, seen: os.stat_result) -> None:
    """Remove the damaged file ``seen`` at ``path``, unless a writer has renamed a new entry over it."""
    try:
        now = path.stat()
        if (now.st_ino, now.st_mtime_ns, now.st_size) == (seen.st_ino, seen.st_mtime_ns, seen.st_size):
            path.unlink()
    except OSError:
        pass
