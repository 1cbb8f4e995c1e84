"""Results files of the previous schema (1.0, written by the toolkit before the unified runner) read as the
current schema, and the runner reproduces their numbers and input hashes from the same inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from benchmark.protocols import get_protocol
from benchmark.results import SCHEMA_VERSION, read_results, upgrade_results
from benchmark.runner import evaluate_motion2d
from tools.synthetic_keypoints import make_demo_set

V1_2D = Path(__file__).parent / "data" / "results_v1_motion2d.json"


def test_v1_file_reads_in_the_current_shape():
    raw = json.loads(V1_2D.read_text())
    assert raw["schema_version"] == "1.0" and "norm_eps" in raw["protocol"]["params"]
    doc = read_results(V1_2D)
    assert doc["schema_version"] == SCHEMA_VERSION == "2.0" and doc["upgraded_from"] == "1.0"
    # The renamed and newly recorded parameters are today's mace2d-official, unchanged in version.
    assert doc["protocol"] == get_protocol("mace2d-official").to_dict() == doc["protocols"][0]
    assert doc["metrics"]["fid_k"]["label"] == "FID_k" and doc["metrics"]["div_k_gt"]["label"] == "Div_k GT"
    assert doc["metrics"]["fid_k"]["value"] == raw["metrics"]["fid_k"]["value"]  # numbers untouched
    sides = doc["inputs"]["motion"]["sides"]
    assert sides == {
        "generated keypoints": "demo/pred_keypoints",
        "GT keypoints": "demo/gt_keypoints",
        "GT audio": "demo/audio",
    }
    assert doc["uncertainty"]["n_boot"] == 20 and doc["uncertainty"]["seed"] == 0
    assert upgrade_results(doc) == doc  # a current document is left as it is


def test_upgrade_of_3d_and_appearance_inputs():
    old = {
        "schema_version": "1.0",
        "protocols": [{"name": "mace3d", "version": "1.0", "kind": "motion3d", "params": {"pfc_up": "z"}}],
        "metrics": {"pfc": {"value": 1.0, "ci95": [None, None]}},
        "inputs": {
            "gt_dir": "g",
            "pred_dir": "p",
            "gt_sha256": {"a.npy": "1" * 64},
            "pred_sha256": {"a.npz": "2" * 64, "b.pkl": "3" * 64},
            "music_dir": "m",
            "music_recipe": "edge",
        },
    }
    doc = upgrade_results(old, labels={"pfc": "PFC"})
    block = doc["inputs"]["motion3d"]
    assert block["sides"] == {"GT motion": "g", "generated motion": "p", "music": "m"}
    assert block["files"] == {
        "a": {"GT motion": "1" * 64, "generated motion": "2" * 64},
        "b": {"generated motion": "3" * 64},
    }
    lines = f"a:GT motion:{'1' * 64}\na:generated motion:{'2' * 64}\nb:generated motion:{'3' * 64}\n"
    assert block["sha256"] == hashlib.sha256(lines.encode()).hexdigest() and block["music_recipe"] == "edge"
    assert doc["protocols"][0]["params"] == {"bas_without_beats": "zero"}  # pfc_up was never read
    assert doc["uncertainty"] == {"method": "not recorded (results schema 1.0)", "n_boot": None, "seed": None}
    assert doc["metrics"]["pfc"]["label"] == "PFC" and old["schema_version"] == "1.0"  # input not modified
    appearance = upgrade_results(
        {"metrics": {}, "inputs": {"appearance": {"files": {"x": {"generated video": "h"}}}}}
    )
    assert appearance["inputs"]["appearance"]["sides"] == {"generated video": None}


@pytest.mark.slow
def test_runner_reproduces_a_v1_file_bit_for_bit(tmp_path, monkeypatch):
    """The v1 file was written by `mace-bench evaluate` on make_demo_set(n_samples=4, seed=0), --n-boot 20:
    the runner gives the same values, intervals, per-sample values and keypoint hashes."""
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    old = read_results(V1_2D)
    d = make_demo_set(tmp_path / "demo", n_samples=4, seed=0)
    ev = evaluate_motion2d(
        pred_keypoints=d["pred_keypoints"],
        gt_keypoints=d["gt_keypoints"],
        audio=d["audio"],
        n_boot=20,
        seed=0,
    )
    new = json.loads(json.dumps(ev.results(["mace-bench"]), allow_nan=False))
    assert new["metrics"] == old["metrics"] and new["per_sample"] == old["per_sample"]
    assert new["protocols"] == old["protocols"] and new["extra"] == old["extra"]
    # The keypoint files are written byte for byte the same; the demo's .mp4 music need not be (the encoder's
    # container bytes may vary between runs), only its decoded beats, which the equal BAS values show.
    for side in ("GT keypoints", "generated keypoints"):
        got = {s: f[side] for s, f in new["inputs"]["motion"]["files"].items()}
        assert got == {s: f[side] for s, f in old["inputs"]["motion"]["files"].items()}, side
    assert set(new["inputs"]["motion"]["sides"]) == set(old["inputs"]["motion"]["sides"])
