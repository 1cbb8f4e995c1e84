"""The HTML report page, from a results document: every section, every string escaped, nothing loaded."""

from __future__ import annotations

import re
from pathlib import Path

from benchmark.html_report import render_report
from benchmark.results import read_results

DATA = Path(__file__).parent / "data"
EVIL = '<script>alert("x")</script>'


def _results():
    doc = read_results(DATA / "results_v1_motion2d.json")
    stem = next(iter(doc["per_sample"]))
    doc["per_sample"][f"{EVIL}&"] = doc["per_sample"].pop(stem)
    doc["skipped"] = [{"stem": EVIL, "reason": f"missing generated video {EVIL}"}]
    doc["warnings"] = [f"only 4 samples {EVIL}"]
    doc["extra"]["vbench-appearance"] = {
        "skipped_dims": {
            "lpips": "weight 'alexnet-imagenet' not found; run `mace-bench weights fetch alexnet-imagenet`"
        }
    }
    doc["command"] = ["mace-bench", "evaluate", "--pred", EVIL]
    return doc


def test_sections_and_values():
    doc = _results()
    page = render_report(doc, beat_plots={"a": b"\x89PNG fake"}, title="Run <1>", testset="sample v1")
    for section in ("Metrics", "Not scored, and warnings", "Per-sample values", "Per-sample distributions",
                    "Beat alignment", "Provenance"):  # fmt: skip
        assert f"<h2>{section}</h2>" in page
    fid = doc["metrics"]["fid_k"]
    assert f"{fid['value']:.4f}" in page and f"[{fid['ci95'][0]:.4f}, {fid['ci95'][1]:.4f}]" in page
    assert "test set sample v1" in page and "<title>Run &lt;1&gt;</title>" in page
    assert "Dimensions not scored (1)" in page and "mace-bench weights fetch alexnet-imagenet" in page
    assert page.count('<tr data-i="') == len(doc["per_sample"])
    assert doc["inputs"]["motion"]["sha256"] in page and "protocol parameters" in page
    assert page.count('src="data:image/png;base64,') == 1 + 1  # the given beat plot, the BAS distribution


def test_strings_are_escaped_and_nothing_is_loaded():
    page = render_report(_results())
    assert EVIL not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("<script>") == 1
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert "default-src 'none'" in csp and "img-src data:" in csp and "unsafe-inline" not in csp
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', page))
    assert not re.search(r"<(link|iframe|object|embed)\b|url\(|@import", page)
