"""End-to-end render builds: manifest contents, determinism across builds, kill-and-resume, validation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("pyrender")

from ma_data.build import Ledger  # noqa: E402
from ma_data.cli import main  # noqa: E402
from ma_data.core.formats.keypoints import load_npz  # noqa: E402
from ma_data.core.io.video import probe_video  # noqa: E402
from ma_data.manifest import COLUMNS, read_manifest  # noqa: E402
from ma_data.validate import validate_dataset  # noqa: E402

pytestmark = pytest.mark.slow

ENV = {**os.environ, "MACE_DANCE_NO_PROGRESS": "1"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ma_data.cli", *args]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def reference_build(tmp_path_factory, tiny_finedance, tiny_config_file):
    """An uninterrupted serial build, in-process through click."""
    out = tmp_path_factory.mktemp("ref") / "ds"
    res = CliRunner().invoke(
        main,
        [
            "build",
            "--finedance",
            str(tiny_finedance),
            "--out",
            str(out),
            "--config",
            str(tiny_config_file),
            "--executor",
            "serial",
        ],  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    return out


def test_manifest_contents(reference_build, tiny_finedance):
    df = read_manifest(reference_build)
    assert list(df.columns) == [c[0] for c in COLUMNS]
    assert len(df) == 3 and (df["status"] == "ok").all()
    assert set(df["subset"]) == {"render"}
    assert (df["duration_s"] >= 2.0).all() and (df["duration_s"] <= 2.5).all()  # the tiny config's range
    assert np.allclose(df["end_s"] - df["start_s"], df["duration_s"])
    assert (df["end_frame"] - df["start_frame"] == df["n_frames"]).all()
    assert dict(df.groupby("source_id")["split"].first()) == {"001": "train", "012": "test"}
    assert df.groupby("source_id")["split"].nunique().max() == 1
    assert set(df["genre"]) == {"Popping", "Dai"}
    assert (
        df["source_uri"].str.startswith("sample://").all() and df["license"].str.contains("synthetic").all()
    )
    from ma_data.render import PRESETS
    from ma_data.render.renderer import ClipRenderer

    drawn_by = ClipRenderer(
        PRESETS["demo"].with_(width=96, height=160)
    ).render_path()  # "auto" on this machine
    for row in df.to_dict("records"):
        assert json.loads(row["provenance"])["render_path"] == drawn_by
        assert row["clip_id"] == f"render-{row['source_id']}-{row['start_frame']:06d}-{row['n_frames']:04d}"
        for col in ("video_path", "audio_path", "music_features_path", "motion_path", "keypoints_path",
                    "pose_video_path"):  # fmt: skip
            assert not os.path.isabs(row[col]) and (reference_build / row[col]).is_file()
        info = probe_video(reference_build / row["video_path"])
        assert (info.n_frames, info.width, info.height, info.has_audio) == (row["n_frames"], 96, 160, True)
        assert info.audio_duration_s == pytest.approx(row["duration_s"], abs=0.1)
        kp = load_npz(reference_build / row["keypoints_path"])
        assert kp.data.shape == (row["n_frames"], 25, 3) and kp.source_sha256 == row["sha256"]
        assert np.load(reference_build / row["music_features_path"]).shape == (row["n_frames"], 35)
        m = np.load(reference_build / row["motion_path"])
        assert m["poses"].shape == (row["n_frames"], 24, 3)
        # the motion slice is the source's frames [start, end)
        from ma_data.core.formats.motion import read_finedance

        src = read_finedance(tiny_finedance / "motion" / f"{row['source_id']}.npy")
        assert np.allclose(m["trans"], src.trans[row["start_frame"] : row["end_frame"]])


def test_validate_passes_then_names_bad_files(reference_build, tmp_path):
    assert validate_dataset(reference_build).ok
    bad = tmp_path / "bad"
    shutil.copytree(reference_build, bad)
    df = read_manifest(bad)
    video = bad / df["video_path"][0]
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])  # truncate
    (bad / df["keypoints_path"][1]).unlink()
    res = _cli("validate", str(bad))
    assert res.returncode == 1
    assert str(video) in res.stderr
    assert str(bad / df["keypoints_path"][1]) in res.stderr
    assert str(bad / df["video_path"][2]) not in res.stderr  # good files are not blamed
    assert _cli("validate", str(reference_build)).returncode == 0


def test_kill_and_resume_matches_reference(reference_build, tiny_finedance, tiny_config_file, tmp_path):
    """SIGKILL a process-pool build after its first clip, resume it: same clips and hashes, nothing extra."""
    out = tmp_path / "ds"
    args = [sys.executable, "-m", "ma_data.cli", "build", "--finedance", str(tiny_finedance), "--out", str(out),
            "--config", str(tiny_config_file), "--executor", "process", "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(args, env=ENV, start_new_session=True)
    ledger = out / ".build" / "ledger.sqlite"
    deadline = time.time() + 300
    done = 0
    while time.time() < deadline and proc.poll() is None:
        if ledger.exists():
            try:
                done = Ledger(ledger).counts("render").get("render", {}).get("done", 0)
            except Exception:  # noqa: BLE001 - the db may be mid-creation
                done = 0
            if done >= 1:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-build
    proc.wait()
    assert 1 <= done < 3, "the build should have been killed part-way"
    assert not (out / "manifest.parquet").exists()

    # resume in-process (the ledger, not the process, carries the state)
    res = CliRunner().invoke(main, args[3:])
    assert res.exit_code == 0, res.output
    a = read_manifest(reference_build)
    b = read_manifest(out)
    cols = [c for c in a.columns if c not in ("provenance",)]
    pd.testing.assert_frame_equal(a[cols], b[cols])  # identical manifests, sha256 included
    assert set(zip(a.clip_id, a.sha256, strict=True)) == set(zip(b.clip_id, b.sha256, strict=True))
    leftovers = [p for p in out.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    n_files = sum(1 for p in (out / "render").rglob("*") if p.is_file())
    assert n_files == 3 * 6  # six files per clip, no duplicates
    counts = Ledger(out / ".build" / "ledger.sqlite").counts("render")["render"]
    assert counts["done"] == 3 and counts["failed"] == 0
    assert validate_dataset(out).ok
    # a third run is a no-op: nothing redone, same manifest bytes
    before = (out / "manifest.parquet").read_bytes()
    res = CliRunner().invoke(main, args[3:])
    assert res.exit_code == 0 and (out / "manifest.parquet").read_bytes() == before


def _files(root) -> dict[str, str]:
    """sha256 of every file a build wrote (not the ledger, which records timings and attempts)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".build" not in p.relative_to(root).parts
    }


def test_a_second_clean_build_writes_identical_files(
    reference_build, tiny_finedance, tiny_config_file, tmp_path
):
    """Two clean builds, in different processes, give the same clips, hashes and bytes.

    Regression: x264 state left by earlier clips changed later clips' bytes and pixels within a build (see
    ma_data.core.io.video.X264_DETERMINISTIC); this tiny config showed it on an AVX-512 machine.
    """
    out = tmp_path / "again"
    res = _cli("build", "--finedance", str(tiny_finedance), "--out", str(out), "--config", str(tiny_config_file),
               "--executor", "serial")  # fmt: skip
    assert res.returncode == 0, res.stderr
    a, b = read_manifest(reference_build), read_manifest(out)
    assert set(zip(a.clip_id, a.sha256, strict=True)) == set(zip(b.clip_id, b.sha256, strict=True))
    assert _files(reference_build / "render") == _files(out / "render")


def test_stats(reference_build, tmp_path):
    res = CliRunner().invoke(main, ["stats", str(reference_build), "--png", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    assert "Popping" in res.output and "test" in res.output
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_build_errors_are_one_line(tmp_path):
    res = _cli("build", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and res.stderr.strip().startswith("error:") and "Traceback" not in res.stderr
    res = _cli("build", "--finedance", str(tmp_path), "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "not a FineDance folder" in res.stderr and "Traceback" not in res.stderr
