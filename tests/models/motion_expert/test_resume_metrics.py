"""A resumed ``train-motion`` logs every step once: metrics.jsonl is cut back to the resumed step."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from models.motion_expert.train import PRESETS, train, truncate_metrics


def steps(path) -> list[int]:
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


def test_truncate_keeps_steps_up_to_the_checkpoint_and_drops_torn_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": s, "loss": 1.0}) for s in (1, 2, 4, 6, 8)]
    path.write_text("\n".join(lines[:3]) + "\n[1, 2]\n" + "\n".join(lines[3:]) + '\n{"step": 1')
    truncate_metrics(path, 4)
    assert steps(path) == [1, 2, 4]
    truncate_metrics(path, 0)  # a fresh run starts an empty log
    assert path.read_text() == ""
    truncate_metrics(tmp_path / "missing.jsonl", 3)  # nothing to do
    assert not (tmp_path / "missing.jsonl").exists()


@pytest.mark.slow
def test_resume_after_a_crash_does_not_log_steps_twice(finedance_dir, tmp_path):
    run = tmp_path / "run"
    cfg = replace(PRESETS["tiny"], window=30, stride=15, steps=8, log_every=2, save_every=4, snapshot_every=4)
    train(finedance_dir, run, cfg, echo=lambda *a: None)
    assert steps(run / "metrics.jsonl") == [1, 2, 4, 6, 8]
    # The run is killed after logging step 8 but before its last save: last.pt is still the step-4 one.
    shutil.copy(run / "step-0000004.pt", run / "last.pt")
    train(finedance_dir, run, replace(cfg, steps=10), echo=lambda *a: None)
    assert steps(run / "metrics.jsonl") == [1, 2, 4, 6, 8, 10]
