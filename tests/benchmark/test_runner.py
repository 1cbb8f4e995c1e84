"""The runner's library API: collect without reading, a cache key from the input hashes, one collision rule."""

from __future__ import annotations

import json
import shutil

import pytest

from benchmark.protocols import get_protocol
from benchmark.runner import cache_key, collect_motion2d, combine, evaluate_motion2d
from tools.synthetic_keypoints import make_demo_set


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_set(tmp_path_factory.mktemp("demo"), n_samples=4, seed=3)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _folders(d):
    return {"pred_keypoints": d["pred_keypoints"], "gt_keypoints": d["gt_keypoints"], "audio": d["audio"]}


def test_collect_then_cache_key_then_evaluate(demo):
    """What `reproduce` does: list the inputs, key a cache by their hashes, score the listed inputs."""
    strict = get_protocol("mace2d-strict")
    paired = collect_motion2d(strict, **_folders(demo))
    assert paired.stems == [f"demo_{i:03d}" for i in range(4)] and not paired.skipped
    block = paired.block()
    key = cache_key(block, strict, n_boot=0, seed=0)
    assert key == cache_key(collect_motion2d(strict, **_folders(demo)).block(), strict, n_boot=0, seed=0)
    assert key != cache_key(block, strict, n_boot=10, seed=0)
    assert key != cache_key(block, get_protocol("mace2d-official"), n_boot=0, seed=0)
    ev = evaluate_motion2d(strict, inputs=paired, n_boot=0)
    assert ev.inputs["motion"]["sha256"] == block["sha256"]  # every stem scored: the same files
    direct = evaluate_motion2d(strict, n_boot=0, **_folders(demo))
    a, b = (json.loads(json.dumps(e.results(["x"]))) for e in (ev, direct))
    assert a["metrics"] == b["metrics"] and a["inputs"] == b["inputs"]
    assert a["uncertainty"]["n_boot"] == 0 and a["inputs"]["motion"]["sides"]["GT audio"] == str(
        demo["audio"]
    )
    with pytest.raises(ValueError, match="bootstrap settings"):
        combine([ev, evaluate_motion2d(strict, inputs=paired, n_boot=5)])


def test_a_stem_with_two_candidate_files_is_ambiguous(demo, tmp_path):
    """One collision rule everywhere: a.json and a.npz on one side are never silently resolved."""
    from ma_data.core.formats.keypoints import read_official_json, save_npz

    pred = tmp_path / "pred"
    shutil.copytree(demo["pred_keypoints"], pred)
    save_npz(pred / "demo_001.npz", read_official_json(pred / "demo_001.json"))
    folders = {**_folders(demo), "pred_keypoints": pred}
    ev = evaluate_motion2d("mace2d-strict", n_boot=0, **folders)
    reason = ev.report.skipped["demo_001"]
    assert "ambiguous" in reason and "demo_001.json" in reason and "demo_001.npz" in reason
    assert ev.report.n_samples == 3
    # the official protocol reads exactly what the official script globs (*.json): no ambiguity there
    official = evaluate_motion2d("mace2d-official", n_boot=0, **folders)
    assert official.report.n_samples == 4
