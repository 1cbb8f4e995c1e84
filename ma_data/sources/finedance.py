"""FineDance reader: sequences, music, genre labels and the official FineDance@Genre split.

Layout of a FineDance download (as released by the FineDance authors)::

    motion/NNN.npy       (T, 315) root translation + 52 SMPL-H joints x 6D, Y-up, 30 fps
    music_wav/NNN.wav    the song
    label_json/NNN.json  {"name": ..., "style1": coarse style, "style2": fine genre}

Motion is decoded to SMPL-24 by the shared reader (:func:`ma_data.core.formats.motion.read_finedance`).

Splits (FineDance ``get_train_test_list``, "FineDance@Genre", the split the FineDance authors recommend):
test = :data:`GENRE_TEST`, ignore = :data:`GENRE_IGNORE`, train = every other id. Sequences ``120`` and ``130``
are in BOTH lists; FineDance skips ignored sequences even when they are listed as test, so we resolve the
overlap the same way: **ignore wins**, 120 and 130 are excluded from every split, and the effective test set
has 18 sequences. Ignored sequences are not rendered at all (``split_of`` returns ``None``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ma_data.core.errors import FormatError, check_choice
from ma_data.core.formats.motion import Motion, read_finedance

__all__ = [
    "FINEDANCE_GENRES",
    "FINEDANCE_LICENSE",
    "GENRE_IGNORE",
    "GENRE_TEST",
    "FineDanceSource",
    "SequenceInfo",
    "SPLITS",
    "ids_in_split",
    "read_genre",
    "split_of",
]

#: The 16 released ``style2`` genres, in the Motion Expert's embedding order.
FINEDANCE_GENRES = (
    "Dai", "ShenYun", "Wei", "Korean", "Urban", "Hiphop", "Popping", "Miao",
    "HanTang", "Breaking", "Kun", "Locking", "Jazz", "Choreography", "Chinese", "DunHuang",
)  # fmt: skip

GENRE_TEST = (
    "063", "132", "143", "036", "098", "198", "130", "012", "211", "193",
    "179", "065", "137", "161", "092", "120", "037", "109", "204", "144",
)  # fmt: skip
GENRE_IGNORE = ("116", "117", "118", "119", "120", "121", "122", "123", "202", "130")

FINEDANCE_LICENSE = "FineDance (research use only; see the FineDance dataset terms)"

_ID = re.compile(r"^\d{3}$")


#: Split names a caller may ask for: the two FineDance@Genre splits, or every sequence (ignored ones too).
SPLITS = ("train", "test", "all")


def split_of(seq_id: str) -> str | None:
    """FineDance@Genre split of a sequence id: ``"train"``, ``"test"`` or ``None`` (ignored)."""
    if seq_id in GENRE_IGNORE:  # ignore wins over test (120, 130): FineDance's own behaviour
        return None
    return "test" if seq_id in GENRE_TEST else "train"


def ids_in_split(ids: list[str], split: str) -> list[str]:
    """The ids of ``ids`` in ``split`` (``"train"``, ``"test"``, or ``"all"`` = every id, ignored included)."""
    check_choice("split", split, SPLITS)
    return list(ids) if split == "all" else [i for i in ids if split_of(i) == split]


def read_genre(path: str | os.PathLike) -> str:
    """The ``style2`` genre name of a FineDance ``label_json/NNN.json``."""
    path = Path(path)
    try:
        label = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot read label JSON ({exc})") from exc
    if (
        not isinstance(label, dict)
        or not isinstance(label.get("style2"), str | int)
        or not str(label["style2"]).strip()
    ):
        raise FormatError(f"{path}: label JSON has no 'style2' genre")
    return str(label["style2"]).strip()


@dataclass(frozen=True)
class SequenceInfo:
    seq_id: str
    motion_path: str
    music_path: str
    genre: str | None
    style1: str | None
    name: str | None
    synthetic: bool
    split: str | None


class FineDanceSource:
    """A FineDance folder (or the bundled synthetic sample, which has the same layout)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not (self.root / "motion").is_dir():
            raise FormatError(f"{self.root}: not a FineDance folder (no motion/ subfolder)")

    @property
    def synthetic(self) -> bool:
        return (self.root / "SYNTHETIC.md").is_file()

    def ids(self) -> list[str]:
        """Sequence ids with a motion file, sorted (non-FineDance names are ignored)."""
        return sorted(p.stem for p in (self.root / "motion").glob("*.npy") if _ID.match(p.stem))

    def label(self, seq_id: str) -> dict:
        path = self.root / "label_json" / f"{seq_id}.json"
        if not path.is_file():
            return {}
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise FormatError(f"{path}: unreadable label JSON ({exc})") from exc
        if not isinstance(doc, dict):
            raise FormatError(f"{path}: label JSON must be an object")
        return doc

    def info(self, seq_id: str) -> SequenceInfo:
        lab = self.label(seq_id)
        music = self.root / "music_wav" / f"{seq_id}.wav"
        return SequenceInfo(
            seq_id=seq_id,
            motion_path=str(self.root / "motion" / f"{seq_id}.npy"),
            music_path=str(music),
            genre=lab.get("style2"),
            style1=lab.get("style1"),
            name=lab.get("name"),
            synthetic=bool(lab.get("synthetic", False)) or self.synthetic,
            split=split_of(seq_id),
        )

    def sequences(self, include_ignored: bool = False) -> list[SequenceInfo]:
        out = [self.info(i) for i in self.ids()]
        return out if include_ignored else [s for s in out if s.split is not None]

    def motion(self, seq_id: str) -> Motion:
        return read_finedance(self.root / "motion" / f"{seq_id}.npy")
