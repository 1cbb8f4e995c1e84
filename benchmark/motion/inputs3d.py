"""Reading the inputs of a 3D protocol: motion files and music-beat vectors (files, or from audio).

One file per per-item boundary (:mod:`benchmark.inputs`): a file that cannot be read is named with its
reason and the others are read. Nothing here prints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.inputs import AUDIO_SUFFIXES, InputRule, item_failure
from benchmark.protocol_base import fps_problem
from ma_data.core.errors import FormatError
from ma_data.core.progress import progress_bar

__all__ = [
    "BEATS_RULE",
    "MOTION_RULE",
    "MOTION_SUFFIXES",
    "MUSIC_RULE",
    "audio_seconds",
    "beats_from_files",
    "beats_from_music",
    "load_motions",
    "read_beat_vector",
]

MOTION_SUFFIXES = (".npy", ".npz", ".pkl", ".pickle")
MOTION_RULE = InputRule(MOTION_SUFFIXES)
BEATS_RULE = InputRule((".npy",))
MUSIC_RULE = InputRule(AUDIO_SUFFIXES)


def load_motions(
    files: dict[str, Path],
    side: str,
    skipped: dict[str, str],
    fps: float | None = None,
    progress: bool = False,
) -> dict:
    """Read every motion file (``stem -> path``) of one side (``"gt"`` or ``"pred"``). Any failure to read
    one file, and a declared frame rate outside the plausible range, goes to ``skipped[f"{side}:{stem}"]``
    with the file and the reason."""
    from ma_data.core.formats.motion import load_motion

    motions = {}
    for stem, path in progress_bar(files.items(), progress, desc=side):
        try:
            motion = load_motion(path, fps=fps)
            problem = fps_problem(motion.fps)
        except Exception as exc:  # per-item boundary: the file is named, the batch goes on
            skipped[f"{side}:{stem}"] = item_failure(path, exc)
            continue
        if problem is not None:
            skipped[f"{side}:{stem}"] = f"{path}: {problem}"
            continue
        motions[stem] = motion
    return motions


def read_beat_vector(path: Path) -> np.ndarray:
    """A 0/1 music-beat vector from ``.npy``: (T,), (T, 1), or (T, 35) baseline features (column 34)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # truncated, not .npy, object array (pickle refused), ...
        reason = " ".join(f"{exc.__class__.__name__}: {exc}".split())[:160]
        raise FormatError(f"{path}: cannot read beat vector ({reason})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise FormatError(f"{path}: beat vector must hold numbers, got {got}")
    if arr.ndim == 2 and arr.shape[1] == 35:
        arr = arr[:, 34]
    elif arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise FormatError(f"{path}: beat vector must be (T,), (T, 1) or (T, 35) features, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise FormatError(f"{path}: beat vector contains NaN/inf")
    return arr


def beats_from_files(files: dict[str, Path], stems: set[str], warnings: list[str]) -> dict[str, np.ndarray]:
    """Beat vectors of ``stems`` from ``stem -> .npy``; an unreadable file is named in ``warnings``."""
    out: dict[str, np.ndarray] = {}
    for stem in sorted(stems & set(files)):
        try:
            out[stem] = read_beat_vector(files[stem])
        except Exception as exc:  # per-item boundary
            warnings.append(f"music beats: {item_failure(files[stem], exc)}")
    return out


def beats_from_music(
    files: dict[str, Path],
    stems: set[str],
    recipe: str,
    fps: float,
    warnings: list[str],
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Beat vectors of ``stems`` extracted from ``stem -> audio`` with the protocol's recipe at ``fps``; an
    audio file that fails is named in ``warnings``."""
    from ma_data.core.music_features import beat_vector

    out: dict[str, np.ndarray] = {}
    for stem in progress_bar(sorted(stems & set(files)), progress, desc="music beats"):
        try:
            v = beat_vector(files[stem], fps=int(round(fps)), recipe=recipe)
        except Exception as exc:  # per-item boundary
            warnings.append(f"music beats: {item_failure(files[stem], exc)}")
            continue
        if recipe == "lodge":
            # LODGE's vector ends at the last beat; pad it with (beat-free) zeros to the song's length so a
            # song shorter than the dance can be told from one whose last beat is early.
            seconds = audio_seconds(files[stem])
            if seconds is not None:
                v = np.pad(v, (0, max(0, int(round(seconds * fps)) - len(v))))
        out[stem] = v
    return out


def audio_seconds(path: Path) -> float | None:
    """Duration of an audio file from its header (None when the container does not say)."""
    try:
        import soundfile as sf

        return float(sf.info(str(path)).duration)
    except Exception:
        pass
    try:
        import av

        with av.open(str(path)) as container:
            return float(container.duration) / 1e6 if container.duration else None
    except Exception:
        return None
