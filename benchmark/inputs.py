"""Finding and pairing evaluation inputs by file stem, and the per-item isolation rule.

Generated and ground-truth files are matched by stem (file name without extension). A stem present on only one
side is never silently dropped: it is reported as skipped with the side it is missing from. A stem with
several candidate files on one side (``a.json`` and ``a.npz``) is ambiguous and reported, never resolved by a
silent preference (:func:`list_by_stem`). An entry with the right suffix that is not a regular file (a folder,
a FIFO, a device, a symlink loop or a broken link) is never opened: it is reported with what it is. Which
files count is an :class:`InputRule`; a protocol that must read exactly what a reference script reads
declares its own (``mace2d-official``'s glob, VBench's ``custom_input`` selection).

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
import glob
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


@dataclass(frozen=True)
class InputRule:
    """Which files of a folder are inputs: the suffixes, and how names are matched.

    The default (``case_sensitive=False, hidden=False``) is forgiving: any-case suffixes, hidden files
    ignored. A protocol that must read exactly what a reference script globs declares its own rule
    (``mace2d-official``: ``Path.glob("*.json")`` is case-sensitive and includes hidden files).
    ``keep_duplicates`` is VBench's ``custom_input`` selection, where every file counts: a stem seen again
    (``a.mp4`` and ``a.gif``) is keyed by its file name instead of being ambiguous.
    """

    suffixes: tuple[str, ...]
    case_sensitive: bool = False
    hidden: bool = False
    keep_duplicates: bool = False

    def matches(self, path: Path) -> bool:
        suffix = path.suffix if self.case_sensitive else path.suffix.lower()
        wanted = self.suffixes if self.case_sensitive else tuple(s.lower() for s in self.suffixes)
        return suffix in wanted and (self.hidden or not path.name.startswith("."))


def list_by_stem(
    directory: str | os.PathLike,
    rule: InputRule | tuple[str, ...],
    what: str,
    exact: bool = False,
    problems: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Map stem -> file for the regular files of ``directory`` that ``rule`` selects.

    **The collision rule** (one for every input of the toolkit): a stem with several candidate files (``a.json``
    and ``a.npz``) is ambiguous: none of them is read, and the stem goes to ``problems`` with the file names,
    so the choice is the user's and never silent. An entry with a matching name that is not a regular file
    (see :func:`entry_problem`) is never opened: it goes to ``problems`` (stem -> reason), unless a regular
    file of the same stem serves it. ``rule`` may be a tuple of suffixes (``exact=True`` then means the
    official glob's matching: case-sensitive, hidden files included). Raises a one-line :class:`MaceError`
    when the directory does not exist.
    """
    if not isinstance(rule, InputRule):
        rule = InputRule(tuple(rule), case_sensitive=exact, hidden=exact)
    directory = Path(directory)
    if not directory.is_dir():
        raise MaceError(f"{directory}: not a directory of {what} files")
    candidates: dict[str, list[Path]] = {}
    unusable: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if not rule.matches(path):
            continue
        problem = entry_problem(path)
        if problem is not None:
            unusable.setdefault(path.stem, f"{what} {problem}")
            continue
        candidates.setdefault(path.stem, []).append(path)
    found: dict[str, Path] = {}
    for stem, paths in candidates.items():
        if len(paths) == 1:
            found[stem] = paths[0]
        elif rule.keep_duplicates:
            found[stem] = paths[0]
            found.update({p.name: p for p in paths[1:]})
        else:
            names = ", ".join(p.name for p in paths)
            unusable[stem] = f"{what} {directory / stem}: ambiguous, several files ({names}); keep one"
    if problems is not None:
        problems.update({s: r for s, r in unusable.items() if s not in found and s not in problems})
    return found


@dataclass
class PairedInputs:
    """The inputs of one evaluation: for every side (``"GT keypoints"``, ``"generated motion"``...) the file
    of each stem and the folder it was listed from, the stems to score, and a reason for every stem that is
    not scored."""

    stems: list[str]
    sides: dict[str, dict[str, Path]]
    skipped: dict[str, str] = field(default_factory=dict)
    folders: dict[str, Path] = field(default_factory=dict)
    #: sentences about inputs that do not skip a stem (e.g. an unreadable GT video: appearance still scores
    #: the generated one, without the full-reference metrics)
    warnings: list[str] = field(default_factory=list)

    def block(self, stems: list[str] | None = None) -> dict:
        """The results ``inputs`` block: the folder of each side, the sha256 of every file used (``stems``,
        default the stems to score) and one digest over them (see :func:`hash_inputs`)."""
        used = PairedInputs(list(self.stems if stems is None else stems), self.sides)
        return {"sides": {side: str(folder) for side, folder in self.folders.items()}, **hash_inputs(used)}


def pair_by_stem(
    sides: dict[str, dict[str, Path]],
    problems: dict[str, dict[str, str]] | None = None,
    folders: dict[str, Path] | None = None,
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
    return PairedInputs(stems=stems, sides=sides, skipped=skipped, folders=dict(folders or {}))


def explain_unread(
    paired: PairedInputs,
    rules: dict[str, InputRule],
    reader: str,
    alternatives: dict[str, dict[str, InputRule]] | None = None,
    wrap_hint: dict[str, str] | None = None,
) -> None:
    """Say when a stem "missing" on a side has a file there under a suffix the rule does not read (e.g. a
    ``.wav`` where ``mace2d-official`` reads ``.mp4``): ``reader`` names who reads what; ``alternatives``
    (side -> {protocol name: its rule}) names the protocols that would read the file, and ``wrap_hint``
    (side -> sentence with ``{file}``/``{stem}`` fields) another way to make it readable (an ``.mp4``
    wrapper of a ``.wav``)."""
    for stem, reason in paired.skipped.items():
        for side, folder in paired.folders.items():
            if side not in reason or side not in rules:
                continue
            others = sorted(p for p in Path(folder).glob(f"{glob.escape(stem)}.*") if p.is_file())
            if not others:
                continue
            fixes, readable = [], []
            for name, rule in (alternatives or {}).get(side, {}).items():
                matched = [p for p in others if rule.matches(p)]
                if matched:
                    fixes.append(f"--protocol {name} reads {'/'.join(sorted({p.suffix for p in matched}))}")
                    readable += [p for p in matched if p not in readable]
            if (wrap_hint or {}).get(side) and readable:
                fixes.append(wrap_hint[side].format(file=readable[0].name, stem=stem))
            paired.skipped[stem] = (
                f"{reason} ({', '.join(p.name for p in others)} not read: {reader} reads "
                f"{'/'.join(rules[side].suffixes)} as the official script does"
                + (f"; {'; '.join(fixes)}" if fixes else "")
                + ")"
            )


def hash_inputs(paired: PairedInputs) -> dict:
    """sha256 of every used input file (``files[stem][side]``) and one digest over them: ``stem:side:sha``
    lines in stem order, sides in the order of ``paired.sides``. A side without the stem (3D sets need not
    hold the same stems) is left out."""
    files: dict[str, dict[str, str]] = {}
    combined = hashlib.sha256()
    for stem in paired.stems:
        files[stem] = {}
        for side, mapping in paired.sides.items():
            if stem not in mapping:
                continue
            digest = sha256_file(mapping[stem])
            files[stem][side] = digest
            combined.update(f"{stem}:{side}:{digest}\n".encode())
    return {"sha256": combined.hexdigest(), "files": files}
