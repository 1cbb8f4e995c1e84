"""Atomic file writes and content hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _create_temp(path: Path, suffix: str) -> Path:
    """Create a new, empty temporary file beside ``path`` with the mode a plain ``open(path, "w")`` gives.

    ``tempfile.mkstemp`` creates it 0600 whatever the umask, and the rename carried that mode to the final file
    (results, clips and manifests unreadable to a group on a shared server). Creating it with mode 0666 lets
    the kernel apply the umask, as for any new file.
    """
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(6)}.tmp{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"{path.parent}: cannot create a unique temporary file")


def _replace(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` over ``path``; a replaced file keeps its permission bits, as when opened for writing."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = None
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds.

    The temporary name keeps the final suffix (so encoders that pick a muxer from the extension work) and
    lives in the same directory (so the rename is atomic on POSIX). The final file's mode is what a plain
    ``open`` would give: 0666 minus the umask for a new file, the old mode for a replaced one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    tmp_path = _create_temp(path, suffix)
    try:
        yield tmp_path
        _replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` atomically when the block exits cleanly."""
    with atomic_path(path) as tmp, open(tmp, mode, **open_kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
