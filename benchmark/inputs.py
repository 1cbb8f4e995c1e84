"""Finding and pairing evaluation inputs by file stem, and the per-item isolation rule.

Generated and ground-truth files are matched by stem (file name without extension). A stem present on only one
side is never silently dropped: it is reported as skipped with the side it is missing from. An entry with the
right suffix that is not a regular file (a folder, a FIFO, a device, a symlink loop or a broken link) is
never opened: it is reported with what it is.

**Per-item isolation.** Everything that touches one item's bytes (opening, parsing, decoding, validating,
per-item features and beats) runs inside a per-item boundary: any exception there, of any class, becomes that
item's skip reason (:func:`item_failure`: the file, and for exceptions that are not our one-line
:class:`MaceError` the exception class and message) and the batch goes on. A file can make a reader fail in
ways no reader anticipates (a JSON nested 100,000 deep, a string where a number belongs), so the boundary is
drawn around the item, not around a list of expected exception types. Set-level code that runs once over all
items (statistics, writing results) stays outside: an exception there is a bug in the toolkit and exits 1
("internal error").
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ma_data.core.errors import MaceError
from ma_data.core.io.atomic import sha256_file

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
AUDIO_SUFFIXES = (".mp4", ".wav", ".m4a", ".mp3", ".flac", ".aac", ".ogg", ".mov", ".mkv", ".webm")
KEYPOINT_SUFFIXES = (".json", ".npz")


def item_failure(path: str | os.PathLike, exc: BaseException) -> str:
    """The one-line skip reason for an exception raised while reading or scoring the item at ``path``.

    A :class:`MaceError` already names the problem (its message is kept, the file name added when missing);
    any other exception is reported with its class, so a reader's blind spot is visible in the results.
    """
    msg = " ".join(str(exc).split())
    if isinstance(exc, MaceError):
        return msg if str(path) in msg or Path(path).name in msg else f"{path}: {msg}"
    if isinstance(exc, RecursionError):
        return f"{path}: nested too deeply to read (RecursionError)"
    return f"{path}: cannot be read or scored ({exc.__class__.__name__}: {msg[:300]})"


def entry_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a regular input file, or None when it can.

    Checked without opening the file (opening a FIFO blocks): a folder, a FIFO, a socket or device, a
    symlink loop, a broken link, an unreadable file.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symlink loop"
        if path.is_symlink():
            return f"{path}: broken symlink (its target does not exist)"
        return f"{path}: cannot be accessed ({exc.strerror or exc})"
    if stat.S_ISREG(st.st_mode):
        return None if os.access(path, os.R_OK) else f"{path}: permission denied"
    if stat.S_ISDIR(st.st_mode):
        return f"{path}: is a folder, not a file"
    if stat.S_ISFIFO(st.st_mode):
        return f"{path}: is a FIFO (named pipe), not a regular file"
    if stat.S_ISSOCK(st.st_mode):
        return f"{path}: is a socket, not a regular file"
    return f"{path}: is a device or special file, not a regular file"


def list_by_stem(
    directory: str | os.PathLike,
    suffixes: tuple[str, ...],
    what: str,
    exact: bool = False,
    problems: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Map stem -> file for files in ``directory`` with one of ``suffixes`` (earlier suffixes win on ties).

    ``exact=True`` reproduces ``Path.glob("*.mp4")`` as the official scripts use it: suffixes match
    case-sensitively and hidden files count. The default is forgiving (any case, hidden files ignored).
    Only regular files are returned; entries with a matching name that are not (see :func:`entry_problem`)
    go to ``problems`` (stem -> reason) when it is given. Raises a one-line :class:`MaceError` when the
    directory does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise MaceError(f"{directory}: {what} directory not found")
    found: dict[str, Path] = {}
    rank = {s: i for i, s in enumerate(suffixes)}
    for path in sorted(directory.iterdir()):
        suffix = path.suffix if exact else path.suffix.lower()
        hidden = path.name.startswith(".") and not exact
        if suffix not in rank or hidden:
            continue
        problem = entry_problem(path)
        if problem is not None:
            if problems is not None:
                problems.setdefault(path.stem, f"{what} {problem}")
            continue
        current = found.get(path.stem)
        if current is None or rank[suffix] < rank[current.suffix if exact else current.suffix.lower()]:
            found[path.stem] = path
    if problems is not None:
        for stem in found:
            problems.pop(stem, None)  # a usable file of another suffix serves the stem
    return found


@dataclass
class PairedInputs:
    """Stems present on every required side, plus a reason for every stem that is not."""

    stems: list[str]
    sides: dict[str, dict[str, Path]]
    skipped: dict[str, str] = field(default_factory=dict)


def pair_by_stem(
    sides: dict[str, dict[str, Path]], problems: dict[str, dict[str, str]] | None = None
) -> PairedInputs:
    """Intersect stems over all sides (sorted, as the official script does); record the others as skipped.

    ``problems`` (side -> stem -> reason, from :func:`list_by_stem`) replaces "missing" with what is wrong
    with the entry that is there, and keeps stems that exist only as unusable entries in the report.
    """
    problems = problems or {}
    all_stems = sorted(
        set().union(*(s.keys() for s in sides.values()), *(p.keys() for p in problems.values()))
    )
    stems, skipped = [], {}
    for stem in all_stems:
        missing = [name for name, files in sides.items() if stem not in files]
        if missing:
            bad = [problems[name][stem] for name in missing if stem in problems.get(name, {})]
            absent = [name for name in missing if stem not in problems.get(name, {})]
            reasons = bad + ([f"missing {' and '.join(absent)}"] if absent else [])
            skipped[stem] = "; ".join(reasons)
        else:
            stems.append(stem)
    return PairedInputs(stems=stems, sides=sides, skipped=skipped)


def hash_inputs(paired: PairedInputs) -> dict:
    """sha256 of every used input file, and one digest over all of them (order-independent by stem)."""
    files: dict[str, dict[str, str]] = {}
    combined = hashlib.sha256()
    for stem in paired.stems:
        files[stem] = {}
        for side, mapping in paired.sides.items():
            digest = sha256_file(mapping[stem])
            files[stem][side] = digest
            combined.update(f"{stem}:{side}:{digest}\n".encode())
    return {"sha256": combined.hexdigest(), "files": files}
