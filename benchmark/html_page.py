"""Building blocks of the toolkit's static HTML pages (the leaderboard, evaluation reports, paper tables).

Every page is one self-contained file: inline CSS and JS, no request to anything (it works from ``file://``),
and a Content-Security-Policy that allows only its own inline style and script, by hash (images only as
``data:`` URIs, when a page has any). Every string that came from a file or a flag passes through
:func:`esc`. Tables with a ``sortable`` class sort client-side on their cells' ``data-v`` values: headers
made by :func:`sortable_head`, rows in a ``tbody.rows`` with a ``data-i`` tie-break index.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

__all__ = ["CSS", "SORT_JS", "csp_hash", "document", "esc", "png_data_uri", "sortable_head"]

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

SORT_JS = """
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
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll('thead th[data-col]'));
    heads.forEach(function (th) {
      th.querySelector('button').addEventListener('click', function () { sortBy(table, th, heads); });
    });
  });
}());
""".strip()


def esc(value: Any) -> str:
    """``value`` as HTML text or attribute value (``None`` is the empty string)."""
    return html.escape("" if value is None else str(value), quote=True)


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline style or script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def png_data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI (pages embed their pictures; they load nothing)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def sortable_head(
    i: int, label: str, kind: str, first: str, title: str = "", cls: str = "", sort: str = "none"
) -> str:
    """A header cell of a ``table.sortable``: column ``i``, ``kind`` ``num`` or ``text``, ``first`` the
    direction of the first click (``ascending`` / ``descending``: best first), ``sort`` the order the rows
    are already in by this column (``ascending`` / ``descending`` / ``none``)."""
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' title="{esc(title)}"' if title else ""
    return (
        f'<th scope="col" data-col="{i}" data-type="{kind}" data-first="{first}" aria-sort="'
        f'{sort}"{attrs}><button type="button">{esc(label)}</button></th>'
    )


def document(title: str, body: str, *, generator: str, css: str = "", images: bool = False) -> str:
    """A whole page: ``body`` (already escaped HTML) with the shared style (plus ``css``) and the sorting
    script, under a CSP that allows only those two (and ``data:`` images when ``images``)."""
    style = CSS + ("\n" + css.strip() if css.strip() else "")
    csp = (
        f"default-src 'none'; style-src {csp_hash(style)}; script-src {csp_hash(SORT_JS)}; "
        f"img-src {'data:' if images else chr(39) + 'none' + chr(39)}; base-uri 'none'; form-action 'none'"
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="generator" content="{esc(generator)}">
<title>{esc(title)}</title>
<style>{style}</style>
</head>
<body>
{body}
<script>{SORT_JS}</script>
</body>
</html>
"""
