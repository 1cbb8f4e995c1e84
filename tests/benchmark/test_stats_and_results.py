import json
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from benchmark.inputs import list_by_stem, pair_by_stem
from benchmark.protocols import MetricSpec, Protocol
from benchmark.results import MetricReport, MetricValue, build_results, markdown_table, write_results
from benchmark.stats import bootstrap_ci


def test_bootstrap_ci_of_a_mean_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 2.0, size=400)
    ci = bootstrap_ci(lambda idx: {"mean": x[idx].mean()}, x.size, n_boot=2000, seed=3)
    lo, hi = ci["mean"]
    half_width = 1.96 * x.std(ddof=1) / math.sqrt(x.size)
    assert lo < x.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half_width, rel=0.15)
    assert bootstrap_ci(lambda idx: {"mean": x[idx].mean()}, x.size, n_boot=2000, seed=3) == ci


def test_pairing_reports_every_unmatched_stem(tmp_path):
    for side, stems in {"gt": ["a", "b", "c"], "pred": ["b", "c", "d"]}.items():
        (tmp_path / side).mkdir()
        for s in stems:
            (tmp_path / side / f"{s}.json").write_text("{}")
        (tmp_path / side / "notes.txt").write_text("ignored")
    paired = pair_by_stem(
        {
            "GT keypoints": list_by_stem(tmp_path / "gt", (".json",), "GT"),
            "generated keypoints": list_by_stem(tmp_path / "pred", (".json",), "pred"),
        }
    )
    assert paired.stems == ["b", "c"]
    assert paired.skipped == {"a": "missing generated keypoints", "d": "missing GT keypoints"}


@dataclass(frozen=True, kw_only=True)
class ToyProtocol(Protocol):
    kind: ClassVar[str] = "motion2d"
    METRICS: ClassVar = (
        MetricSpec("fid_k", "FID_k", False, "toy distance"),
        MetricSpec("bas", "BAS", True, "toy beat score"),
    )
    eps: float = 1e-4


def test_results_document_is_strict_json_with_protocol_and_skips(tmp_path):
    protocol = ToyProtocol(name="toy", version="1")
    report = MetricReport(
        metrics={"fid_k": MetricValue(1.5, 1.0, 2.0), "bas": MetricValue(float("nan"))},
        per_sample={"s1": {"bas": 0.5}},
        skipped={"s2": "missing GT audio"},
        n_samples=1,
        protocol=protocol,
    )
    results = build_results([report], inputs={"x": 1}, argv=["mace-bench"])
    path = write_results(tmp_path / "r.json", results)
    loaded = json.loads(path.read_text())  # allow_nan=False upstream: NaN must have become null
    assert loaded["protocol"]["params"] == {"eps": 1e-4}
    assert loaded["metrics"]["fid_k"] == {
        "value": 1.5,
        "ci95": [1.0, 2.0],
        "higher_is_better": False,
        "label": "FID_k",
        "protocol": "toy",
    }
    assert loaded["metrics"]["bas"]["value"] is None
    assert loaded["skipped"] == [{"stem": "s2", "reason": "missing GT audio"}]
    assert "| FID_k | 1.5000 | [1.0000, 2.0000] | ↓ |" in markdown_table(loaded)
