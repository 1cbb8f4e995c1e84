"""Finding and pairing evaluation inputs by file stem.

Generated and ground-truth files are matched by stem (file name without extension). A stem present on only one
side is never silently dropped: it is reported as skipped with the side it is missing from.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ma_data.core.errors import MaceError
from ma_data.core.io.atomic import sha256_file

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
AUDIO_SUFFIXES = (".mp4", ".wav", ".m4a", ".mp3", ".flac", ".aac", ".ogg", ".mov", ".mkv", ".webm")
KEYPOINT_SUFFIXES = (".json", ".npz")


def list_by_stem(
    directory: str | os.PathLike, suffixes: tuple[str, ...], what: str, exact: bool = False
) -> dict[str, Path]:
    """Map stem -> file for files in ``directory`` with one of ``suffixes`` (earlier suffixes win on ties).

    ``exact=True`` reproduces ``Path.glob("*.mp4")`` as the official scripts use it: suffixes match
    case-sensitively and hidden files count. The default is forgiving (any case, hidden files ignored).
    Raises a one-line :class:`MaceError` when the directory does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise MaceError(f"{directory}: {what} directory not found")
    found: dict[str, Path] = {}
    rank = {s: i for i, s in enumerate(suffixes)}
    for path in sorted(directory.iterdir()):
        suffix = path.suffix if exact else path.suffix.lower()
        hidden = path.name.startswith(".") and not exact
        if suffix not in rank or hidden or not path.is_file():
            continue
        current = found.get(path.stem)
        if current is None or rank[suffix] < rank[current.suffix.lower()]:
            found[path.stem] = path
    return found


@dataclass
class PairedInputs:
    """Stems present on every required side, plus a reason for every stem that is not."""

    stems: list[str]
    sides: dict[str, dict[str, Path]]
    skipped: dict[str, str] = field(default_factory=dict)


def pair_by_stem(sides: dict[str, dict[str, Path]]) -> PairedInputs:
    """Intersect stems over all sides (sorted, as the official script does); record the others as skipped."""
    all_stems = sorted(set().union(*(s.keys() for s in sides.values())))
    stems, skipped = [], {}
    for stem in all_stems:
        missing = [name for name, files in sides.items() if stem not in files]
        if missing:
            skipped[stem] = f"missing {' and '.join(missing)}"
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
