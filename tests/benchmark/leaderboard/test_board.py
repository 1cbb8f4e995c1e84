"""The board: sections, ranks, paper rows, escaping, CSV safety, byte-identical output."""

from __future__ import annotations

import copy
import csv
import io
import json
import re

import pytest

from benchmark.leaderboard.board import build_site, csv_text, rank_rows
from benchmark.leaderboard.testset import load_testset
from tests.benchmark.leaderboard.lb_helpers import META, bundle

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def site(scored, tmp_path_factory):
    """Two accepted submissions (one with hostile-looking text), one rejected; the site built twice."""
    root = tmp_path_factory.mktemp("site")
    subs = root / "subs"
    subs.mkdir()
    bundle(
        subs / "a-on-beat.zip",
        [scored["on-beat/motion"], scored["on-beat/appearance"]],
        scored["on-beat/keypoints"],
    )
    evil = copy.deepcopy(META)
    evil.update(method=EVIL, method_version="=1+1", generated_by="@SUM(A1)", evaluated_by='"quoted" & <b>')
    bundle(subs / "b-off-beat.zip", [scored["off-beat/motion"]], meta=evil)

    def edit(members):
        doc = json.loads(members["results/1.json"])
        doc["metrics"]["bas"]["value"] = 0.999
        members["results/1.json"] = json.dumps(doc).encode()

    bundle(subs / "c-cheat.zip", [scored["on-beat/motion"]], mutate=edit)
    (subs / "notes.txt").write_text("not a bundle")
    ts = [load_testset("sample-v1")]
    lines = build_site(subs, ts, root / "site1")
    build_site(subs, ts, root / "site2")
    return {
        "root": root,
        "lines": lines,
        "board": json.loads((root / "site1" / "leaderboard.json").read_text()),
    }


def test_build_reports_and_excludes_rejected_bundles(site):
    lines = site["lines"]
    assert lines[0] == "accepted a-on-beat.zip" and lines[1] == "accepted b-off-beat.zip"
    assert lines[2] == "REJECTED c-cheat.zip" and "results.aggregate_edited" in lines[3]
    assert lines[-1].startswith("2 accepted, 1 rejected")
    board = site["board"]
    assert [r["bundle"] for r in board["rejected"]] == ["c-cheat.zip"]
    assert board["rejected"][0]["problems"][0]["code"] == "results.aggregate_edited"
    assert [a[0] for a in board["accepted"]] == ["a-on-beat.zip", "b-off-beat.zip"]


def test_sections_rows_and_default_rank(site):
    sections = {(s["testset"]["name"], s["protocol"]["name"]): s for s in site["board"]["sections"]}
    motion = sections[("sample", "mace2d-official")]
    assert [c["key"] for c in motion["columns"]] == ["fid_k", "fid_g", "div_k", "div_g", "bas"]
    assert [r["method"] for r in motion["rows"]] == ["On-beat dancer", EVIL]  # better BAS and FID
    assert [r["rank"] for r in motion["rows"]] == [1, 2]
    assert sections[("sample", "mace2d-strict")]["rows"] == []
    app = sections[("sample", "vbench-appearance")]
    assert [c["key"] for c in app["columns"]] == ["temporal_flickering"] and app["columns"][0]["scale"] == 100
    # The paper's rows, on the paper's test set, marked as such; VBench values stored on the results' scale.
    paper = sections[("ma-data-test", "vbench-appearance")]
    gt = paper["rows"][0]
    assert gt["kind"] == "gt" and gt["rank"] is None and gt["source"] == "paper"
    assert gt["values"]["imaging_quality"]["value"] == 0.6712
    ours = next(r for r in paper["rows"] if r["method"] == "MACE-Dance")
    assert ours["provenance"]["reported_in"] == "MACE-Dance, arXiv 2512.18181 v3, Table 1"
    motion_paper = sections[("ma-data-test", "mace2d-official")]
    assert [c["key"] for c in motion_paper["columns"]] == ["fid_k", "fid_g", "div_k", "div_g", "bas"]
    assert ("finedance-test", "finedance3d") in sections


def test_rank_rows_mean_rank_with_ties_and_missing_values():
    cols = [
        {"key": "a", "higher_is_better": True},
        {"key": "b", "higher_is_better": False},
        {"key": "c", "higher_is_better": None},
    ]

    def row(rid, a=None, b=None, kind="submission"):
        vals = {k: {"value": v} for k, v in (("a", a), ("b", b)) if v is not None}
        return {"id": rid, "kind": kind, "method": rid, "values": vals}

    rows = rank_rows(
        [row("x", 1, 5), row("y", 2, 5), row("z", 2, None), row("gt", 9, 0, "gt"), row("n")], cols
    )
    # a: y,z share rank 1, x rank 3; b: x,y share rank 1. Means: y 1.0, z 1.0, x 2.0; n has nothing.
    assert [(r["id"], r["rank"], r["mean_rank"]) for r in rows] == [
        ("gt", None, None),
        ("y", 1, 1.0),
        ("z", 1, 1.0),
        ("x", 3, 2.0),
        ("n", None, None),
    ]


def test_output_is_byte_identical(site):
    for name in ("index.html", "leaderboard.json", "leaderboard.csv"):
        assert (site["root"] / "site1" / name).read_bytes() == (site["root"] / "site2" / name).read_bytes(), (
            name
        )


def test_page_escapes_submission_text_and_loads_nothing(site):
    page = (site["root"] / "site1" / "index.html").read_text()
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;quoted&quot; &amp; &lt;b&gt;" in page
    assert page.count("<script>") == 1  # only the page's own
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\bsrc=", page) and "@import" not in page and "url(" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith("#") or h.startswith("https://example.org/") for h in hrefs), hrefs
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    assert "reported in the paper" in page and "scored by this toolkit" in page
    # no stray control characters (a CSS escape like "\\2020" written as an octal escape would leave one)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", page)
    assert 'td.trusted::after{content:"\\2020"' in page


def test_csv_cells_cannot_become_formulas(site):
    rows = list(csv.DictReader(io.StringIO((site["root"] / "site1" / "leaderboard.csv").read_text())))
    evil = next(r for r in rows if r["method"] == EVIL)
    assert evil["method_version"] == "'=1+1" and evil["generated_by"] == "'@SUM(A1)"
    assert float(evil["bas"]) > 0 and evil["source"] == "scored by this toolkit"
    assert csv_text("-2") == "'-2" and csv_text("+x") == "'+x" and csv_text("ok") == "ok"
    paper = [r for r in rows if r["source"] == "reported in the paper"]
    assert paper and all(r["bundle_sha256"] == "" for r in paper)
