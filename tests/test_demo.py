"""``make demo`` end to end, on one song of the bundled sample (2 clips) and a 5-step Motion Expert."""

from __future__ import annotations

import json

import pytest

from benchmark.results import read_results
from tools.demo import main


@pytest.mark.slow  # renders, trains, generates and scores (about a minute on 2 cores)
@pytest.mark.render
def test_demo_runs_the_main_job_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo_out"
    assert main(["--out", str(out), "--steps", "5", "--songs", "1"]) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    for step in range(1, 8):
        assert f"=== [{step}/7]" in printed and f"--- step {step} done in" in printed
    assert "$ mace-bench evaluate --dims motion,appearance --pred" in printed
    assert "skipping appearance dimension imaging_quality (IQ): needs weight 'musiq-spaq'" in printed
    assert "| *MACE-Dance baseline (demo)* |" in printed and "| MACE-Dance | 65.35 |" in printed  # Table 1
    for path in ("report/index.html", "table1.html", "board/index.html", "reproduce.yaml"):
        assert str(out / path) in printed and (out / path).is_file(), path
    results = read_results(out / "results" / "baseline.json")
    assert results["n_samples_by_protocol"] == {"mace2d-official": 2, "vbench-appearance": 2}
    assert {"fid_k", "bas", "temporal_flickering", "ssim", "psnr"} <= set(results["metrics"])
    report = (out / "report" / "index.html").read_text()
    assert report.count('src="data:image/png;base64,') >= 2 and "Dimensions not scored (7)" in report
    board = json.loads((out / "board" / "leaderboard.json").read_text())
    rows = [r for s in board["sections"] for r in s["rows"] if r["source"] == "submission"]
    assert {r["method"] for r in rows} == {"MACE-Dance baseline (demo)"} and len(rows) == 2
