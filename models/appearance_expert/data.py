"""Training clips for the Appearance Expert, read from the MA-Data Parquet manifest.

One item = one window of ``F`` frames (77 by default: the official 81-frame training samples minus the 4-frame
reference slot) of a clip, resampled to the training fps, with its pose video window, face video window (or
the null face when the clip has none), the clip's first frame as reference image (as the official CSV's
``input_image`` = first frame of ``video``) and its prompt.

Inputs accepted:

* the MA-Data manifest (``ma_data.manifest``, Parquet): ``video_path``, ``pose_video_path``, ``keypoints_path``
  (face crops are cut from the clip with its keypoints), ``split``, ``status`` (only ``ok`` rows);
* any Parquet/CSV table with ``video_path`` and ``pose_video_path`` and optionally ``face_video_path``,
  ``keypoints_path``, ``prompt``, ``split``, ``status``;
* the official DiffSynth metadata CSV (``video, animate_pose_video, animate_face_video, prompt``).

Paths are relative to the dataset root (the manifest's folder unless given) and must stay inside it: a table
naming an absolute path, ``..`` or a symlink to outside the root is refused before any file is opened
(``ma_data.manifest.resolve_data_path``). The face input is, in order of preference: the face video, crops
from the keypoints, the null face.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError, FormatError, MediaError

from .conditioning import (
    DEFAULT_PROMPT,
    face_video_from_keypoints,
    fit_frames,
    null_face_video,
    resample_indices,
)

REQUIRED_COLUMNS = ("video_path", "pose_video_path")
PATH_COLUMNS = ("video_path", "pose_video_path", "face_video_path", "keypoints_path")


#: Official DiffSynth metadata CSV column -> our column.
OFFICIAL_COLUMNS = {
    "video": "video_path",
    "animate_pose_video": "pose_video_path",
    "animate_face_video": "face_video_path",
}


def read_manifest_table(path: str | os.PathLike):
    """The training table as a pandas DataFrame with our column names."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        path = path / "manifest.parquet"
    if not path.is_file():
        raise FormatError(f"{path}: manifest not found")
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path).rename(columns=OFFICIAL_COLUMNS)
    else:
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(path).metadata or {}
        except Exception as exc:
            raise FormatError(f"{path}: unreadable Parquet ({type(exc).__name__}: {exc})") from exc
        if meta.get(b"format") == b"mace-dance/ma-data-manifest":
            from ma_data.manifest import read_manifest  # schema-checked MA-Data manifest

            df = read_manifest(path)
        else:
            df = pd.read_parquet(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise FormatError(f"{path}: manifest lacks column(s) {', '.join(missing)}")
    return df


def _text(row, column: str) -> str | None:
    value = row[column] if column in row.index else None
    return value if isinstance(value, str) and value else None


def read_frames_at(path: str | os.PathLike, indices: np.ndarray) -> np.ndarray:
    """Decode only the frames at ``indices`` (sorted or not, repeats allowed) of a video."""
    from ma_data.core.io.video import iter_frames

    wanted = np.asarray(indices, dtype=np.int64)
    if len(wanted) == 0:
        raise ConfigError("no frames requested")
    last = int(wanted.max())
    keep = set(wanted.tolist())
    got: dict[int, np.ndarray] = {}
    with contextlib.closing(iter_frames(path)) as frames:  # stop the decoder here, not whenever GC runs
        for i, frame in enumerate(frames):
            if i in keep:
                got[i] = frame
            if i >= last:
                break
    if not got:
        raise MediaError(f"{path}: no decodable frames")
    # Truncated files: clamp to the last decoded frame.
    top = max(got)
    return np.stack([got.get(min(int(i), top), got[top]) for i in wanted])


@dataclass
class ClipWindow:
    clip_id: str
    video: np.ndarray  # (F, H, W, 3) uint8
    pose: np.ndarray  # (F, H, W, 3) uint8
    face: np.ndarray  # (F, S, S, 3) uint8 (null face when the clip has none)
    reference: np.ndarray  # (H, W, 3) uint8, the clip's first frame
    prompt: str


class ManifestClips:
    """Map-style dataset of training windows (usable with ``torch.utils.data.DataLoader``).

    The window start is drawn from a generator seeded by ``(seed, epoch, index)``, so a resumed run sees the
    same windows; ``set_epoch`` changes them between epochs.
    """

    def __init__(
        self,
        manifest: str | os.PathLike,
        root: str | os.PathLike | None = None,
        n_frames: int = 77,
        fps: float = 16.0,
        height: int = 832,
        width: int = 480,
        face_size: int = 512,
        split: str | None = "train",
        seed: int = 0,
        default_prompt: str = DEFAULT_PROMPT,
    ):
        df = read_manifest_table(manifest)
        if split is not None and "split" in df.columns:
            df = df[df["split"] == split]
        if "status" in df.columns:
            df = df[df["status"].isin(["ok"]) | df["status"].isna()]
        if len(df) == 0:
            raise FormatError(f"{manifest}: no usable clips (split={split!r})")
        self.rows = df.reset_index(drop=True)
        self.root = Path(root) if root is not None else Path(manifest).parent
        self._check_paths(manifest)
        self.n_frames, self.fps = n_frames, fps
        self.height, self.width, self.face_size = height, width, face_size
        self.seed, self.epoch = seed, 0
        self.default_prompt = default_prompt

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _check_paths(self, manifest) -> None:
        """Refuse the table if any row names a file outside the root (checked before any file is read)."""
        from ma_data.manifest import resolve_data_path

        for i, row in self.rows.iterrows():
            for col in PATH_COLUMNS:
                if col not in REQUIRED_COLUMNS and not _text(row, col):
                    continue  # optional column, empty in this row
                try:
                    resolve_data_path(self.root, row[col])
                except FormatError as exc:
                    clip = _text(row, "clip_id") or f"row {i}"
                    raise FormatError(f"{manifest}: {clip}: {col}: {exc}") from None

    def _path(self, value) -> Path:
        from ma_data.manifest import resolve_data_path

        return resolve_data_path(self.root, value)

    def _window_start(self, path: Path, index: int) -> int:
        """First output frame (at the training fps) of this item's window, drawn reproducibly."""
        from ma_data.core.io.video import probe_video

        info = probe_video(path)
        n_out = max(1, int(np.floor(info.n_frames * self.fps / info.fps + 1e-6)))
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return int(rng.integers(0, max(1, n_out - self.n_frames + 1)))

    def _indices(self, path: Path, start: int) -> np.ndarray:
        """Frames of ``path`` (at its own fps) shown at output times ``start .. start+F-1``; the clip's last
        frame repeats past its end. Each file uses its own fps, so a pose video at another rate stays aligned
        in time."""
        from ma_data.core.io.video import probe_video

        info = probe_video(path)
        idx = resample_indices(info.n_frames, info.fps, self.fps, start + self.n_frames)
        return idx[start : start + self.n_frames]

    def __getitem__(self, index: int) -> ClipWindow:
        row = self.rows.iloc[index]
        video_path = self._path(row["video_path"])
        pose_path = self._path(row["pose_video_path"])
        start = self._window_start(video_path, index)
        idx = self._indices(video_path, start)
        raw = read_frames_at(video_path, idx)
        video = fit_frames(raw, self.height, self.width, "cover")
        reference = fit_frames(read_frames_at(video_path, np.array([0])), self.height, self.width, "cover")[0]
        pose = fit_frames(
            read_frames_at(pose_path, self._indices(pose_path, start)), self.height, self.width, "cover"
        )
        face_video, keypoints = _text(row, "face_video_path"), _text(row, "keypoints_path")
        if face_video:
            face_path = self._path(face_video)
            face = read_frames_at(face_path, self._indices(face_path, start))
            face = fit_frames(face, self.face_size, self.face_size)
        elif keypoints:
            from ma_data.core.formats.keypoints import load_npz

            # Keypoint tracks are frame-for-frame with their clip video (manifest: same n_frames).
            kp = load_npz(self._path(keypoints)).data
            face = face_video_from_keypoints(raw, kp[np.minimum(idx, len(kp) - 1)], self.face_size)
        else:
            face = null_face_video(self.n_frames, self.face_size)
        clip_id = _text(row, "clip_id") or str(index)
        return ClipWindow(clip_id, video, pose, face, reference, _text(row, "prompt") or self.default_prompt)


def collate_windows(items: list[ClipWindow]) -> list[ClipWindow]:
    """Keep windows as a list: conditioning is encoded per item by the frozen VAE/encoders."""
    return items
