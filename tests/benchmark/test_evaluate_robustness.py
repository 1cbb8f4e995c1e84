"""`mace-bench evaluate` on hostile and degenerate input: one bad item never aborts the batch, options and
output paths are checked before any work, and numbers that cannot be trusted carry warnings."""

import json
import os
import time

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.benchmark.demo_set import copy_set, evaluate_args
from tools.synthetic_keypoints import make_demo_set


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory):
    return make_demo_set(tmp_path_factory.mktemp("demo"), n_samples=8, seed=1)


def _run(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _reasons(out):
    return {item["stem"]: item["reason"] for item in json.loads(out.read_text())["skipped"]}


def test_hostile_files_are_named_and_skipped(demo_set, tmp_path):
    """A 100,000-deep JSON, an npz whose metadata has a string fps, a folder, a FIFO, a symlink loop and a
    broken link: each is skipped with a reason naming the file; the other stems are scored."""
    d = copy_set(demo_set, tmp_path)
    (d["pred_keypoints"] / "demo_000.json").write_text('{"keypoints": ' + "[" * 100000 + "]" * 100000 + "}")
    kp = np.array(json.loads((d["gt_keypoints"] / "demo_001.json").read_text())["keypoints"])
    (d["gt_keypoints"] / "demo_001.json").unlink()
    meta = json.dumps({"format": "mace-dance/keypoints", "fps": "abc"}).encode()
    np.savez(
        d["gt_keypoints"] / "demo_001.npz",
        data=kp[..., [1, 0, 2]].astype(np.float32),
        mask=np.ones(len(kp), bool),
        metadata=np.frombuffer(meta, np.uint8),
    )
    (d["pred_keypoints"] / "demo_002.json").unlink()
    (d["pred_keypoints"] / "demo_002.json").mkdir()
    (d["gt_keypoints"] / "demo_003.json").unlink()
    os.mkfifo(d["gt_keypoints"] / "demo_003.json")
    (d["audio"] / "demo_004.mp4").unlink()
    os.symlink("demo_004.mp4", d["audio"] / "demo_004.mp4")
    (d["audio"] / "demo_005.mp4").unlink()
    os.symlink("elsewhere.mp4", d["audio"] / "demo_005.mp4")
    out = tmp_path / "r.json"
    run = _run(evaluate_args(d, "--protocol", "mace2d-strict", "--out", out))
    assert run.exit_code == 0, run.output
    reasons = _reasons(out)
    assert set(reasons) == {f"demo_{i:03d}" for i in range(6)}
    assert "demo_000.json" in reasons["demo_000"] and "nested too deeply" in reasons["demo_000"]
    assert "demo_001.npz" in reasons["demo_001"] and "fps must be a positive number" in reasons["demo_001"]
    assert "demo_002.json" in reasons["demo_002"] and "folder" in reasons["demo_002"]
    assert "demo_003.json" in reasons["demo_003"] and "FIFO" in reasons["demo_003"]
    assert "symlink loop" in reasons["demo_004"] and "broken symlink" in reasons["demo_005"]
    assert json.loads(out.read_text())["n_samples"] == 2


def test_implausible_fps_is_skipped_with_its_reason(demo_set, tmp_path):
    """mace2d-strict used to score a 2-frame file declaring fps 1e-6 as 2,000,000 seconds of dance."""
    d = copy_set(demo_set, tmp_path)
    path = d["pred_keypoints"] / "demo_000.json"
    doc = json.loads(path.read_text())
    doc["fps"], doc["keypoints"] = 1e-6, doc["keypoints"][:2]
    path.write_text(json.dumps(doc))
    for protocol in ("mace2d-strict", "mace2d-official"):
        out = tmp_path / f"{protocol}.json"
        assert _run(evaluate_args(d, "--protocol", protocol, "--out", out)).exit_code == 0
        reason = _reasons(out)["demo_000"]
        assert "demo_000.json" in reason and "1e-06 fps" in reason and "[1, 240]" in reason


def test_options_and_output_paths_fail_before_any_work(demo_set, tmp_path, monkeypatch):
    import benchmark.evaluate

    def no_work(*a, **k):
        raise AssertionError("scoring started before the output path was checked")

    monkeypatch.setattr(benchmark.evaluate, "run_evaluate", no_work)
    cases = [
        ("--out", str(tmp_path / "nonexistent" / "dir" / "x.json"), "does not exist"),
        ("--markdown", str(tmp_path), "is a folder"),
        ("--plots", str(tmp_path / "a" / "b"), "does not exist"),
        ("--n-boot", "-5", "--n-boot"),
        ("--seed", "-1", "--seed"),
    ]
    for flag, value, message in cases:
        start = time.monotonic()
        run = _run(evaluate_args(demo_set, flag, value))
        assert run.exit_code == 2, (flag, run.output)
        assert run.output.count("\n") == 1 and run.output.startswith("error:") and message in run.output
        assert time.monotonic() - start < 1.0
    assert not (tmp_path / "nonexistent").exists() and not (tmp_path / "a").exists()
    three = _run(["evaluate-3d", "--gt", tmp_path, "--pred", tmp_path, "--fps", "1e-6"])
    assert three.exit_code == 2 and three.output.count("\n") == 1 and "--fps" in three.output
    three = _run(["evaluate-3d", "--gt", tmp_path, "--pred", tmp_path, "--out", tmp_path / "no" / "r.json"])
    assert three.exit_code == 2 and "does not exist" in three.output
    table = _run(["table", "--out", tmp_path / "no" / "t.md"])
    assert table.exit_code == 2 and "does not exist" in table.output


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--n-boot", "abc"],
        ["evaluate", "--pose", "nope"],
        ["evaluate-3d", "--gt", "x"],
        ["evaluate-3d", "--gt", "a", "--pred", "b", "--music", "m", "--music-beats", "b"],
        ["table", "--label", "a"],
        ["table", "--format", "rtf"],
        ["keypoints", "--videos", "v"],
    ],
)
def test_usage_errors_are_one_line(args):
    run = _run(args)
    assert run.exit_code == 2
    assert run.output.count("\n") == 1 and run.output.startswith("error: "), run.output


def test_bare_group_still_prints_its_help():
    for args in ([], ["weights"]):
        run = _run(args)
        assert "Usage:" in run.output and "Commands:" in run.output and "error:" not in run.output


def test_identical_sets_print_zero_and_ordered_intervals(demo_set, tmp_path):
    """GT scored against itself: FID is ~1e-13 below zero; it prints as 0 and its interval in order."""
    d = dict(demo_set, pred_keypoints=demo_set["gt_keypoints"])
    out = tmp_path / "same.json"
    run = _run(evaluate_args(d, "--n-boot", "20", "--out", out))
    assert run.exit_code == 0, run.output
    assert "-0.0000" not in run.output
    for entry in json.loads(out.read_text())["metrics"].values():
        lo, hi = entry["ci95"]
        assert lo <= hi
    fid = next(line for line in run.output.splitlines() if line.startswith("| FID_k |"))
    assert fid.startswith("| FID_k | 0.0000 | [0.0000, 0.0000] |")


def _silent_wav(path, seconds):
    from ma_data.core.io.audio import write_wav

    write_wav(path, np.zeros(int(seconds * 22050), np.float32), 22050)


def test_bas_undefined_without_music_beats(demo_set, tmp_path):
    """Silent, too-short (0.3 s) GT music: strict leaves that clip's BAS undefined (null, out of the mean,
    listed); the official protocol keeps the reference's 0 and names the clips in a warning."""
    d = copy_set(demo_set, tmp_path)
    for stem, seconds in (("demo_000", 6.0), ("demo_001", 0.3)):
        (d["audio"] / f"{stem}.mp4").unlink()
        _silent_wav(d["audio"] / f"{stem}.wav", seconds)
    out = tmp_path / "strict.json"
    assert _run(evaluate_args(d, "--protocol", "mace2d-strict", "--out", out)).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["per_sample"]["demo_000"]["bas"] is None and doc["per_sample"]["demo_001"]["bas_gt"] is None
    defined = [doc["per_sample"][f"demo_{i:03d}"]["bas"] for i in range(2, 8)]
    assert doc["metrics"]["bas"]["value"] == pytest.approx(np.mean(defined), rel=1e-12)
    undefined = doc["extra"]["mace2d-strict"]["bas_undefined"]
    assert set(undefined) == {"demo_000", "demo_001"} and "0.30 s" in undefined["demo_001"]
    assert any("BAS undefined for 2 clip(s)" in w for w in doc["warnings"])

    # The official protocol reads .mp4 audio only: wrap the silent tracks as the official GT clips are.
    from ma_data.core.io.video import write_video

    for stem, seconds in (("demo_000", 6.0), ("demo_001", 0.3)):
        (d["audio"] / f"{stem}.wav").unlink()
        frames = [np.zeros((32, 32, 3), np.uint8)] * max(2, int(seconds * 16))
        write_video(
            d["audio"] / f"{stem}.mp4",
            frames,
            16,
            audio=np.zeros(int(seconds * 22050), np.float32),
            audio_sr=22050,
        )
    out = tmp_path / "official.json"
    assert _run(evaluate_args(d, "--out", out)).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["per_sample"]["demo_000"]["bas"] == 0.0  # the reference's behaviour, kept
    warning = next(w for w in doc["warnings"] if "BAS of" in w)
    assert "demo_000" in warning and "demo_001" in warning


def test_folders_fifos_and_loops_given_as_videos_are_reported(tmp_path):
    """Appearance: entries named like videos that are not files are skipped with what they are."""
    from ma_data.core.io.video import write_video

    pred = tmp_path / "pred"
    pred.mkdir()
    rng = np.random.default_rng(0)
    for stem in ("a", "b"):
        write_video(pred / f"{stem}.mp4", [rng.integers(0, 255, (32, 32, 3), np.uint8) for _ in range(4)], 8)
    (pred / "folder.mp4").mkdir()
    os.mkfifo(pred / "pipe.mp4")
    os.symlink("loop.mp4", pred / "loop.mp4")
    out = tmp_path / "r.json"
    run = _run(
        ["evaluate", "--dims", "appearance", "--appearance-dims", "temporal_flickering", "--pred", pred,
         "--n-boot", "0", "--out", out]
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    reasons = _reasons(out)
    assert "folder" in reasons["folder"] and "FIFO" in reasons["pipe"] and "symlink loop" in reasons["loop"]
    assert set(json.loads(out.read_text())["per_sample"]) == {"a", "b"}


def test_keypoints_leaves_no_empty_output_folder(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "bad.mp4").write_bytes(b"not a video")
    (videos / "dir.mp4").mkdir()
    out = tmp_path / "kp"
    run = _run(["keypoints", "--videos", videos, "--out", out])
    assert run.exit_code == 2 and not out.exists()
    assert "dir.mp4: is a folder" in run.output
