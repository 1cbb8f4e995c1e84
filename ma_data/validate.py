"""``ma-data validate``: check a dataset root against its manifest, naming every bad file.

For each ``status == "ok"`` row: every named file exists; the video opens, decodes fully, has the manifest's
frame count, size and fps, carries an audio track as long as the clip, and hashes to ``sha256``; the pose
video decodes with the same frame count; the wav lasts ``duration_s``; music features are (n_frames, 35);
motion and keypoint files load with n_frames frames (keypoints (n, 25, 3) at the video's size). Across rows:
clip ids are unique and every source lies in exactly one split. A path that leaves the dataset root (absolute,
``..``, or a symlink to outside) is reported as a bad row and never opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ma_data.core.errors import FormatError, MaceError
from ma_data.manifest import MANIFEST_NAME, PATH_COLUMNS, read_manifest, resolve_data_path

__all__ = ["ValidationReport", "validate_dataset"]


@dataclass
class ValidationReport:
    root: Path
    n_clips: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _msg(path: Path, exc: Exception) -> str:
    s = str(exc)
    return s if str(path) in s else f"{path}: {s}"


def _check_video(path: Path, row, decode: bool, want_audio: bool, sha: str | None) -> list[str]:
    from ma_data.core.io.atomic import sha256_file
    from ma_data.core.io.video import iter_frames, probe_video

    out: list[str] = []
    n, fps = int(row["n_frames"]), float(row["fps"])
    try:
        info = probe_video(path)
    except (MaceError, OSError) as exc:
        return [_msg(path, exc)]
    if info.n_frames != n:
        out.append(f"{path}: {info.n_frames} frames, manifest says {n}")
    if (info.width, info.height) != (int(row["width"]), int(row["height"])):
        out.append(f"{path}: size {info.width}x{info.height}, manifest says {row['width']}x{row['height']}")
    if abs(info.fps - fps) > 1e-3:
        out.append(f"{path}: {info.fps} fps, manifest says {fps}")
    if want_audio:
        if not info.has_audio:
            out.append(f"{path}: no audio track")
        elif info.audio_duration_s is not None and abs(info.audio_duration_s - n / fps) > 0.1:
            out.append(f"{path}: audio lasts {info.audio_duration_s:.3f} s, clip {n / fps:.3f} s")
    if decode:
        try:
            k = sum(1 for _ in iter_frames(path))
        except (MaceError, OSError) as exc:
            out.append(_msg(path, exc))
        else:
            if k != n:
                out.append(f"{path}: decoded {k} frames, manifest says {n}")
    if sha is not None:
        got = sha256_file(path)
        if got != sha:
            out.append(f"{path}: sha256 {got[:12]}... differs from the manifest's {sha[:12]}...")
    return out


def _check_row(root: Path, row, decode: bool) -> list[str]:
    from ma_data.core.formats.keypoints import load_npz
    from ma_data.core.formats.motion import read_motion_npz
    from ma_data.core.io.audio import load_audio

    problems: list[str] = []
    n, fps = int(row["n_frames"]), float(row["fps"])
    if abs(row["duration_s"] - n / fps) > 1e-6 or int(row["end_frame"]) - int(row["start_frame"]) != n:
        problems.append(f"{row['clip_id']}: inconsistent frames/duration in the manifest")
    paths = {}
    for col in PATH_COLUMNS:
        rel = row.get(col)
        if rel is None or (isinstance(rel, float) and np.isnan(rel)):
            continue
        try:
            p = resolve_data_path(root, rel)  # never open what lies outside the root
        except FormatError as exc:
            problems.append(f"{root / MANIFEST_NAME}: clip {row['clip_id']}: {col}: {exc}")
            continue
        if not p.exists():
            problems.append(f"{p}: missing")
        elif not p.is_file():
            problems.append(f"{p}: not a regular file")
        else:
            paths[col] = p
    if "video_path" in paths:
        problems += _check_video(
            paths["video_path"], row, decode, want_audio="audio_path" in paths, sha=row["sha256"]
        )
    if "pose_video_path" in paths:
        problems += _check_video(paths["pose_video_path"], row, decode, want_audio=False, sha=None)
    if "audio_path" in paths:
        p = paths["audio_path"]
        try:
            y, sr = load_audio(p)
            if abs(len(y) / sr - n / fps) > 2.0 / fps:
                problems.append(f"{p}: lasts {len(y) / sr:.3f} s, clip {n / fps:.3f} s")
        except (MaceError, OSError) as exc:
            problems.append(_msg(p, exc))
    if "music_features_path" in paths:
        p = paths["music_features_path"]
        try:
            f = np.load(p, allow_pickle=False)
            if f.shape != (n, 35):
                problems.append(f"{p}: shape {f.shape}, expected ({n}, 35)")
        except Exception as exc:  # noqa: BLE001 - any unreadable npy is a bad file
            problems.append(f"{p}: unreadable ({type(exc).__name__}: {exc})")
    if "motion_path" in paths:
        p = paths["motion_path"]
        try:
            m = read_motion_npz(p)
            if m.n_frames != n:
                problems.append(f"{p}: {m.n_frames} frames, expected {n}")
        except Exception as exc:  # noqa: BLE001
            problems.append(_msg(p, exc))
    if "keypoints_path" in paths:
        p = paths["keypoints_path"]
        try:
            tr = load_npz(p)
            if tr.data.shape != (n, 25, 3):
                problems.append(f"{p}: keypoints {tr.data.shape}, expected ({n}, 25, 3)")
            if (tr.width, tr.height) != (int(row["width"]), int(row["height"])):
                problems.append(f"{p}: keypoint frame size {tr.width}x{tr.height} differs from the video")
        except Exception as exc:  # noqa: BLE001
            problems.append(_msg(p, exc))
    return problems


def validate_dataset(root: str | os.PathLike, decode: bool = True) -> ValidationReport:
    """Validate every clip of a dataset root; raises only when the manifest itself is unusable."""
    root = Path(root)
    df = read_manifest(root)
    report = ValidationReport(root=root)
    dup = df["clip_id"][df["clip_id"].duplicated()]
    report.problems += [f"{root / 'manifest.parquet'}: duplicate clip_id {c}" for c in dup]
    for (subset, source), splits in df.groupby(["subset", "source_id"])["split"]:
        if splits.nunique() > 1:
            report.problems.append(
                f"{root / 'manifest.parquet'}: source {subset}/{source} is in several splits: "
                f"{sorted(splits.unique())}"
            )
    for row in df[df["status"] == "ok"].to_dict("records"):
        report.n_clips += 1
        report.problems += _check_row(root, row, decode)
    return report
