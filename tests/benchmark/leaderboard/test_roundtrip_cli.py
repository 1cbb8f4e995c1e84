"""The commands end to end: testset create, evaluate -> submission pack -> validate -> leaderboard build."""

from __future__ import annotations

import json
import shutil

import yaml
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.leaderboard.testset import load_testset
from ma_data.core.io.atomic import sha256_file
from tests.benchmark.leaderboard.lb_helpers import META, sample_dir


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_round_trip_evaluate_pack_validate_build(scored, tmp_path):
    gt = sample_dir()
    motion = tmp_path / "motion.json"
    r = _run("evaluate", "--pred-keypoints", scored["on-beat/keypoints"], "--gt-keypoints", gt, "--audio", gt,
             "--n-boot", "50", "--out", motion)  # fmt: skip
    assert r.exit_code == 0, r.output
    r = _run("submission", "keygen", "--out", tmp_path / "key")
    assert r.exit_code == 0 and "ed25519:" in r.output, r.output
    (tmp_path / "meta.yaml").write_text(yaml.safe_dump(META))
    subs = tmp_path / "subs"
    subs.mkdir()
    r = _run("submission", "pack", "--results", motion, "--results", scored["on-beat/appearance"],
             "--meta", tmp_path / "meta.yaml", "--testset", "sample-v1", "--keypoints", scored["on-beat/keypoints"],
             "--sign-key", tmp_path / "key", "--out", subs / "on-beat.zip")  # fmt: skip
    assert r.exit_code == 0 and "validator: accepted" in r.output, r.output

    r = _run("submission", "validate", subs / "on-beat.zip", "--testset", "sample-v1",
             "--public-key", tmp_path / "key.pub", "--report", tmp_path / "report.json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1] == "ACCEPTED: on-beat.zip"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["accepted"] and report["signature"]["status"] == "verified"
    assert [e["protocol"] for e in report["entries"]] == ["mace2d-official", "vbench-appearance"]
    assert report["entries"][0]["rescored"] is True

    r = _run("leaderboard", "build", "--submissions", subs, "--testset", "sample-v1",
             "--public-key", tmp_path / "key.pub", "--out", tmp_path / "site")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "1 accepted, 0 rejected" in r.output
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text())
    sample = [s for s in board["sections"] if s["testset"]["name"] == "sample"]
    assert [s["protocol"]["name"] for s in sample] == [
        "mace2d-official",
        "mace2d-strict",
        "vbench-appearance",
    ]
    row = sample[0]["rows"][0]
    assert row["method"] == "On-beat dancer" and row["rank"] == 1
    assert row["provenance"]["signature"]["status"] == "verified" and row["provenance"]["rescored"] is True
    motion_doc = json.loads(motion.read_text())
    assert row["values"]["bas"]["value"] == motion_doc["metrics"]["bas"]["value"]
    assert "signed ✓" in (tmp_path / "site" / "index.html").read_text()


def test_validate_exit_code_and_one_line_per_problem(scored, tmp_path):
    from tests.benchmark.leaderboard.lb_helpers import bundle, load, save

    doc = load(scored["on-beat/motion"])
    doc["metrics"]["bas"]["value"] = 0.5
    doc["protocols"][0]["version"] = doc["protocol"]["version"] = "0.9"
    path = bundle(tmp_path / "bad.zip", [save(doc, tmp_path / "r.json")])
    r = _run("submission", "validate", path, "--testset", "sample-v1", "--report", tmp_path / "rep.json")
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert lines[-1] == "REJECTED (2 problem(s)): bad.zip"
    problems = [line for line in lines if line.startswith("problem [")]
    assert len(problems) == 2 and any("results.protocol_version" in p for p in problems)
    rep = json.loads((tmp_path / "rep.json").read_text())
    assert rep["accepted"] is False and rep["entries"] == []
    assert {p["code"] for p in rep["problems"]} == {"results.protocol_version", "results.aggregate_edited"}


def test_pack_refuses_bad_metadata_and_rejected_bundles(scored, tmp_path):
    meta = dict(META, method="", code_url="ftp://x")
    (tmp_path / "meta.yaml").write_text(yaml.safe_dump(meta))
    r = _run("submission", "pack", "--results", scored["on-beat/motion"], "--meta", tmp_path / "meta.yaml",
             "--testset", "sample-v1", "--out", tmp_path / "b.zip")  # fmt: skip
    assert r.exit_code == 2 and r.output.count("\n") == 1
    assert "method: must be non-empty" in r.output and "code_url" in r.output
    assert not (tmp_path / "b.zip").exists()

    from tests.benchmark.leaderboard.lb_helpers import load, save

    doc = load(scored["on-beat/motion"])
    doc["per_sample"]["sample_000"]["bas"] = 1.0
    (tmp_path / "meta.yaml").write_text(yaml.safe_dump(META))
    r = _run("submission", "pack", "--results", save(doc, tmp_path / "r.json"), "--meta", tmp_path / "meta.yaml",
             "--testset", "sample-v1", "--out", tmp_path / "b.zip")  # fmt: skip
    assert r.exit_code == 2 and "results.per_sample_edited" in r.output
    assert not (tmp_path / "b.zip").exists()


def test_testset_create_round_trips_and_publishes_hashes_only(tmp_path):
    gt = tmp_path / "gt"
    shutil.copytree(sample_dir(), gt)
    out = tmp_path / "mine-v2.yaml"
    r = _run("testset", "create", "--gt", gt, "--name", "mine", "--version", "2", "--protocol", "mace2d-official",
             "--protocol", "vbench-appearance", "--out", out)  # fmt: skip
    assert r.exit_code == 0, r.output
    mine, sample = load_testset(out), load_testset("sample-v1")
    assert mine.label == "mine v2" and [p.name for p in mine.protocols] == [
        "mace2d-official",
        "vbench-appearance",
    ]
    assert {s: e.files for s, e in mine.stems.items()} == {s: e.files for s, e in sample.stems.items()}
    assert mine.stems["sample_000"].frames == 80 and mine.stems["sample_000"].duration_s == 5.0
    assert mine.fingerprint() in out.read_text()
    text = out.read_text()
    assert "mp4" in text and str(gt) not in text  # names and hashes, never a local path or media
    assert mine.default_gt_dir() is None  # nothing next to it: hashes only

    (gt / "sample_003.json").unlink()
    r = _run("testset", "create", "--gt", gt, "--name", "mine", "--version", "2", "--protocol", "mace2d-official",
             "--out", tmp_path / "x.yaml")  # fmt: skip
    assert r.exit_code == 2 and "sample_003" in r.output


def test_bundled_sample_files_are_the_manifest(tmp_path):
    """The committed GT files are the reference: their hashes are the manifest's, and they stay under 1 MB."""
    ts = load_testset("sample-v1")
    folder = ts.default_gt_dir()
    assert folder is not None and len(ts.stems) == 8
    total = 0
    for entry in ts.stems.values():
        for f in entry.files.values():
            assert sha256_file(folder / f.file) == f.sha256, f.file
            total += (folder / f.file).stat().st_size
    assert total < 1_000_000
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f.file for e in ts.stems.values() for f in e.files.values()
    )


def test_packaged_manifests_pin_this_toolkits_protocols():
    from benchmark.leaderboard.testset import check_protocols_current, packaged_testsets

    names = []
    for path in packaged_testsets():
        ts = load_testset(path)
        check_protocols_current(ts)
        names.append(ts.label)
    assert {"sample v1", "ma-data-test v1", "finedance-test v1"} <= set(names)


def test_unpublished_test_set_cannot_be_submitted_to(scored, tmp_path):
    (tmp_path / "meta.yaml").write_text(yaml.safe_dump(META))
    r = _run("submission", "pack", "--results", scored["on-beat/motion"], "--meta", tmp_path / "meta.yaml",
             "--testset", "ma-data-test-v1", "--out", tmp_path / "b.zip")  # fmt: skip
    assert r.exit_code == 2 and "publishes no hashes" in r.output
