"""The built page in a real headless Chromium: rows render with their numbers, headers sort both ways,
no JavaScript error, no network request. Needs Debian's ``chromium`` and ``chromium-driver`` (``make apt``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmark.leaderboard.board import build_site
from benchmark.leaderboard.testset import load_testset
from tests.benchmark.leaderboard.lb_helpers import bundle, evaluate_motion

pytestmark = pytest.mark.slow  # the `browser` fixture (tests/benchmark/conftest.py) skips without chromium


@pytest.fixture(scope="module")
def site(scored, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    mixed = root / "mixed"
    mixed.mkdir()
    for i, path in enumerate(sorted(scored["on-beat/keypoints"].glob("*.json"))):
        source = scored["on-beat/keypoints"] if i % 2 else scored["off-beat/keypoints"]
        shutil.copyfile(source / path.name, mixed / path.name)
    subs = root / "subs"
    subs.mkdir()
    bundle(
        subs / "on.zip", [scored["on-beat/motion"], scored["on-beat/appearance"]], scored["on-beat/keypoints"]
    )
    bundle(subs / "off.zip", [scored["off-beat/motion"]], meta={**_meta("Off-beat <dancer>")})
    bundle(subs / "mixed.zip", [evaluate_motion(mixed, root / "mixed.json")], meta={**_meta("Half & half")})
    build_site(subs, [load_testset("sample-v1")], root / "site")
    return root / "site"


def _meta(method: str) -> dict:
    from tests.benchmark.leaderboard.lb_helpers import META

    return {**META, "method": method}


def _table(driver, section_id: str):
    return driver.find_element("css selector", f'section[id="{section_id}"] table.board')


def _ids(table) -> list[str]:
    return [tr.get_attribute("id") for tr in table.find_elements("css selector", "tbody.rows tr")]


def _header(table, label: str):
    for th in table.find_elements("css selector", "thead th[data-col]"):
        if th.text.strip().split(" ")[0] == label:
            return th
    raise AssertionError(f"no header {label}")


def _expected(section: dict, key: str, descending: bool) -> list[str]:
    rows = [r for r in section["rows"] if r["kind"] != "gt"]
    have = [r for r in rows if r["values"].get(key, {}).get("value") is not None]
    order = sorted(have, key=lambda r: r["values"][key]["value"], reverse=descending)
    return [r["id"] for r in order] + [r["id"] for r in rows if r not in have]


def _fmt(value: float, col: dict) -> str:
    return f"{value * col['scale']:.{col['digits']}f}"


def test_page_renders_sorts_and_logs_no_error(site, browser, page_requests, tmp_path):
    board = json.loads((site / "leaderboard.json").read_text())
    sections = {s["id"]: s for s in board["sections"]}
    browser.get((site / "index.html").resolve().as_uri())
    assert browser.title == "MACE-Dance leaderboard"

    # Every submission row renders with its numbers, formatted as the JSON says.
    n_checked = 0
    for sid, section in sections.items():
        rows = [r for r in section["rows"] if r["source"] == "submission"]
        if not rows:
            continue
        table = _table(browser, sid)
        for row in rows:
            tr = table.find_element("css selector", f'tr[id="{row["id"]}"]')
            cells = tr.find_elements("tag name", "td")
            assert cells[1].text.startswith(row["method"])
            for j, col in enumerate(section["columns"], start=2):
                value = row["values"][col["key"]]["value"]
                assert cells[j].text == _fmt(value, col), (sid, row["method"], col["key"])
                assert "95% CI [" in (cells[j].get_attribute("title") or "")
            assert "scored by this toolkit" in cells[-1].text
            n_checked += 1
    assert n_checked == 4  # three motion rows, one appearance row

    # Clicking a header sorts by it, best first, then reversed; missing values stay last.
    motion = sections["sample-v1--mace2d-official"]
    table = _table(browser, motion["id"])
    assert _ids(table) == [r["id"] for r in motion["rows"]]  # default rank order
    for label, key, hib in (("BAS", "bas", True), ("FID_k", "fid_k", False), ("Div_g", "div_g", True)):
        th = _header(table, label)
        th.find_element("tag name", "button").click()
        assert th.get_attribute("aria-sort") == ("descending" if hib else "ascending")
        assert _ids(table) == _expected(motion, key, descending=hib), label
        th.find_element("tag name", "button").click()
        assert th.get_attribute("aria-sort") == ("ascending" if hib else "descending")
        assert _ids(table) == _expected(motion, key, descending=not hib), label
    paper = sections["ma-data-test-v1--mace2d-official"]
    table = _table(browser, paper["id"])
    _header(table, "FID_k").find_element("tag name", "button").click()
    assert _ids(table) == _expected(paper, "fid_k", descending=False)
    assert len(_ids(table)) == 7 and len(table.find_elements("css selector", "tbody.ref tr")) == 1
    method = _header(table, "Method")
    method.find_element("tag name", "button").click()
    names = [
        tr.find_elements("tag name", "td")[1].text
        for tr in table.find_elements("css selector", "tbody.rows tr")
    ]
    assert names == sorted(names, key=str.lower)

    browser.save_screenshot(str(tmp_path / "leaderboard.png"))
    assert (tmp_path / "leaderboard.png").stat().st_size > 10_000

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    page = (site / "index.html").resolve().as_uri()
    from_page = page_requests(browser, page)
    assert from_page == [page], from_page  # the page loads itself and nothing else
