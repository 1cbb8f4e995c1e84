"""The static page: one self-contained ``index.html`` (inline CSS and JS, no requests, works from file://).

Every string that came from a submission or a manifest passes through :func:`esc` (``html.escape`` with
quotes); links are the ``http(s)`` URLs the validator accepted, with ``rel="noopener noreferrer nofollow"``.
A Content-Security-Policy allows only the page's own inline style and script, by hash: even a string that
escaped escaping could neither run script nor load anything. Sorting is client-side on ``data-v`` values.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

CSS = """
:root{--fg:#1d2330;--muted:#5d6677;--line:#dde2ea;--bg:#fff;--alt:#f6f8fb;--acc:#2a5bd7;--ok:#17794a;--paper:#7a5a12}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px 8px;border-bottom:1px solid var(--line)}
h1{margin:0 0 6px;font-size:22px}
h2{margin:28px 0 4px;font-size:17px}
p{margin:4px 0;color:var(--muted);max-width:1100px}
main{padding:0 28px 40px}
nav ul{display:flex;flex-wrap:wrap;gap:6px 14px;list-style:none;padding:0;margin:10px 0}
nav a{color:var(--acc);text-decoration:none}
.wrap{overflow-x:auto;margin-top:8px;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap;vertical-align:top}
th{background:#eef2f8;position:sticky;top:0;font-weight:600}
th.text,td.text{text-align:left}
td.prov{text-align:left;white-space:normal;min-width:260px;font-size:12px;color:var(--muted)}
tbody.rows tr:nth-child(even){background:var(--alt)}
tbody.ref tr{background:#fbf7ec;font-style:italic}
th button{font:inherit;font-weight:600;color:inherit;background:none;border:0;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\25B2";color:var(--acc)}
th[aria-sort=descending] button::after{content:" \\25BC";color:var(--acc)}
td[title]{text-decoration:underline dotted #9aa3b2;text-underline-offset:3px;cursor:help}
td.trusted::after{content:"\\2020";color:var(--muted);font-size:11px;vertical-align:super}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:11px;font-style:normal;border:1px solid}
.badge.ok{color:var(--ok);border-color:var(--ok)}
.badge.paper{color:var(--paper);border-color:var(--paper)}
.method{font-weight:600}
.ver{color:var(--muted);font-weight:400}
.empty{padding:10px;color:var(--muted)}
a{color:var(--acc)}
footer{padding:14px 28px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
""".strip()

JS = """
(function () {
  'use strict';
  function keyOf(cell, type) {
    var v = cell.getAttribute('data-v');
    if (v === null || v === '') { return null; }
    return type === 'num' ? parseFloat(v) : v.toLowerCase();
  }
  function sortBy(table, th, heads) {
    var col = parseInt(th.getAttribute('data-col'), 10);
    var type = th.getAttribute('data-type');
    var current = th.getAttribute('aria-sort');
    var dir = (current === 'ascending' || current === 'descending')
      ? (current === 'ascending' ? 'descending' : 'ascending')
      : th.getAttribute('data-first');
    heads.forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', dir);
    var body = table.querySelector('tbody.rows');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = keyOf(a.cells[col], type), y = keyOf(b.cells[col], type);
      var tie = parseInt(a.getAttribute('data-i'), 10) - parseInt(b.getAttribute('data-i'), 10);
      if (x === null || y === null) { return x === y ? tie : (x === null ? 1 : -1); }
      var c = x < y ? -1 : (x > y ? 1 : 0);
      return (dir === 'descending' ? -c : c) || tie;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.board'), function (table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll('thead th[data-col]'));
    heads.forEach(function (th) {
      th.querySelector('button').addEventListener('click', function () { sortBy(table, th, heads); });
    });
  });
}());
""".strip()


VERIFIED = {
    "re-scored": "re-scored by the board from the keypoint tracks",
    "recomputed": "recomputed by the board from the per-sample values",
    "bounded": "frame-weighted: only bounded by the per-sample values",
    "interval-consistent": "not re-derived (no keypoint tracks); consistent with its interval",
    "unverified": "not re-derived by the board",
}
TRUSTED = ("bounded", "interval-consistent", "unverified")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _fmt(value: float | None, col: dict[str, Any]) -> str:
    if value is None:
        return "–"
    v = value * col["scale"]
    return f"{v:.{col['digits']}f}" if abs(v) < 1e6 else f"{v:.4g}"


def _arrow(col: dict[str, Any]) -> str:
    return {True: " ↑", False: " ↓"}.get(col["higher_is_better"], "")


def _head(i: int, label: str, kind: str, first: str, title: str = "", cls: str = "") -> str:
    return (
        f'<th scope="col" data-col="{i}" data-type="{kind}" data-first="{first}" aria-sort="'
        f'{"ascending" if i == 0 else "none"}"{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}'
        f'{f" title={chr(34)}{esc(title)}{chr(34)}" if title else ""}><button type="button">{esc(label)}</button></th>'
    )


def _link(url: str | None, label: str) -> str:
    if not url or not url.startswith(("https://", "http://")):
        return ""
    return f'<a href="{esc(url)}" rel="noopener noreferrer nofollow">{esc(label)}</a>'


def _provenance(row: dict[str, Any]) -> str:
    p = row["provenance"]
    if row["source"] == "paper":
        return f'<span class="badge paper">reported in the paper</span> {esc(p.get("reported_in"))}'
    sig = p.get("signature") or {}
    status = sig.get("status")
    signed = {
        "verified": f"signed ✓ ({esc(sig.get('key'))})",
        "self-consistent": f"signed, key not checked ({esc(sig.get('key'))})",
    }.get(status, "unsigned")
    parts = [
        '<span class="badge ok">scored by this toolkit</span>',
        f"generated by {esc(p.get('generated_by'))}",
        f"evaluated by {esc(p.get('evaluated_by'))}",
        f"toolkit {esc(p.get('toolkit_version'))}",
        esc(p.get("date")),
        signed,
        "re-scored from keypoints ✓" if p.get("rescored") else "aggregates recomputed",
        f"{esc(p.get('stems_scored'))}/{esc(p.get('stems_total'))} stems",
    ]
    links = " ".join(x for x in (_link(p.get("paper_url"), "paper"), _link(p.get("code_url"), "code")) if x)
    license_ = f"licence {esc(p.get('license'))}" if p.get("license") else ""
    return " · ".join(x for x in [*parts, license_, links] if x)


def _row(row: dict[str, Any], i: int, columns: list[dict[str, Any]]) -> str:
    rank = "" if row["rank"] is None else str(row["rank"])
    mean = "" if row.get("mean_rank") is None else f"mean rank {row['mean_rank']:.2f}"
    version = f' <span class="ver">{esc(row["method_version"])}</span>' if row.get("method_version") else ""
    cells = [
        f'<td data-v="{rank}"{f" title={chr(34)}{mean}{chr(34)}" if mean else ""}>{rank or "–"}</td>',
        f'<td class="text" data-v="{esc(row["method"])}"><span class="method">{esc(row["method"])}</span>{version}</td>',
    ]
    for col in columns:
        cell = row["values"].get(col["key"])
        value = None if cell is None else cell["value"]
        ci = (cell or {}).get("ci95") or [None, None]
        notes = []
        if value is not None and ci[0] is not None and ci[1] is not None:
            notes.append(f"95% CI [{_fmt(ci[0], col)}, {_fmt(ci[1], col)}]")
        status = (cell or {}).get("verified")
        if value is not None and status:
            notes.append(VERIFIED.get(status, status))
        title = f' title="{esc(" · ".join(notes))}"' if notes else ""
        cls = ' class="trusted"' if value is not None and status in TRUSTED else ""
        data_v = "" if value is None else repr(float(value))
        cells.append(f'<td data-v="{data_v}"{cls}{title}>{_fmt(value, col)}</td>')
    cells.append(f'<td class="prov">{_provenance(row)}</td>')
    return (
        f'<tr id="{esc(row["id"])}" data-i="{i}" data-kind="{esc(row["kind"])}">' + "".join(cells) + "</tr>"
    )


def _section(section: dict[str, Any]) -> str:
    ts, proto, columns = section["testset"], section["protocol"], section["columns"]
    title = f"{ts['name']} v{ts['version']} · {proto['name']} v{proto['version']}"
    if ts["hashes_published"]:
        size = f"{ts['n_stems']} clips; fingerprint {ts['fingerprint'][:16]}…"
    else:
        size = (
            f"{ts['n_stems']} clips; " if ts["n_stems"] else ""
        ) + "hashes not published (paper rows only)"
    out = [
        f'<section id="{esc(section["id"])}">',
        f"<h2>{esc(title)}</h2>",
        f"<p>{esc(ts['description'])} — {esc(size)}</p>",
    ]
    rows = section["rows"]
    if not rows:
        out.append('<p class="empty">No accepted submissions yet.</p></section>')
        return "\n".join(out)
    heads = [
        _head(0, "Rank", "num", "ascending", "default rank (see above)"),
        _head(1, "Method", "text", "ascending", cls="text"),
    ]
    for j, col in enumerate(columns, start=2):
        first = "descending" if col["higher_is_better"] else "ascending"
        label = col["label"] + _arrow(col)
        title = col["description"] + (" (×100)" if col["scale"] == 100 else "")
        heads.append(_head(j, label, "num", first, title))
    heads.append('<th scope="col" class="text">Provenance</th>')
    refs = [r for r in rows if r["kind"] == "gt"]
    ranked = [r for r in rows if r["kind"] != "gt"]
    out.append('<div class="wrap"><table class="board">')
    out.append("<thead><tr>" + "".join(heads) + "</tr></thead>")
    if refs:
        out.append(
            '<tbody class="ref">' + "".join(_row(r, i, columns) for i, r in enumerate(refs)) + "</tbody>"
        )
    out.append(
        '<tbody class="rows">' + "".join(_row(r, i, columns) for i, r in enumerate(ranked)) + "</tbody>"
    )
    out.append("</table></div></section>")
    return "\n".join(out)


def render_html(board: dict[str, Any]) -> str:
    """The page for a ``leaderboard.json`` document (deterministic)."""
    csp = (
        f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {_csp_hash(JS)}; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    nav = "".join(
        f'<li><a href="#{esc(s["id"])}">{esc(s["testset"]["name"])} v{esc(s["testset"]["version"])} · '
        f"{esc(s['protocol']['name'])}</a> ({len(s['rows'])})</li>"
        for s in board["sections"]
    )
    body = "\n".join(_section(s) for s in board["sections"])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="generator" content="{esc(board["generator"])}">
<title>MACE-Dance leaderboard</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>MACE-Dance leaderboard</h1>
<p>Music-driven dance generation, one table per (test set, protocol). <span class="badge ok">scored by this toolkit</span> rows are
submission bundles accepted by <code>mace-bench submission validate</code>: GT hashes equal the test set's, protocol name,
version and parameters the board's, every mean recomputed from per-sample values, motion re-scored from keypoints where
marked. <span class="badge paper">reported in the paper</span> rows are transcribed from the MACE-Dance paper and not
re-checked. Hover a value for its 95% bootstrap interval and how it was checked; † marks a value the board could
not re-derive (no keypoint tracks in the bundle, or a frame-weighted mean).</p>
<p>{esc(board["ranking"])}</p>
<nav><ul>{nav}</ul></nav>
</header>
<main>
{body}
</main>
<footer>Generated by {esc(board["generator"])} from the submission bundles and test-set manifests; data in leaderboard.json and leaderboard.csv.</footer>
<script>{JS}</script>
</body>
</html>
"""
