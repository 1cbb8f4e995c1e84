"""CLI: weights list/fetch/verify and selfcheck appearance (through the real mace-bench group)."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.cli_appearance import compare_with_reference, load_demo_reference
from tests.benchmark.appearance.appearance_media import flicker_frames, write_frames


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")
    return tmp_path / "cache" / "weights"


def test_weights_list_shows_appearance_entries(cache):
    r = CliRunner().invoke(main, ["weights", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.output)}
    for name in ("clip-vit-b-32", "clip-vit-l-14", "laion-aesthetic-vit-l-14", "dino-vitb16", "musiq-spaq"):
        assert name in rows and rows[name]["present"] is False
    assert rows["clip-vit-b-32"]["sha256"].startswith("40d36571")


def test_weights_verify_detects_mismatch_and_missing(cache):
    target = cache / "clip" / "ViT-B-32.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the real file")
    r = CliRunner().invoke(main, ["weights", "verify", "clip-vit-b-32"])
    assert r.exit_code == 1 and "mismatch" in r.output
    r = CliRunner().invoke(main, ["weights", "verify", "dino-vitb16"])
    assert r.exit_code == 1 and "mace-bench weights fetch dino-vitb16" in r.output
    # A weight without a recorded checksum reports its actual hash.
    dino = cache / "dino" / "dino_vitbase16_pretrain.pth"
    dino.parent.mkdir(parents=True)
    dino.write_bytes(b"abc")
    r = CliRunner().invoke(main, ["weights", "verify"])
    assert hashlib.sha256(b"abc").hexdigest() in r.output


def test_weights_fetch_needs_a_name_and_rejects_unknown(cache):
    r = CliRunner().invoke(main, ["weights", "fetch"])
    assert r.exit_code == 2 and "error:" in r.output
    r = CliRunner().invoke(main, ["weights", "fetch", "no-such-weight"])
    assert r.exit_code == 2 and "unknown weight" in r.output


def test_reference_manifest_is_consistent():
    ref = load_demo_reference()
    assert len(ref["stems"]) == 5
    tf = [ref["per_video"][s]["temporal_flickering"] for s in ref["stems"]]
    assert sum(tf) / 5 == pytest.approx(ref["aggregates"]["temporal_flickering"], rel=1e-14)
    iq = [ref["per_video"][s]["imaging_quality"] for s in ref["stems"]]
    assert sum(iq) / 5 / 100 == pytest.approx(ref["aggregates"]["imaging_quality"], rel=1e-14)
    cnt = {s: ref["background_consistency_detail"][s]["cnt_per_video"] for s in ref["stems"]}
    sc = sum(ref["per_video"][s]["subject_consistency"] * cnt[s] for s in ref["stems"]) / sum(cnt.values())
    assert sc == pytest.approx(ref["aggregates"]["subject_consistency"], rel=1e-12)


def test_compare_with_reference_pass_fail():
    ref = load_demo_reference()
    official = ref["aggregates"]["temporal_flickering"]
    rows = compare_with_reference(
        {"temporal_flickering": official * (1 + 5e-7)}, {}, ref, {"temporal_flickering": 1e-6}
    )
    assert rows[0]["passed"] and rows[0]["rel_error"] == pytest.approx(5e-7, rel=1e-6)
    rows = compare_with_reference(
        {"temporal_flickering": official * 1.01}, {}, ref, {"temporal_flickering": 1e-6}
    )
    assert not rows[0]["passed"]


def test_selfcheck_runs_and_fails_on_non_demo_videos(cache, tmp_path):
    vids = tmp_path / "demo"
    vids.mkdir()
    for i, stem in enumerate(load_demo_reference()["stems"]):
        write_frames(vids / f"{stem}.mp4", flicker_frames([0, 2, 0, 2], seed=i), codec="libx264rgb")
    r = CliRunner().invoke(
        main,
        [
            "selfcheck",
            "appearance",
            "--videos",
            str(vids),
            "--dims",
            "temporal_flickering,subject_consistency",
        ],
    )
    # Synthetic stand-ins cannot match the official numbers: TF is computed and FAILs, SC is skipped (no weights).
    assert r.exit_code == 1, r.output
    assert "temporal_flickering" in r.output and "FAIL" in r.output
    assert "subject_consistency" in r.output and "SKIP" in r.output


def test_selfcheck_missing_videos_is_one_line_error(tmp_path):
    r = CliRunner().invoke(main, ["selfcheck", "appearance", "--videos", str(tmp_path)])
    assert r.exit_code == 2 and "demo video missing" in r.output


def test_evaluate_tf_end_to_end(cache, tmp_path):
    pred = tmp_path / "pred"
    pred.mkdir()
    write_frames(pred / "x.mp4", flicker_frames([0, 6, 0]), codec="libx264rgb")
    out = tmp_path / "res.json"
    args = ["evaluate", "--dims", "appearance", "--appearance-dims", "temporal_flickering"]
    r = CliRunner().invoke(main, [*args, "--pred", str(pred), "--out", str(out), "--n-boot", "0"])
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    assert res["metrics"]["temporal_flickering"]["value"] == pytest.approx((255 - 6) / 255, rel=1e-9)
