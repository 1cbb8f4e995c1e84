"""One driver per output folder: the lock ``ma-data build`` and ``ma-data crawl`` take on ``<root>/.build/lock``.

Both commands write the same ledger, raw files and manifest, so they share one lock: a second build or crawl
of a folder while one runs is refused at once with one line (who holds it, and its pid). The lock is an
``flock`` on an open file, so the kernel drops it when its holder exits or is killed: a lock file left
behind by a dead process never blocks anything. (``flock`` is local to a machine: two machines writing one
folder over NFS are not protected.)
"""

from __future__ import annotations

import os
from pathlib import Path

from ma_data.core.errors import MaceError

__all__ = ["LOCK_NAME", "RootLock", "lock_root"]

LOCK_NAME = ".build/lock"


class RootLock:
    """An exclusive lock on a folder, held until :meth:`release` (or the process ends). A context manager."""

    def __init__(self, root: str | Path, holder: str = "ma-data build") -> None:
        self.root = Path(root)
        self.holder = holder
        self.path = self.root / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> RootLock:
        """Take the lock or raise :class:`MaceError` naming the command that holds it."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # never truncate: the holder's note is there
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            note = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another ma-data command"
            os.close(fd)
            raise MaceError(
                f"{self.root}: {note} is already writing this folder; wait for it to finish or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{self.holder} (pid {os.getpid()})\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (idempotent). The file stays; it means nothing without a holder."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RootLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a lock object dropped by an exception releases like a closed file
        self.release()


def lock_root(root: str | Path, holder: str = "ma-data build") -> RootLock:
    """Acquire and return the lock of ``root`` (see the module docstring)."""
    return RootLock(root, holder).acquire()
