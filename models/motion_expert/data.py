"""FineDance -> Motion Expert training windows.

A FineDance directory holds ``motion/NNN.npy`` (T, 315), ``music_wav/NNN.wav`` and ``label_json/NNN.json``
(``style2`` = genre); ``music_npy/NNN.npy`` (the same 35-d features) is used when present, otherwise the
features are computed with :func:`ma_data.core.music_features.baseline_features` and cached.

Windows: every sequence is cut into ``window``-frame clips starting every ``stride`` frames (the paper
trains on 240-frame clips; the release's slicing is unpublished, EDGE slides 5 s windows by 0.5 s; our
default stride for 240-frame windows is 30 frames = 1 s; the tiny preset uses 60-frame windows every 10
frames). Sequences shorter than one window are skipped with a warning. The normaliser is fitted on every
frame of the usable training sequences (the release fits it on its training clips' frames).

Splits: FineDance@Genre (``train`` = 001-211 minus the 20 test ids and the ignored ones). A directory with
no id of that train list (custom or synthetic numbering) trains on all its sequences, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError, FormatError, MaceError
from ma_data.core.formats.motion import read_finedance
from ma_data.core.music_features import N_FEATURES, baseline_features
from ma_data.sources.finedance import FINEDANCE_GENRES, ids_in_split, read_genre

from .representation import encode_motion

log = logging.getLogger(__name__)


def genre_id(name: str | int, genres: tuple[str, ...] | list[str] = FINEDANCE_GENRES) -> int:
    """A genre name (case-insensitive ``style2``) or id -> its index in ``genres``."""
    if isinstance(name, int) or str(name).isdigit():
        gid = int(name)
        if 0 <= gid < len(genres):
            return gid
        raise ConfigError(f"genre id {gid} out of range 0..{len(genres) - 1}")
    lookup = {g.lower(): i for i, g in enumerate(genres)}
    key = str(name).strip().lower()
    if key not in lookup:
        raise ConfigError(f"unknown genre {name!r}; known: {', '.join(genres)}")
    return lookup[key]


def genre_vocabulary(names) -> tuple[str, ...]:
    """The 16 official genres (official ids 0..15), then any other ``style2`` names found, sorted.

    The released model knows 16 genres; a dataset with other labels gets extra embedding rows, and the
    list travels in the checkpoint so ``sample-motion --genre`` resolves names the same way.
    """
    known = {g.lower() for g in FINEDANCE_GENRES}
    extra = {}
    for n in names:
        key = str(n).strip()
        if key.lower() not in known:
            extra.setdefault(key.lower(), key)
    return tuple(FINEDANCE_GENRES) + tuple(extra[k] for k in sorted(extra))


@dataclass
class Sequence:
    seq_id: str
    motion: np.ndarray  # (T, 151) float32, unnormalised
    music: np.ndarray  # (T, 35) float32
    genre_name: str
    genre: int = -1  # index in the run's genre vocabulary, set by load_finedance


def list_sequences(root: Path, split: str = "train") -> list[str]:
    """Sequence ids under ``root/motion`` for a FineDance@Genre split ("train", "test" or "all")."""
    root = Path(root)
    if not root.is_dir():
        raise FormatError(f"{root}: FineDance directory does not exist")
    for sub in ("motion", "music_wav", "label_json"):
        if not (root / sub).is_dir():
            raise FormatError(
                f"{root / sub}: missing (a FineDance directory needs motion/, music_wav/, label_json/)"
            )
    ids = sorted(p.stem for p in (root / "motion").glob("*.npy"))
    if not ids:
        raise FormatError(f"{root / 'motion'}: no .npy motion files")
    return ids_in_split(ids, split)


def music_features(root: Path, seq_id: str, n_frames: int, cache_dir: Path | None) -> np.ndarray:
    """(n, 35) features for a sequence: FineDance's music_npy, a cached file, or computed from the wav."""
    for cand in [root / "music_npy" / f"{seq_id}.npy"] + ([cache_dir / f"{seq_id}.npy"] if cache_dir else []):
        if cand.is_file():
            feats = np.load(cand, allow_pickle=False)
            if feats.ndim == 2 and feats.shape[1] == N_FEATURES and feats.dtype.kind in "iuf":
                return feats[:n_frames].astype(np.float32)
    wav = root / "music_wav" / f"{seq_id}.wav"
    if not wav.is_file():
        raise FormatError(f"{wav}: music file missing for motion/{seq_id}.npy")
    feats = baseline_features(wav)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.save(cache_dir / f"{seq_id}.npy", feats)
    return feats[:n_frames].astype(np.float32)


def load_sequence(root: Path, seq_id: str, cache_dir: Path | None = None) -> Sequence:
    root = Path(root)
    label = root / "label_json" / f"{seq_id}.json"
    if not label.is_file():
        raise FormatError(f"{label}: label file missing for motion/{seq_id}.npy")
    genre_name = read_genre(label)
    motion = encode_motion(read_finedance(root / "motion" / f"{seq_id}.npy"))
    music = music_features(root, seq_id, len(motion), cache_dir)
    n = min(len(motion), len(music))  # EDGE/FineDance trim both to the shorter
    return Sequence(seq_id, motion[:n], music[:n], genre_name)


def load_finedance(
    root: Path, split: str = "train", cache_dir: Path | None = None, progress=None, genres=None
) -> tuple[list[Sequence], dict[str, str], tuple[str, ...]]:
    """Load every usable sequence.

    Returns (sequences with genre ids, {sequence id: reason} for those that failed, the genre vocabulary).
    ``genres`` fixes the vocabulary (resuming a run); by default it is built with :func:`genre_vocabulary`.
    """
    ids = list_sequences(root, split)
    if not ids and split == "train":
        # Not FineDance's own numbering (a custom or synthetic set): every sequence is training data.
        log.warning("%s: no sequence id of the FineDance@Genre train split; training on all sequences", root)
        ids = list_sequences(root, "all")
    if not ids:
        raise FormatError(f"{root}: no sequence of the FineDance@Genre '{split}' split (use --split all)")
    seqs, failed = [], {}
    for seq_id in progress(ids) if progress else ids:
        try:
            seqs.append(load_sequence(root, seq_id, cache_dir))
        except (MaceError, ValueError, OSError) as exc:
            failed[seq_id] = str(exc)
            log.warning("skipping %s: %s", seq_id, exc)
    vocab = tuple(genres) if genres is not None else genre_vocabulary(s.genre_name for s in seqs)
    kept = []
    for s in seqs:
        try:
            s.genre = genre_id(s.genre_name, vocab)
            kept.append(s)
        except ValueError as exc:
            failed[s.seq_id] = f"{Path(root) / 'label_json' / (s.seq_id + '.json')}: {exc}"
    return kept, failed, vocab


@dataclass
class WindowSet:
    """Training clips as views into the concatenated sequences (no copies: FineDance is ~830k frames).

    ``motion`` (F, 151) and ``music`` (F, 35) hold every usable sequence end to end; clip ``k`` is frames
    ``starts[k] : starts[k] + window`` with genre ``genre[k]``.
    """

    motion: np.ndarray
    music: np.ndarray
    starts: np.ndarray
    genre: np.ndarray
    window: int
    short: list[str]

    def __len__(self) -> int:
        return len(self.starts)

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(B, window, 151) motion, (B, window, 35) music, (B,) genre for clip indices ``idx``."""
        frames = self.starts[idx][:, None] + np.arange(self.window)[None]
        return self.motion[frames], self.music[frames], self.genre[idx]


def make_windows(seqs: Iterable[Sequence], window: int, stride: int) -> WindowSet:
    """Index ``window``-frame clips every ``stride`` frames; sequences shorter than a window are skipped."""
    if window < 2 or stride < 1:
        raise ConfigError(f"window must be >= 2 and stride >= 1, got {window}, {stride}")
    motions, musics, starts, genres, short = [], [], [], [], []
    offset = 0
    for s in seqs:
        if len(s.motion) < window:
            short.append(s.seq_id)
            continue
        first = np.arange(0, len(s.motion) - window + 1, stride)
        starts.append(offset + first)
        genres.append(np.full(len(first), s.genre, np.int64))
        motions.append(s.motion)
        musics.append(s.music)
        offset += len(s.motion)
    if not motions:
        raise FormatError(
            f"no sequence is at least {window} frames long (shorter: {', '.join(short) or 'none'})"
        )
    return WindowSet(
        np.concatenate(motions).astype(np.float32),
        np.concatenate(musics).astype(np.float32),
        np.concatenate(starts),
        np.concatenate(genres),
        window,
        short,
    )
