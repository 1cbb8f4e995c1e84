"""`mace-bench evaluate` end to end on synthetic keypoints and click-track music, and on bad input."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.benchmark.demo_set import copy_set, evaluate_args
from tools.synthetic_keypoints import make_demo_set


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory):
    return make_demo_set(tmp_path_factory.mktemp("demo"), n_samples=10, seed=0)


def _run(dirs, *extra, out=None):
    args = evaluate_args(dirs, *extra, n_boot=50) + (["--out", str(out)] if out is not None else [])
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_results_file_has_the_contract(demo_set, tmp_path):
    out = tmp_path / "results.json"
    result = _run(demo_set, out=out)
    assert result.exit_code == 0, result.output
    assert "| FID_k |" in result.output
    doc = json.loads(out.read_text())
    assert doc["protocol"]["name"] == "mace2d-official" and doc["protocol"]["params"]
    assert doc["n_samples"] == 10
    for key in ("fid_k", "fid_g", "div_k", "div_g", "bas", "div_k_gt", "div_g_gt", "bas_gt"):
        entry = doc["metrics"][key]
        assert entry["value"] is not None and len(entry["ci95"]) == 2, key
    assert set(doc["per_sample"]) == {f"demo_{i:03d}" for i in range(10)}
    assert len(doc["inputs"]["motion"]["files"]) == 10
    assert doc["toolkit"]["version"] and doc["environment"]["packages"]["numpy"]
    # The GT dancers pause on every beat, the generated ones half a beat off.
    assert doc["metrics"]["bas_gt"]["value"] > doc["metrics"]["bas"]["value"] + 0.2
    assert doc["uncertainty"]["n_boot"] == 50


def test_bad_items_are_skipped_with_reasons(demo_set, tmp_path):
    dirs = copy_set(demo_set, tmp_path)
    (dirs["gt_keypoints"] / "demo_000.json").write_text('{"keypoints": [[[1, 2')  # truncated
    doc = json.loads((dirs["pred_keypoints"] / "demo_001.json").read_text())
    doc["keypoints"] = np.zeros((70, 17, 3)).tolist()  # wrong joint count
    (dirs["pred_keypoints"] / "demo_001.json").write_text(json.dumps(doc))
    doc = json.loads((dirs["gt_keypoints"] / "demo_002.json").read_text())
    doc["keypoints"][3][4][0] = float("nan")
    (dirs["gt_keypoints"] / "demo_002.json").write_text(json.dumps(doc))
    (dirs["audio"] / "demo_003.mp4").unlink()  # stem missing on one side
    (dirs["audio"] / "demo_004.mp4").write_bytes(b"not audio")  # unreadable audio
    out = tmp_path / "r.json"
    result = _run(dirs, out=out)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    reasons = {item["stem"]: item["reason"] for item in doc["skipped"]}
    assert set(reasons) == {"demo_000", "demo_001", "demo_002", "demo_003", "demo_004"}
    assert "demo_000.json" in reasons["demo_000"] and "demo_001.json" in reasons["demo_001"]
    assert "GT audio" in reasons["demo_003"] and "demo_004.mp4" in reasons["demo_004"]
    assert doc["n_samples"] == 5


def test_nothing_usable_is_one_line_and_exit_2(tmp_path):
    for name in ("gt", "pred", "audio"):
        (tmp_path / name).mkdir()
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--gt-keypoints",
            str(tmp_path / "gt"),
            "--pred-keypoints",
            str(tmp_path / "pred"),
            "--audio",
            str(tmp_path / "audio"),
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and result.output.startswith(
        "error: no usable motion samples"
    )
    missing = CliRunner().invoke(
        main, ["evaluate", "--pred", str(tmp_path / "nope"), "--gt", str(tmp_path / "gt")]
    )
    assert missing.exit_code == 2 and "nope" in missing.output and "Traceback" not in missing.output


def test_official_file_rules_are_the_official_glob(demo_set, tmp_path):
    """mace2d-official reads *.mp4 audio and *.json keypoints case-sensitively, hidden files included."""
    from ma_data.core.io.audio import load_audio, write_wav

    dirs = copy_set(demo_set, tmp_path)
    audio, sr = load_audio(dirs["audio"] / "demo_005.mp4")
    write_wav(dirs["audio"] / "demo_005.wav", audio, sr)
    (dirs["audio"] / "demo_005.mp4").unlink()
    (dirs["audio"] / "demo_006.mp4").rename(dirs["audio"] / "demo_006.MP4")
    for side in ("gt_keypoints", "pred_keypoints"):
        (dirs[side] / "demo_007.json").rename(dirs[side] / ".demo_007.json")
    (dirs["audio"] / "demo_007.mp4").rename(dirs["audio"] / ".demo_007.mp4")

    out = tmp_path / "official.json"
    assert _run(dirs, out=out).exit_code == 0
    doc = json.loads(out.read_text())
    reasons = {item["stem"]: item["reason"] for item in doc["skipped"]}
    assert set(reasons) == {"demo_005", "demo_006"}
    assert "demo_005.wav not read" in reasons["demo_005"] and "demo_006.MP4 not read" in reasons["demo_006"]
    assert ".demo_007" in doc["per_sample"] and doc["n_samples"] == 8

    out = tmp_path / "strict.json"
    assert _run(dirs, "--protocol", "mace2d-strict", out=out).exit_code == 0
    doc = json.loads(out.read_text())
    assert {"demo_005", "demo_006"} <= set(doc["per_sample"])


def test_strict_reads_each_files_frame_rate(demo_set, tmp_path):
    """mace2d-strict uses the JSON's fps (the official protocol assumes 16): the same arrays labelled 20 fps
    are faster, so their pauses drift off the music's beats (96 frames at 20 fps still cover the 4 s window)."""
    dirs = copy_set(demo_set, tmp_path)
    base = tmp_path / "base.json"
    assert _run(demo_set, "--protocol", "mace2d-strict", out=base).exit_code == 0
    for side in ("gt_keypoints", "pred_keypoints"):
        for path in dirs[side].glob("*.json"):
            doc = json.loads(path.read_text())
            doc["fps"] = 20.0
            path.write_text(json.dumps(doc))
    fast = tmp_path / "fast.json"
    assert _run(dirs, "--protocol", "mace2d-strict", out=fast).exit_code == 0
    a, b = json.loads(base.read_text())["metrics"], json.loads(fast.read_text())["metrics"]
    # At 20 fps the GT dancers' pauses drift off the music's beats (which stay in seconds).
    assert b["bas_gt"]["value"] < a["bas_gt"]["value"] - 0.1
