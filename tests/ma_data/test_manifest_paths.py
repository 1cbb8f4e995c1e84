"""Manifest paths are data: readers refuse any that leave the dataset root, and never open them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ma_data.core.errors import FormatError
from ma_data.manifest import COLUMNS, MANIFEST_NAME, PATH_COLUMNS, SCHEMA, resolve_data_path
from ma_data.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]


def _row(clip_id: str, video_path: str) -> dict:
    """An 'ok' render row whose only file is ``video_path`` (the other path columns empty)."""
    fill = {pa.string(): "x", pa.float64(): 1.0, pa.int64(): 1}
    row = {name: fill.get(typ) for name, typ, _, _ in COLUMNS}
    row.update({c: None for c in PATH_COLUMNS}, error=None, genre=None, provenance=None)
    row.update(clip_id=clip_id, subset="render", source_id=clip_id, split="train", status="ok")
    row.update(start_frame=0, end_frame=1, n_frames=1, fps=1.0, duration_s=1.0)
    row.update(video_path=video_path, sha256="0" * 64)
    return row


def _hostile_root(tmp_path: Path, fifo: bool) -> tuple[Path, dict[str, str]]:
    """A dataset root whose manifest names files outside it (written raw: our writer would refuse them).

    With ``fifo`` the outside target is a FIFO, which blocks whoever opens it for reading (use it only where
    a hang is caught); otherwise a small regular file.
    """
    root = tmp_path / "ds"
    (root / "render" / "videos").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    if fifo:
        os.mkfifo(outside / "fifo")
    else:
        (outside / "fifo").write_bytes(b"\x00" * 64)
    (root / "render" / "videos" / "link.mp4").symlink_to(outside / "fifo")
    (root / "render" / "linkdir").symlink_to(outside, target_is_directory=True)
    bad = {
        "c-etc": "/etc/passwd",
        "c-proc": "/proc/self/environ",
        "c-dotdot": "../../outside/fifo",
        "c-inner-dotdot": "render/../../outside/fifo",
        "c-abs-fifo": str(outside / "fifo"),
        "c-symlink": "render/videos/link.mp4",
        "c-symlink-dir": "render/linkdir/fifo",
    }
    rows = [_row(cid, p) for cid, p in bad.items()] + [_row("c-missing", "render/videos/missing.mp4")]
    table = pa.Table.from_pylist(sorted(rows, key=lambda r: r["clip_id"]), schema=SCHEMA)
    pq.write_table(table, root / MANIFEST_NAME)
    return root, bad


@pytest.mark.parametrize(
    "value",
    ["/etc/passwd", "/proc/self/environ", "../../x", "a/../../x", "a/../b", "C:\\x", "", "  ", None, 3,
     "a\x00b"],
)  # fmt: skip
def test_lexical_escapes_are_refused(tmp_path, value):
    with pytest.raises(FormatError, match="path"):
        resolve_data_path(tmp_path, value)


def test_symlinks_out_of_the_root_are_refused_inside_ones_allowed(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.mp4").write_bytes(b"x")
    (root / "in.mp4").symlink_to(root / "a" / "f.mp4")
    (root / "out.mp4").symlink_to("/etc/hostname")
    (root / "loop.mp4").symlink_to(root / "loop.mp4")
    assert resolve_data_path(root, "a/f.mp4") == root / "a" / "f.mp4"
    assert resolve_data_path(root, "in.mp4") == root / "in.mp4"
    assert resolve_data_path(root, "loop.mp4") == root / "loop.mp4"  # inside; reported as unreadable later
    with pytest.raises(FormatError, match="leaves the dataset root"):
        resolve_data_path(root, "out.mp4")
    # a root reached through a symlink is fine: both sides are compared after resolving
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    assert resolve_data_path(tmp_path / "alias", "in.mp4") == tmp_path / "alias" / "in.mp4"


def test_validate_reports_each_escape_as_a_bad_row(tmp_path):
    root, bad = _hostile_root(tmp_path, fifo=False)
    report = validate_dataset(root)
    assert report.n_clips == len(bad) + 1
    for cid, value in bad.items():
        lines = [p for p in report.problems if f"clip {cid}:" in p]
        assert len(lines) == 1, (cid, report.problems)
        assert lines[0].startswith(f"{root / MANIFEST_NAME}: clip {cid}: video_path: path {value!r}")
        assert "dataset root" in lines[0]
    assert f"{root / 'render/videos/missing.mp4'}: missing" in report.problems
    assert len(report.problems) == len(bad) + 1


@pytest.mark.slow
def test_validate_cli_never_opens_them(tmp_path):
    """Through the CLI: exit 1, one line per bad row, and no hang on the FIFO (nothing outside was opened)."""
    root, bad = _hostile_root(tmp_path, fifo=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        res = subprocess.run([sys.executable, "-m", "ma_data.cli", "validate", str(root)], env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("validate blocked: it opened the FIFO outside the dataset root")
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == len(bad) + 1 and all(line.startswith("BAD ") for line in lines), lines
    for cid in bad:
        mine = [line for line in lines if f"clip {cid}: video_path: path " in line]
        assert len(mine) == 1 and "dataset root" in mine[0], (cid, lines)
    assert "Traceback" not in res.stderr and f"{len(bad) + 1} problems" in res.stdout


def test_appearance_training_table_refuses_escapes(tmp_path):
    pd = pytest.importorskip("pandas")
    from models.appearance_expert.data import ManifestClips

    (tmp_path / "ok.mp4").write_bytes(b"")
    for col, value in (("video_path", "/etc/passwd"), ("pose_video_path", "../x.mp4"),
                       ("keypoints_path", "/proc/self/environ")):  # fmt: skip
        row = {"video_path": "ok.mp4", "pose_video_path": "ok.mp4", "keypoints_path": None, "clip_id": "c1"}
        row[col] = value
        table = tmp_path / f"{col}.parquet"
        pd.DataFrame([row]).to_parquet(table)
        with pytest.raises(FormatError, match=f"c1: {col}: path .* dataset root"):
            ManifestClips(table, split=None)
