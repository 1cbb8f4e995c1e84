"""``leaderboard build``: accepted submissions and the paper's rows -> sections, ranks, JSON, CSV, HTML.

A section is one (test set, protocol). Its rows are every accepted submission scored under that protocol on
that test set ("scored by this toolkit"), plus the rows of the packaged paper tables linked to the test set
(``paper_tables`` in its manifest; "reported in the paper"). Paper tables mix protocols (Table 1 holds VBench
and 2D-motion columns): a paper value goes to the appearance section when its key is an appearance metric,
else to the table's motion protocol.

**Default rank** (documented on the page): for every directional column (an arrow), rows with a value get a
competition rank (1 = best, ties share the smaller rank); a row's score is the mean of its ranks over the
columns it has; rows are ordered by score, then method name. Ground-truth rows are shown apart and not ranked.

Values are stored as the results files hold them (VBench dimensions in [0, 1]); each column records the
``scale`` and ``digits`` it is displayed with (VBench x100 as in the paper). Output is deterministic: sorted
inputs, sorted keys, no clock (dates come from the results files).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from benchmark.leaderboard.report import Report, printable
from benchmark.leaderboard.testset import TestSet, load_testset, packaged_testsets

BOARD_SCHEMA = "mace-dance/leaderboard"
RANKING_DOC = (
    "Default rank: for each metric with an arrow, rows with a value are ranked (1 = best, ties share the "
    "rank); a row's score is the mean of its ranks over the metrics it reports; lower score ranks first. "
    "Ground-truth rows are shown for reference and not ranked. Click a column header to sort by it "
    "(first click: best first; again: reversed)."
)
VBENCH_X100 = (
    "imaging_quality",
    "aesthetic_quality",
    "subject_consistency",
    "background_consistency",
    "motion_smoothness",
    "temporal_flickering",
)
DEFAULT_DIGITS = {"bas": 4, "ssim": 4, "lpips": 4, "psnr": 2, "fvd": 1, "pfc": 3, "fsr": 3}


def _appearance_keys() -> tuple[str, ...]:
    from benchmark.appearance.api import ALL_DIMS

    return ALL_DIMS


def _clean(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def column_spec(key: str, paper_columns: dict[str, Any]) -> dict[str, Any]:
    from benchmark.protocols import metric_specs

    info = metric_specs().get(key)
    col = paper_columns.get(key)
    return {
        "key": key,
        "label": col.label if col else (info.label if info else key),
        "description": info.description if info else (col.label if col else key),
        "higher_is_better": col.higher_is_better if col else (info.higher_is_better if info else None),
        "scale": col.scale if col else (100.0 if key in VBENCH_X100 else 1.0),
        "digits": col.digits if col else DEFAULT_DIGITS.get(key, 2),
    }


def _paper_rows(testset: TestSet, protocol: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the paper tables linked to ``testset`` whose values belong to ``protocol``; their columns."""
    from benchmark.paper_tables import load_table
    from benchmark.protocols import get_protocol

    kind = get_protocol(protocol).kind
    appearance = set(_appearance_keys())
    rows, columns = [], {}
    for name in testset.paper_tables:
        table = load_table(name)
        for c in table.columns:
            if kind == "appearance":
                mine = c.key in appearance
            else:  # the table's own (motion) protocol holds its non-appearance columns
                mine = table.protocol == protocol and c.key not in appearance
            if mine:
                columns[c.key] = c
        for i, r in enumerate(table.rows):
            values = {
                k: {"value": float(f"{v / columns[k].scale:.12g}"), "ci95": None}
                for k, v in r.values.items()
                if k in columns
            }
            if not values:
                continue
            rows.append(
                {
                    "id": f"paper-{table.name}-{i}",
                    "source": "paper",
                    "kind": r.kind if r.kind in ("gt", "baseline", "ours", "ablation") else "baseline",
                    "method": r.method,
                    "method_version": None,
                    "values": values,
                    "provenance": {"reported_in": table.source, "table": table.name},
                }
            )
    return rows, columns


def _submission_row(report: Report, entry, n_stems: int) -> dict[str, Any]:
    meta = report.submission or {}
    values = {
        k: {
            "value": _clean(m["value"]),
            "ci95": [_clean(m["ci95"][0]), _clean(m["ci95"][1])],
            "verified": entry.verified.get(k, "unverified"),
        }
        for k, m in sorted(entry.metrics.items())
    }
    return {
        "id": f"sub-{(report.sha256 or '')[:12]}",
        "source": "submission",
        "kind": "submission",
        "method": meta.get("method", ""),
        "method_version": meta.get("method_version"),
        "values": values,
        "provenance": {
            "bundle": report.bundle,
            "bundle_sha256": report.sha256,
            "generated_by": meta.get("generated_by"),
            "evaluated_by": meta.get("evaluated_by"),
            "license": meta.get("license"),
            "paper_url": meta.get("paper_url"),
            "code_url": meta.get("code_url"),
            "sampling": meta.get("sampling", {}),
            "notes": meta.get("notes"),
            "toolkit_version": entry.toolkit_version,
            "date": entry.created_utc[:10],
            "signature": dict(report.signature),
            "rescored": entry.rescored,
            "stems_scored": entry.n_scored,
            "stems_total": n_stems,
            "skipped": dict(entry.skipped),
        },
    }


def rank_rows(rows: list[dict[str, Any]], columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reference (GT) rows first, unranked; the others ordered by mean per-column rank (see module doc)."""
    ranked = [r for r in rows if r["kind"] != "gt"]
    ranks: dict[str, list[int]] = {r["id"]: [] for r in ranked}
    for col in columns:
        hib = col["higher_is_better"]
        if hib is None:
            continue
        have = [(r["values"][col["key"]]["value"], r["id"]) for r in ranked if _has(r, col["key"])]
        for value, rid in have:
            better = sum(1 for v, _ in have if (v > value if hib else v < value))
            ranks[rid].append(better + 1)
    for r in ranked:
        got = ranks[r["id"]]
        r["mean_rank"] = float(sum(got)) / len(got) if got else None
    order = sorted(
        ranked,
        key=lambda r: (r["mean_rank"] is None, r["mean_rank"] or 0.0, r["method"].casefold(), r["id"]),
    )
    position = 0
    previous = None
    for i, r in enumerate(order, start=1):
        if r["mean_rank"] is None:
            r["rank"] = None
            continue
        if r["mean_rank"] != previous:
            position, previous = i, r["mean_rank"]
        r["rank"] = position
    refs = sorted((r for r in rows if r["kind"] == "gt"), key=lambda r: (r["method"].casefold(), r["id"]))
    for r in refs:
        r["rank"], r["mean_rank"] = None, None
    return refs + order


def _has(row: dict[str, Any], key: str) -> bool:
    cell = row["values"].get(key)
    return cell is not None and cell["value"] is not None


def _section(testset: TestSet, protocol, reports: list[Report], paper: bool) -> dict[str, Any]:
    from benchmark.protocols import metric_specs

    specs = metric_specs()
    rows, paper_cols = _paper_rows(testset, protocol.name) if paper else ([], {})
    for report in reports:
        if report.testset is None or (report.testset["name"], report.testset["version"]) != testset.key:
            continue
        for entry in report.entries:
            if entry.protocol == protocol.name:
                rows.append(_submission_row(report, entry, len(testset.stems)))
    keys: list[str] = list(paper_cols)
    for key in specs:
        if key not in keys and any(_has(r, key) for r in rows) and specs[key].higher_is_better is not None:
            keys.append(key)
    keys = [k for k in keys if any(_has(r, k) for r in rows)]
    columns = [column_spec(k, paper_cols) for k in keys]
    for r in rows:
        r["values"] = {k: v for k, v in r["values"].items() if k in keys}
    return {
        "id": f"{testset.name}-v{testset.version}--{protocol.name}",
        "testset": {
            "name": testset.name,
            "version": testset.version,
            "description": testset.description,
            "n_stems": testset.n_stems,
            "hashes_published": testset.hashes_published,
            "fingerprint": testset.fingerprint() if testset.hashes_published else None,
        },
        "protocol": {"name": protocol.name, "version": protocol.version},
        "columns": columns,
        "rows": rank_rows(rows, columns),
    }


def board_testsets(testsets: list[TestSet], paper: bool) -> list[TestSet]:
    """The given test sets, then (with ``paper``) the packaged ones that carry paper tables."""
    out = list(testsets)
    if paper:
        keys = {t.key for t in out}
        for path in packaged_testsets():
            ts = load_testset(path)
            if ts.paper_tables and ts.key not in keys:
                out.append(ts)
                keys.add(ts.key)
    return out


def build_board(
    reports: list[Report], testsets: list[TestSet], paper: bool = True, rejected: list[Report] | None = None
) -> dict[str, Any]:
    """The ``leaderboard.json`` document (deterministic)."""
    from benchmark.results import toolkit_version

    sections = []
    for ts in board_testsets(testsets, paper):
        for protocol in ts.protocols:
            sections.append(_section(ts, protocol, reports, paper))
    return {
        "schema": BOARD_SCHEMA,
        "schema_version": "1.0",
        "generator": f"mace-dance {toolkit_version()}",
        "ranking": RANKING_DOC,
        "sections": sections,
        "accepted": sorted({r.bundle: r.sha256 for r in reports}.items()),
        "rejected": [
            {"bundle": r.bundle, "sha256": r.sha256, "problems": [p.to_dict() for p in r.problems]}
            for r in sorted(rejected or [], key=lambda r: r.bundle)
        ],
    }


_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_text(value: Any) -> str:
    """A text cell that a spreadsheet will not run as a formula (OWASP CSV injection rule)."""
    if value is None:
        return ""
    s = str(value)
    return "'" + s if s.startswith(_CSV_TRIGGERS) else s


def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


def board_csv(board: dict[str, Any]) -> str:
    keys: list[str] = []
    for section in board["sections"]:
        for col in section["columns"]:
            if col["key"] not in keys:
                keys.append(col["key"])
    head = [
        "testset",
        "testset_version",
        "protocol",
        "protocol_version",
        "rank",
        "mean_rank",
        "source",
        "kind",
        "method",
        "method_version",
        "generated_by",
        "evaluated_by",
        "toolkit_version",
        "date",
        "signature",
        "rescored",
        "stems_scored",
        "stems_total",
        "bundle_sha256",
        "paper_url",
        "code_url",
    ]
    for k in keys:
        head += [k, f"{k}_ci_low", f"{k}_ci_high"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    for section in board["sections"]:
        for row in section["rows"]:
            prov = row["provenance"]
            sig = prov.get("signature") or {}
            text = [
                section["testset"]["name"],
                section["testset"]["version"],
                section["protocol"]["name"],
                section["protocol"]["version"],
            ]
            cells = [csv_text(t) for t in text]
            cells += ["" if row["rank"] is None else str(row["rank"]), _num(row["mean_rank"])]
            cells += [
                csv_text(v)
                for v in (
                    "scored by this toolkit" if row["source"] == "submission" else "reported in the paper",
                    row["kind"],
                    row["method"],
                    row["method_version"],
                    prov.get("generated_by"),
                    prov.get("evaluated_by"),
                    prov.get("toolkit_version"),
                    prov.get("date"),
                    sig.get("status"),
                    None if "rescored" not in prov else ("yes" if prov["rescored"] else "no"),
                    prov.get("stems_scored"),
                    prov.get("stems_total"),
                    prov.get("bundle_sha256"),
                    prov.get("paper_url"),
                    prov.get("code_url"),
                )
            ]
            for k in keys:
                cell = row["values"].get(k)
                ci = (cell or {}).get("ci95") or [None, None]
                cells += [_num((cell or {}).get("value")), _num(ci[0]), _num(ci[1])]
            writer.writerow(cells)
    return buf.getvalue()


def build_site(
    submissions: Path,
    testsets: list[TestSet],
    out: Path,
    public_keys: list | None = None,
    gt_dirs: dict | None = None,
    paper: bool = True,
    require_keypoints: bool = False,
) -> list[str]:
    """Validate every ``*.zip`` in ``submissions``, write ``index.html``, ``leaderboard.json``, ``.csv``."""
    import json

    from benchmark.leaderboard.html import render_html
    from benchmark.leaderboard.validate import validate_bundle
    from ma_data.core.errors import MaceError
    from ma_data.core.io.atomic import atomic_write

    if not submissions.is_dir():
        raise MaceError(f"{submissions}: submissions folder not found")
    accepted: list[Report] = []
    rejected: list[Report] = []
    seen: dict[str, str] = {}
    lines = []
    for path in sorted(p for p in submissions.iterdir() if p.suffix.lower() == ".zip" and p.is_file()):
        report = validate_bundle(path, testsets, public_keys, gt_dirs, require_keypoints=require_keypoints)
        if report.sha256 in seen:
            report.add("submission.duplicate", f"same bytes as {seen[report.sha256]}")
        elif report.sha256:
            seen[report.sha256] = path.name
        (accepted if report.accepted else rejected).append(report)
        lines.append(printable(("accepted " if report.accepted else "REJECTED ") + path.name))
        lines += [printable(f"  [{p.code}] {p.line()}") for p in report.problems]
    board = build_board(accepted, testsets, paper, rejected)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "leaderboard.json": json.dumps(board, indent=1, sort_keys=True, ensure_ascii=True, allow_nan=False)
        + "\n",
        "leaderboard.csv": board_csv(board),
        "index.html": render_html(board),
    }
    for name, text in files.items():
        with atomic_write(out / name, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        (out / name).chmod(0o644)  # a site to publish: world-readable (temporary files are 0600)
    n_rows = sum(len(s["rows"]) for s in board["sections"])
    lines.append(
        f"{len(accepted)} accepted, {len(rejected)} rejected; {len(board['sections'])} sections, {n_rows} rows "
        f"-> {out}/index.html, leaderboard.json, leaderboard.csv"
    )
    return lines
