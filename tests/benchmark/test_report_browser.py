"""The HTML report and the tables page in a real headless Chromium (the leaderboard's harness): they open from
file:// without a JavaScript error or a CSP violation, load nothing, show their pictures, and the per-sample
and paper tables sort by a clicked column."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.paper_tables import load_table, render_page, rows_from_results
from benchmark.results import read_results
from tools.synthetic_keypoints import make_demo_set

pytestmark = pytest.mark.slow  # a browser start; skipped without chromium (see tests/benchmark/conftest.py)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    d = make_demo_set(root / "data", n_samples=6, seed=4)
    args = ["evaluate", "--pred-keypoints", d["pred_keypoints"], "--gt-keypoints", d["gt_keypoints"]]
    args += ["--audio", d["audio"], "--n-boot", "20", "--out", root / "r.json", "--report", root / "report"]
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    results = read_results(root / "r.json")
    table = load_table("table1")
    (root / "tables.html").write_text(
        render_page([(table, rows_from_results(table, results, "Mine"), None)], "T")
    )
    return {"report": root / "report" / "index.html", "tables": root / "tables.html", "results": results}


def _column(driver, table_css: str, col: int) -> list[str]:
    rows = driver.find_elements("css selector", f"{table_css} tbody.rows tr")
    return [r.find_elements("tag name", "td")[col].get_attribute("data-v") for r in rows]


def _errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_report_opens_sorts_and_loads_nothing(pages, browser, page_requests):
    uri = pages["report"].resolve().as_uri()
    browser.get(uri)
    assert browser.title == "Evaluation report"
    images = browser.find_elements("css selector", "figure img")
    assert len(images) == 6 + 1 and all(img.get_property("naturalWidth") > 100 for img in images)
    table = "table.per-sample"
    heads = browser.find_elements("css selector", f"{table} thead th[data-col]")
    bas = next(i for i, th in enumerate(heads) if th.text.split(" ")[0] == "BAS")
    values = {s: v["bas"] for s, v in pages["results"]["per_sample"].items()}
    heads[bas].find_element("tag name", "button").click()  # BAS: higher is better, best first
    shown = [float(v) for v in _column(browser, table, bas)]
    assert shown == sorted(values.values(), reverse=True)
    assert heads[bas].get_attribute("aria-sort") == "descending"
    heads[bas].find_element("tag name", "button").click()
    assert [float(v) for v in _column(browser, table, bas)] == sorted(values.values())
    assert _errors(browser) == []
    assert [u for u in page_requests(browser, uri) if not u.startswith("data:")] == [uri]


def test_tables_page_sorts(pages, browser, page_requests):
    uri = pages["tables"].resolve().as_uri()
    browser.get(uri)
    table = "table.paper"
    heads = browser.find_elements("css selector", f"{table} thead th[data-col]")
    fid = next(i for i, th in enumerate(heads) if th.text.startswith("FID_k"))
    heads[fid].find_element("tag name", "button").click()  # lower is better: ascending first
    shown = [float(v) for v in _column(browser, table, fid) if v]
    assert shown == sorted(shown) and len(shown) == 8  # 7 paper rows with FID_k, and yours
    assert _errors(browser) == []
    assert page_requests(browser, uri) == [uri]
