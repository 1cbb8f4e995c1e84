"""The MA-Data manifest: one Parquet table, one row per clip, with a documented and enforced schema.

Paths are POSIX paths relative to the dataset root (the folder holding ``manifest.parquet``). Rows are sorted
by ``clip_id``. A row with ``status == "ok"`` has every file it names; a row with ``status == "failed"`` keeps
the planned clip (source, times, split) and the ``error`` that stopped it, with empty paths and hash.
Columns (``SCHEMA`` carries each description as field metadata, readable with ``pq.read_schema``):
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ma_data.core.errors import FormatError
from ma_data.core.io.atomic import atomic_path

__all__ = [
    "COLUMNS",
    "MANIFEST_NAME",
    "PATH_COLUMNS",
    "SCHEMA",
    "read_manifest",
    "resolve_data_path",
    "rows_of_other_subsets",
    "validate_rows",
    "write_manifest",
]

MANIFEST_NAME = "manifest.parquet"

#: (name, arrow type, nullable, description)
COLUMNS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    (
        "clip_id",
        pa.string(),
        False,
        "deterministic id: <subset>-<source_id>-<start_frame:06d>-<n_frames:04d>",
    ),
    ("subset", pa.string(), False, "'render' (FineDance renders) or 'internet' (crawled videos)"),
    ("source_id", pa.string(), False, "the source sequence / video id; splits are grouped by it"),
    ("source_uri", pa.string(), False, "where the source came from (file path, sample:// or URL)"),
    ("start_s", pa.float64(), False, "clip start in the source, seconds (= start_frame / fps)"),
    ("end_s", pa.float64(), False, "clip end in the source, seconds, exclusive"),
    ("start_frame", pa.int64(), False, "first source frame"),
    ("end_frame", pa.int64(), False, "one past the last source frame"),
    ("n_frames", pa.int64(), False, "frames in the clip video, keypoints and motion (= end - start)"),
    ("fps", pa.float64(), False, "frame rate of the clip video"),
    ("width", pa.int64(), False, "video width, pixels"),
    ("height", pa.int64(), False, "video height, pixels"),
    ("duration_s", pa.float64(), False, "n_frames / fps"),
    ("genre", pa.string(), True, "FineDance style2 genre (render) or crawled genre tag"),
    ("split", pa.string(), False, "'train' | 'val' | 'test'; all clips of a source share one split"),
    ("video_path", pa.string(), True, "rendered/cut video, H.264 + AAC mp4"),
    ("audio_path", pa.string(), True, "music slice, 16-bit PCM wav"),
    ("music_features_path", pa.string(), True, "(n_frames, 35) float32 .npy, EDGE/FACT baseline features"),
    ("motion_path", pa.string(), True, "SMPL-24 motion slice .npz (poses, trans, joints, fps, up_axis)"),
    ("keypoints_path", pa.string(), True, "(n_frames, 25, 3) ViTPose-25 keypoint .npz (KeypointTrack)"),
    ("pose_video_path", pa.string(), True, "OpenPose-18 + feet + hands pose video (Wan-Animate style)"),
    ("sha256", pa.string(), True, "sha256 of the video file"),
    ("license", pa.string(), False, "licence of the source material"),
    ("provenance", pa.string(), True, "JSON: generator, config hash, toolkit version"),
    ("status", pa.string(), False, "'ok' or 'failed'"),
    ("error", pa.string(), True, "why a failed clip failed"),
)

SCHEMA = pa.schema(
    [pa.field(n, t, nullable=nl, metadata={"description": d}) for n, t, nl, d in COLUMNS],
    metadata={"format": "mace-dance/ma-data-manifest", "version": "1"},
)

__doc__ += "\n".join(f"\n* ``{n}`` ({t}{', nullable' if nl else ''}): {d}" for n, t, nl, d in COLUMNS)

PATH_COLUMNS = (
    "video_path",
    "audio_path",
    "music_features_path",
    "motion_path",
    "keypoints_path",
    "pose_video_path",
)


def resolve_data_path(root: str | os.PathLike, value: object) -> Path:
    """The file a manifest path names: ``root / value``, refused unless it stays inside ``root``.

    Manifests come from others, so their paths are data: before anything opens ``root / value``, the value must
    be a non-empty relative POSIX path without ``..`` (not ``/etc/passwd``, ``/proc/self/environ``, ``C:\\x`` or
    ``../../x``), and the file it reaches after following every symlink must lie under the root's own real
    path (a symlink inside the root that points outside is refused too). Raises :class:`FormatError` with the
    problem (no file name prefix: callers say which manifest row it came from). Returns ``root / value``
    unresolved, so messages name the file as the manifest does.
    """
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"path {value!r} is not a file path")
    if "\x00" in value:
        raise FormatError(f"path {value!r} contains a NUL byte")
    rel = PurePosixPath(value)
    if rel.is_absolute() or PureWindowsPath(value).anchor:
        raise FormatError(f"path {value!r} must be relative to the dataset root")
    if ".." in rel.parts or ".." in PureWindowsPath(value).parts:
        raise FormatError(f"path {value!r} leaves the dataset root (..)")
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, *rel.parts))
    if os.path.commonpath([base, target]) != base:
        raise FormatError(f"path {value!r} leaves the dataset root (through a symlink to {target})")
    return Path(root) / rel


def validate_rows(rows: list[dict[str, Any]], where: str = "manifest") -> None:
    """Raise :class:`FormatError` on missing columns, nulls in required columns or duplicate clip ids."""
    names = [c[0] for c in COLUMNS]
    seen: set[str] = set()
    for i, row in enumerate(rows):
        missing = [n for n in names if n not in row]
        if missing:
            raise FormatError(f"{where}: row {i} misses columns {', '.join(missing)}")
        for n, _, nullable, _ in COLUMNS:
            if not nullable and row[n] is None:
                raise FormatError(f"{where}: row {i} ({row.get('clip_id')}) has no {n}")
        if row["status"] not in ("ok", "failed"):
            raise FormatError(f"{where}: row {i} has status {row['status']!r} (expected ok/failed)")
        if row["status"] == "ok":
            for n in ("video_path", "sha256"):
                if not row[n]:
                    raise FormatError(f"{where}: ok row {row['clip_id']} has no {n}")
            for n in PATH_COLUMNS:
                if row[n] and (os.path.isabs(row[n]) or ".." in Path(row[n]).parts):
                    raise FormatError(f"{where}: {row['clip_id']}.{n} must be relative to the root: {row[n]}")
        if row["clip_id"] in seen:
            raise FormatError(f"{where}: duplicate clip_id {row['clip_id']}")
        seen.add(row["clip_id"])


def write_manifest(path: str | os.PathLike, rows: list[dict[str, Any]]) -> Path:
    """Validate, sort by clip_id and write the table atomically."""
    rows = sorted(rows, key=lambda r: r["clip_id"])
    validate_rows(rows, str(path))
    table = pa.Table.from_pylist([{c[0]: r[c[0]] for c in COLUMNS} for r in rows], schema=SCHEMA)
    path = Path(path)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def rows_of_other_subsets(
    path: str | os.PathLike, subsets: set[str] | frozenset[str]
) -> list[dict[str, Any]]:
    """Rows of the manifest at ``path`` whose subset is not in ``subsets``, as plain Python values.

    A build or crawl rewrites only its own subsets; this is what it must carry over (e.g. a render build
    into a root that already holds crawled clips). A missing file gives no rows.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        records = pq.read_table(path, columns=[c[0] for c in COLUMNS]).to_pylist()
    except Exception as exc:
        raise FormatError(f"{path}: unreadable Parquet ({type(exc).__name__}: {exc})") from exc
    return [r for r in records if r["subset"] not in subsets]


def read_manifest(path: str | os.PathLike):
    """Read a manifest (file, or a dataset root holding ``manifest.parquet``) as a pandas DataFrame."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise FormatError(f"{path}: manifest not found")
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise FormatError(f"{path}: unreadable Parquet ({type(exc).__name__}: {exc})") from exc
    missing = [c[0] for c in COLUMNS if c[0] not in table.column_names]
    if missing:
        raise FormatError(f"{path}: manifest misses columns {', '.join(missing)}")
    return table.to_pandas()
