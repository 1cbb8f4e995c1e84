"""The path a newcomer walks, as they would walk it: what is missing is said first and how to get it; no
flood of native log lines; no empty folders left by a failed command; a first checkpoint within a minute."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main as mace_bench
from benchmark.leaderboard.testset import load_testset
from ma_data.cli import main as ma_data
from models.cli import main as mace_dance

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = load_testset("sample-v1").default_gt_dir()


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_native_chatter_is_diverted_and_errors_kept():
    run = _python(
        """
        import os
        from ma_data.core.native_log import native_stderr
        with native_stderr():
            os.write(2, b"W0000 00:00:1.2 123 feedback.cc:114] Feedback manager requires a model\\n")
            os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
            os.write(2, b"E0000 00:00:1.2 123 graph.cc:9] something real went wrong\\n")
        os.write(2, b"after\\n")
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == ["E0000 00:00:1.2 123 graph.cc:9] something real went wrong", "after"]


def test_mediapipe_extraction_prints_no_chatter():
    pytest.importorskip("mediapipe")
    run = _python(
        f"""
        from ma_data.core.pose.extract import extract_track
        from ma_data.core.pose.mediapipe_backend import MediaPipeBackend
        backend = MediaPipeBackend()
        for stem in ("sample_000", "sample_001"):
            assert len(extract_track({str(SAMPLE)!r} + "/" + stem + ".mp4", backend)) == 80
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", run.stderr


def test_missing_weights_are_reported_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "empty-cache"))
    args = ["evaluate", "--dims", "motion,appearance", "--pred", str(SAMPLE), "--gt", str(SAMPLE)]
    res = CliRunner().invoke(
        mace_bench, [*args, "--n-boot", "10", "--appearance-dims", "aesthetic_quality,ssim"]
    )
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    skip = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("skipping appearance dimension aesthetic_quality")
    )
    work = next(i for i, line in enumerate(lines) if line.startswith("extracting keypoints"))
    assert skip < work and "mace-bench weights fetch clip-vit-l-14" in lines[skip]
    assert "> not scored: AQ (each reason" in res.output
    # nothing requested can run: refused at once, before any keypoint is extracted
    res = CliRunner().invoke(mace_bench, [*args, "--appearance-dims", "aesthetic_quality"])
    assert res.exit_code == 2 and "no appearance dimension can run" in res.output
    assert "extracting keypoints" not in res.output


def test_wav_gt_audio_names_the_protocol_that_reads_it(tmp_path):
    import shutil

    for name in ("sample_000.json", "sample_001.json"):
        shutil.copy(SAMPLE / name, tmp_path / name)
        (tmp_path / name.replace(".json", ".wav")).write_bytes(b"RIFF")
    res = CliRunner().invoke(
        mace_bench,
        ["evaluate", "--pred-keypoints", tmp_path, "--gt-keypoints", tmp_path, "--audio", tmp_path],
    )
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "sample_000.wav not read: mace2d-official reads .mp4" in res.output
    assert "--protocol mace2d-strict reads .wav" in res.output
    assert "or wrap it in an .mp4 (ffmpeg -i sample_000.wav -c:a aac sample_000.mp4)" in res.output


def test_generate_without_a_checkpoint_says_how_to_train_one(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "empty-cache"))
    out = tmp_path / "new" / "video.mp4"
    args = ["generate", "--music", SAMPLE / "sample_000.mp4", "--ref", tmp_path / "ref.png", "--genre", "Dai"]
    res = CliRunner().invoke(mace_dance, [str(a) for a in [*args, "--out", out, "--appearance", "none"]])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "mace-dance train-motion --demo --preset tiny --out runs/me" in res.output
    assert not (tmp_path / "new").exists()


def test_failed_commands_leave_no_empty_folders(tmp_path):
    res = CliRunner().invoke(
        ma_data, ["build", "--finedance", str(tmp_path / "nope"), "--out", str(tmp_path / "a" / "b")]
    )
    assert res.exit_code == 2 and not (tmp_path / "a").exists()
    res = CliRunner().invoke(
        mace_dance, ["train-motion", "--finedance", str(tmp_path / "nope"), "--out", str(tmp_path / "run")]
    )
    assert res.exit_code == 2 and not (tmp_path / "run").exists()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"testset: sample-v1\nmethods: [{{name: x, keypoints: {tmp_path / 'empty'}}}]\n")
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(
        mace_bench, ["reproduce", "--config", str(cfg), "--out", str(tmp_path / "repro")]
    )
    assert res.exit_code == 2 and "no usable motion samples" in res.output
    assert not (tmp_path / "repro").exists()


@pytest.mark.slow  # features of the four sample songs, then three steps
def test_train_motion_demo_defaults_and_expected_time(tmp_path, monkeypatch):
    from models.motion_expert import train

    monkeypatch.setitem(train.PRESETS, "tiny", replace(train.PRESETS["tiny"], steps=3))
    res = CliRunner().invoke(mace_dance, ["train-motion", "--demo", "--out", str(tmp_path / "me")])
    assert res.exit_code == 0, res.output
    assert "steps: 3 (the tiny preset's default; --steps N to change)" in res.output
    assert "s/step here: the remaining 0 steps take about 0 s" in res.output
    assert (tmp_path / "me" / "last.pt").is_file() and (
        tmp_path / "me" / "finedance_sample" / "motion"
    ).is_dir()
