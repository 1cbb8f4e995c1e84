"""A 3D results file of schema 1.0 (``evaluate-3d`` before the unified runner) reads as the current schema, and
the runner reproduces its numbers and input hashes from the same inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.protocols import get_protocol
from benchmark.results import read_results
from benchmark.runner import evaluate_motion3d

V1_3D = Path(__file__).parent.parent / "data" / "results_v1_motion3d.json"
pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")


def test_v1_3d_file_reads_in_the_current_shape():
    doc = read_results(V1_3D)
    assert doc["protocol"] == get_protocol("finedance3d").to_dict()
    block = doc["inputs"]["motion3d"]
    assert block["sides"] == {"GT motion": "gt3", "generated motion": "pred3", "music beats": "beats3"}
    assert set(block["files"]) == {"000", "001", "002"}
    assert set(block["files"]["000"]) == {"GT motion", "generated motion", "music beats"}
    assert doc["uncertainty"]["n_boot"] is None and doc["metrics"]["pfc"]["label"] == "PFC"


def test_runner_reproduces_the_v1_3d_file(tmp_path, dance_folders):
    """The v1 file: `evaluate-3d --protocol finedance3d --n-boot 0` on three 70-frame
    dances (seeds i and 50 + i, float32) with beat vectors ``v[i::12] = 1`` of 100 frames."""
    gt, pred, beats = dance_folders(tmp_path, n=3)
    old = read_results(V1_3D)
    ev = evaluate_motion3d(gt, pred, "finedance3d", music_beats=beats, n_boot=0)
    new = json.loads(json.dumps(ev.results(["mace-bench"]), allow_nan=False))
    assert new["metrics"] == old["metrics"] and new["per_sample"] == old["per_sample"]
    assert new["inputs"]["motion3d"]["files"] == old["inputs"]["motion3d"]["files"]
    assert new["inputs"]["motion3d"]["sha256"] == old["inputs"]["motion3d"]["sha256"]
    assert new["uncertainty"]["n_boot"] == 0 and new["uncertainty"]["seed"] == 0
