"""``mace-bench reproduce`` on methods made from the bundled sample test set (sample-v1, 8 clips).

- "GT copy" predicts the GT itself: FID 0, generated figures equal to the GT ones, SSIM 1;
- "Degraded & noisy_copy #1" is the GT with jittered, delayed keypoints and noisy videos: it ranks below;
- "On-beat" (tools.sample_testset) is added in a second run, which scores only that method (cache).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from benchmark import runner
from benchmark.appearance.params import PSNR_MAX_DB
from benchmark.cli import main
from benchmark.leaderboard.testset import load_testset
from benchmark.reproduce import run_reproduce
from benchmark.reproduce_config import load_config
from benchmark.results import read_results
from ma_data.core.errors import ConfigError, MaceError

SAMPLE = load_testset("sample-v1")
GT = SAMPLE.default_gt_dir()
DEGRADED = "Degraded & noisy_copy #1"
OPTIONS = {"appearance_dims": ["temporal_flickering", "ssim", "psnr", "lpips"], "n_boot": 20}


def _degraded(root: Path) -> Path:
    """GT keypoints with 3 px of jitter, two frames late; GT videos with pixel noise (no audio)."""
    from ma_data.core.io.video import iter_frames, write_video

    out = root / "degraded"
    out.mkdir()
    rng = np.random.default_rng(0)
    for stem in sorted(SAMPLE.stems):
        doc = json.loads((GT / f"{stem}.json").read_text())
        kp = np.asarray(doc["keypoints"], np.float64)
        kp[..., :2] += rng.normal(0, 3.0, kp[..., :2].shape)
        doc["keypoints"] = np.concatenate([kp[:1], kp[:1], kp[:-2]]).round(1).tolist()
        (out / f"{stem}.json").write_text(json.dumps(doc))
        frames = [
            np.clip(f.astype(np.int16) + rng.integers(-40, 41, f.shape), 0, 255).astype(np.uint8)
            for f in iter_frames(GT / f"{stem}.mp4")
        ]
        write_video(out / f"{stem}.mp4", frames, 16.0)
    return out


def _config(root: Path, methods: list[dict], name: str = "config.yaml") -> Path:
    path = root / name
    path.write_text(yaml.safe_dump({"testset": "sample-v1", "methods": methods, "options": OPTIONS}))
    return path


@pytest.fixture(scope="module")
def methods(tmp_path_factory) -> dict[str, dict]:
    from tools.sample_testset import write_method_outputs

    root = tmp_path_factory.mktemp("methods")
    _degraded(root)
    on_beat = write_method_outputs(root / "on-beat", "on-beat")
    return {
        "root": root,
        "gt": {"name": "GT copy", "videos": str(GT), "keypoints": str(GT)},
        "degraded": {"name": DEGRADED, "videos": "degraded", "keypoints": "degraded"},  # relative: config dir
        "on-beat": {
            "name": "On-beat <dancer>",
            "videos": str(on_beat["videos"]),
            "keypoints": str(on_beat["keypoints"]),
        },
    }


@pytest.fixture(scope="module")
def counted(monkeypatch_module):
    """Count the runner's evaluation calls (what reproduce scores, not what it reads from its cache)."""
    calls: list[str] = []
    for name in ("evaluate_motion2d", "evaluate_appearance", "evaluate_motion3d"):
        original = getattr(runner, name)

        def wrapped(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch_module.setattr(runner, name, wrapped)
    return calls


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def first(methods, counted, tmp_path_factory):
    root = methods["root"]
    cfg = load_config(_config(root, [methods["gt"], methods["degraded"]]))
    out, report = tmp_path_factory.mktemp("repro"), tmp_path_factory.mktemp("report")
    lines: list[str] = []
    outcome = run_reproduce(cfg, out, report=report, log=lines.append)
    return {"outcome": outcome, "out": out, "report": report, "calls": list(counted), "log": lines}


def _row(table_rows, method):
    return next(r for r in table_rows if r.method == method)


@pytest.mark.slow  # shares the scored methods (about 30 s on 2 cores)
def test_gt_as_prediction_and_a_degraded_copy(first):
    outcome = first["outcome"]
    gt_run, degraded = outcome.methods
    motion = read_results(gt_run.results["motion"])
    # identical sets: 0 up to the official float32 features and sqrtm (the table prints 0.00)
    assert motion["metrics"]["fid_k"]["value"] == pytest.approx(0, abs=1e-3)
    assert motion["metrics"]["fid_g"]["value"] == pytest.approx(0, abs=1e-3)
    for key in ("div_k", "div_g", "bas"):
        assert motion["metrics"][key]["value"] == motion["metrics"][f"{key}_gt"]["value"]
    appearance = read_results(gt_run.results["appearance"])
    assert appearance["metrics"]["ssim"]["value"] == 1.0
    assert appearance["metrics"]["psnr"]["value"] == PSNR_MAX_DB

    # Table 1: the GT copy's row equals the Ground Truth row where both have values; FID 0.
    table1, rows1, caption1 = outcome.tables[0]
    copy, gt_row = _row(rows1, "GT copy"), _row(rows1, "Ground Truth (sample v1)")
    assert gt_row.kind == "user_gt"
    for key in ("temporal_flickering", "div_k", "div_g", "bas"):
        assert copy.values[key] == pytest.approx(gt_row.values[key], rel=1e-12), key
    assert copy.values["fid_k"] == pytest.approx(0, abs=1e-3)
    # ... and the degraded copy ranks below it on every reference-based column.
    worse = _row(rows1, DEGRADED)
    assert worse.values["fid_k"] > copy.values["fid_k"] + 0.1 and worse.values["fid_g"] > copy.values["fid_g"]
    table3_rows = outcome.tables[2][1]
    assert _row(table3_rows, DEGRADED).values["ssim"] < 0.9 < _row(table3_rows, "GT copy").values["ssim"]
    assert _row(table3_rows, DEGRADED).values["psnr"] < _row(table3_rows, "GT copy").values["psnr"]
    # The captions name the protocols (with versions), the test set and the toolkit.
    assert caption1.protocols == ("mace2d-official v1.0", "vbench-appearance v1.0")
    assert caption1.testset == "sample v1" and caption1.toolkit.startswith("mace-dance ")


@pytest.mark.slow  # shares the scored methods (about 30 s on 2 cores)
def test_results_are_evaluate_files_on_the_test_set(first):
    for run in first["outcome"].methods:
        for dim, path in run.results.items():
            assert path == first["out"] / run.spec.slug / f"{dim}.json"
            doc = read_results(path)
            assert doc["schema_version"] == "2.0" and doc["n_samples"] == 8
    # The GT hashes recorded by the GT copy's motion results are the test set's.
    files = read_results(first["outcome"].methods[0].results["motion"])["inputs"]["motion"]["files"]
    for stem, entry in SAMPLE.stems.items():
        assert files[stem]["GT keypoints"] == entry.files["keypoints"].sha256
        assert files[stem]["GT audio"] == entry.files["video"].sha256
    # A dimension without its weight is reported before any work, and recorded in the results.
    assert any(line.startswith("skipping appearance dimension lpips (LPIPS)") for line in first["log"])
    app = read_results(first["outcome"].methods[0].results["appearance"])
    assert (
        "mace-bench weights fetch alexnet-imagenet"
        in app["extra"]["vbench-appearance"]["skipped_dims"]["lpips"]
    )


@pytest.mark.slow  # shares the scored methods (about 30 s on 2 cores)
def test_cache_scores_only_the_new_method(first, methods, counted, tmp_path):
    # first run: two motion + two appearance evaluations, plus the GT videos' appearance
    assert sorted(first["calls"]) == ["evaluate_appearance"] * 3 + ["evaluate_motion2d"] * 2
    before = len(counted)
    cfg = load_config(
        _config(methods["root"], [methods["gt"], methods["degraded"], methods["on-beat"]], "c2.yaml")
    )
    outcome = run_reproduce(cfg, first["out"])
    assert sorted(counted[before:]) == ["evaluate_appearance", "evaluate_motion2d"]
    assert [r.cached for r in outcome.methods] == [["motion", "appearance"], ["motion", "appearance"], []]
    assert outcome.methods[2].scored == ["motion", "appearance"]
    assert "*On-beat &lt;dancer&gt;*" in (first["out"] / "tables.md").read_text()

    # A changed input file re-scores that method's dimension, and only it.
    degraded = methods["root"] / "degraded" / "sample_003.json"
    saved = degraded.read_bytes()
    try:
        doc = json.loads(saved)
        doc["keypoints"][5][0][0] += 1.0
        degraded.write_text(json.dumps(doc))
        before = len(counted)
        outcome = run_reproduce(cfg, first["out"])
        assert counted[before:] == ["evaluate_motion2d"]
        assert outcome.methods[1].scored == ["motion"] and outcome.methods[1].cached == ["appearance"]
    finally:
        degraded.write_bytes(saved)
    before = len(counted)
    run_reproduce(cfg, first["out"])  # the restored file is an input change again
    assert counted[before:] == ["evaluate_motion2d"]
    # A results file edited by hand is not trusted as a cache entry.
    path = outcome.methods[0].results["motion"]
    path.write_text(path.read_text().replace('"fid_k"', '"fid_k" ', 1))
    before = len(counted)
    run_reproduce(cfg, first["out"])
    assert counted[before:] == ["evaluate_motion2d"]


@pytest.mark.slow  # shares the scored methods (about 30 s on 2 cores)
def test_tables_in_three_formats(first):
    out = first["out"]
    md = (out / "tables.md").read_text()
    assert md.count("**Music-driven dance video generation on MA-Data") == 1
    assert "Pose-driven image animation" in md and "3D dance generation on FineDance" in md
    assert (
        "_Your rows: protocol mace2d-official v1.0, vbench-appearance v1.0; test set sample v1; mace-dance"
        in md
    )
    assert "| *Degraded & noisy\\_copy #1* |" in md or "| *Degraded & noisy_copy #1* |" in md
    assert "not comparable with the paper's numbers (its test set ma-data-test-v1)" in md
    assert "No rows of yours: give methods[].motion3d" in md  # Table 2 without 3D motions
    tex = (out / "tables.tex").read_text()
    assert tex.count(r"\begin{table}") == 3 and r"Degraded \& noisy\_copy \#1" in tex
    assert r"test set sample v1" in tex and "vbench-appearance v1.0" in tex
    page = (out / "tables.html").read_text()
    assert "Degraded &amp; noisy_copy #1" in page and page.count('<table class="paper sortable">') == 3
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"\bsrc=|<link\b|url\(", page)
    # paper rows are never yours; the GT copy is not bold (another test set than the paper's)
    gt_copy = re.search(r'<tr data-i="\d+" data-kind="user">.*?GT copy.*?</tr>', page).group(0)
    assert "<strong>" not in gt_copy


@pytest.mark.slow  # shares the scored methods (about 30 s on 2 cores)
def test_report_pages(first):
    report = first["report"]
    index = (report / "index.html").read_text()
    for run in first["outcome"].methods:
        for dim in ("motion", "appearance"):
            name = f"{run.spec.slug}-{dim}.html"
            assert f'href="{name}"' in index and (report / name).is_file()
    page = (report / "gt-copy-motion.html").read_text()
    per_sample = re.search(r'<table class="sortable per-sample">.*?</table>', page, re.S).group(0)
    assert per_sample.count("<tr data-i=") == 8 and 'data-stem="sample_000"' in per_sample
    assert page.count('src="data:image/png;base64,') == 8 + 1  # beat plots + the BAS distribution
    assert "BAS (bas) — GT vs generated" in page
    assert (
        "digest " + read_results(first["outcome"].methods[0].results["motion"])["inputs"]["motion"]["sha256"]
        in page
    )
    app_page = (report / "degraded-noisy-copy-1-appearance.html").read_text()
    assert "Dimensions not scored (1)" in app_page and "mace-bench weights fetch alexnet-imagenet" in app_page
    assert "Degraded &amp; noisy_copy #1: appearance" in app_page


def test_config_errors_are_one_line(tmp_path, methods):
    def bad(doc, message):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(path)

    bad("testset: [", "not a YAML file")
    bad({"methods": [methods["gt"]]}, "missing 'testset'")
    bad({"testset": "sample-v1", "methods": []}, "methods: give a list of methods")
    bad({"testset": "sample-v1", "methods": [{"videos": "x"}]}, "methods[0]: missing 'name'")
    bad({"testset": "sample-v1", "methods": [{"name": "a", "video": "x"}]}, "unknown key(s) ['video']")
    bad({"testset": "sample-v1", "methods": [{"name": "A b", "videos": "x"}, {"name": "a-B", "videos": "y"}]},
        "share the folder name 'a-b'")  # fmt: skip
    bad({"testset": "sample-v1", "methods": [methods["gt"]], "options": {"n_boot": -1}}, "options.n_boot")
    cfg = load_config(_config(methods["root"], [methods["degraded"]]))
    assert cfg.methods[0].videos == methods["root"] / "degraded"  # relative to the config file


def test_gt_files_must_be_the_test_sets(tmp_path, methods):
    gt = tmp_path / "gt"
    shutil.copytree(GT, gt)
    (gt / "sample_002.json").write_text((gt / "sample_002.json").read_text().replace("0.9]", "0.8]", 1))
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump({"testset": {"manifest": "sample-v1", "gt": "gt"}, "methods": [methods["gt"]]})
    )
    with pytest.raises(MaceError, match=r"sample_002.json: GT keypoints differs from test set sample v1"):
        run_reproduce(load_config(path), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before any work


@pytest.mark.slow  # shares the scored methods (about 30 s on 2 cores)
def test_cli(first, methods, tmp_path):
    cfg = _config(methods["root"], [methods["gt"], methods["degraded"]], "cli.yaml")
    res = CliRunner().invoke(main, ["reproduce", "--config", str(cfg), "--out", str(first["out"])])
    assert res.exit_code == 0, res.output
    assert "| *GT copy* |" in res.output and "GT copy: motion cached, appearance cached" in res.output
    assert "tables: " in res.output and "tables.html" in res.output
    bad = CliRunner().invoke(
        main, ["reproduce", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")]
    )
    assert bad.exit_code == 2 and bad.output.startswith("error: ") and bad.output.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_table2_from_3d_motions(tmp_path):
    from ma_data.core.synthetic import synthetic_dance_3d

    for name, offset in (("gt3d", 0), ("pred3d", 50), ("beats", None)):
        (tmp_path / name).mkdir()
        for i in range(5):
            if offset is None:
                v = np.zeros(100, np.float32)
                v[i::12] = 1
                np.save(tmp_path / name / f"{i:03d}.npy", v)
            else:
                np.save(
                    tmp_path / name / f"{i:03d}.npy", synthetic_dance_3d(70, offset + i).astype(np.float32)
                )
    doc = {
        "testset": {"manifest": "sample-v1", "motion3d": "gt3d", "music_beats": "beats"},
        "methods": [{"name": "Mine 3D", "motion3d": "pred3d"}],
        "options": {"n_boot": 10, "protocol3d": "bailando3d"},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(doc))
    outcome = run_reproduce(load_config(tmp_path / "c.yaml"), tmp_path / "out")
    assert list(outcome.methods[0].results) == ["motion3d"]
    table2, rows, caption = outcome.tables[1]
    mine = _row(rows, "Mine 3D")
    results = read_results(tmp_path / "out" / "mine-3d" / "motion3d.json")
    assert mine.values["fid_k"] == results["metrics"]["fid_k"]["value"] and "fsr" in mine.values
    assert _row(rows, "Ground Truth (3D GT gt3d)").values["div_k"] == results["metrics"]["div_k_gt"]["value"]
    assert caption.protocols == ("bailando3d v1.0",)
    assert "not comparable with the paper's (finedance3d)" in (tmp_path / "out" / "tables.md").read_text()
    assert outcome.tables[0][2].note.startswith("No rows of yours")  # Table 1: no videos, no keypoints


def test_a_method_that_cannot_be_scored_is_reported_and_the_others_go_on(tmp_path):
    doc = {
        "testset": "sample-v1",
        "methods": [{"name": "Broken", "keypoints": "missing"}, {"name": "GT copy", "keypoints": str(GT)}],
        "options": {"n_boot": 10},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(doc))
    lines: list[str] = []
    outcome = run_reproduce(load_config(tmp_path / "c.yaml"), tmp_path / "out", log=lines.append)
    broken, copy = outcome.methods
    assert broken.results == {} and broken.notes[0].startswith("motion not scored: ")
    assert "missing: not a directory of generated keypoints files" in broken.notes[0]
    assert any(line.startswith("Broken: motion not scored") for line in lines)
    assert list(copy.results) == ["motion"] and _row(outcome.tables[0][1], "GT copy").values["fid_k"] < 1e-3
