"""Paper tables (MACE-Dance Table 1, Table 2, ...) with the user's own results rows beside them.

A table is a YAML file under ``manifests/paper/<name>.yaml``: title, source, the protocol its numbers follow,
columns (result-metric key, Markdown and LaTeX labels, direction, digits, optional display ``scale``), the
paper's rows, and ``gt_keys`` saying which results keys fill a ground-truth row. Adding a table is adding a
YAML file. Rows from a results JSON (``mace-bench evaluate`` / ``evaluate-3d``) are matched by metric key.

    mace-bench table --table table2 --results ours.json --format latex
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmark.markup import latex_escape, latex_label, latex_markup, markdown_escape, number_text
from ma_data.core.errors import FormatError
from ma_data.core.packaged import packaged_path


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    latex: str
    higher_is_better: bool | None
    digits: int = 2
    scale: float = 1.0
    #: The results-metric key that fills the column, when the column key is not it (a table showing one
    #: metric twice, e.g. Table 4's kinematic and video-level BAS).
    metric: str | None = None
    #: Heading of the column group it belongs to (Table 1: Appearance / Motion), if any.
    group: str | None = None

    @property
    def source(self) -> str:
        """The results-metric key read for this column."""
        return self.metric or self.key


@dataclass
class Row:
    method: str
    values: dict[str, float]
    kind: str = "baseline"  # gt | baseline | ablation | ours | user | user_gt
    protocol: str | None = None
    #: False when the row's numbers follow another protocol than the table's: shown, never bold.
    comparable: bool = True
    #: Column keys whose value the results file flags as untrustworthy (marked with a dagger).
    flagged: set[str] = field(default_factory=set)
    #: The test set the row was scored on (``name-vN``) when known; another than the table's makes the row
    #: not comparable (see :func:`on_testset`).
    testset: str | None = None
    #: Set by the renderers: whether this row's values may be bold in the table being rendered.
    competes: bool = field(default=True, repr=False)


@dataclass
class PaperTable:
    name: str
    title: str
    source: str
    protocol: str | None
    columns: list[Column]
    rows: list[Row]
    gt_keys: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Protocols whose results may sit beside the paper's numbers: ``protocol`` plus the YAML's
    #: ``also_comparable`` (e.g. ``vbench-appearance`` for Table 1's appearance columns).
    also_comparable: list[str] = field(default_factory=list)
    #: The test set the paper's numbers were scored on (a packaged manifest name, ``ma-data-test-v1``), or
    #: None when the paper does not say.
    testset: str | None = None

    def comparable_protocols(self) -> set[str]:
        return {p for p in (self.protocol, *self.also_comparable) if p}


def tables_dir() -> Path:
    return packaged_path("paper")


def available_tables() -> list[str]:
    return sorted(p.stem for p in tables_dir().glob("*.yaml"))


def load_table(name_or_path: str | os.PathLike) -> PaperTable:
    """Load a packaged table by name (``table2``) or any YAML file of the same layout."""
    path = Path(name_or_path)
    if not path.suffix:
        path = tables_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise FormatError(f"{path}: no such paper table (known: {', '.join(available_tables())})")
    try:
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        cols = [
            Column(
                c["key"],
                c.get("label", c["key"]),
                c.get("latex", c.get("label", c["key"])),
                c.get("higher_is_better"),
                int(c.get("digits", 2)),
                float(c.get("scale", 1.0)),
                c.get("metric"),
                c.get("group"),
            )
            for c in d["columns"]
        ]
        rows = [
            Row(r["method"], {k: float(v) for k, v in r["values"].items()}, r.get("kind", "baseline"))
            for r in d["rows"]
        ]
        return PaperTable(
            d["name"],
            d["title"],
            d.get("source", ""),
            d.get("protocol"),
            cols,
            rows,
            d.get("gt_keys", {}),
            [str(n) for n in d.get("notes", [])],
            [str(p) for p in d.get("also_comparable", [])],
            str(d["testset"]) if d.get("testset") else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        if isinstance(exc, yaml.YAMLError) and mark is not None:
            reason = (
                f"YAML error at line {mark.line + 1}, column {mark.column + 1}: {getattr(exc, 'problem', '')}"
            )
        else:
            reason = f"{exc.__class__.__name__}: {exc}"
        raise FormatError(f"{path}: malformed paper table ({' '.join(reason.split())})") from exc


def _metric(results: dict[str, Any], key: str) -> tuple[float | None, str | None, bool]:
    """(value, the protocol that produced it if recorded, whether the results flag it) of one metric key.

    Raises :class:`FormatError` for a value that is not a number (results from :func:`read_results` are
    already checked; this guards documents built elsewhere)."""
    entry = results.get("metrics", {}).get(key)
    if entry is None:
        return None, None, False
    v = entry.get("value") if isinstance(entry, dict) else entry
    if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
        raise FormatError(f"results metric {key!r} has value {v!r:.60}, not a number")
    proto = entry.get("protocol") if isinstance(entry, dict) else None
    flagged = bool(entry.get("warnings")) if isinstance(entry, dict) else False
    return (None if v is None else float(v)), (str(proto) if proto else None), flagged


def merge_results(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One document for a table row from several results files of the same method (the motion file and the
    appearance file of ``evaluate --dims motion`` / ``--dims appearance``): their metrics and protocols.
    A metric key in two files is an error (two different numbers for one cell)."""
    if len(docs) == 1:
        return docs[0]
    metrics: dict[str, Any] = {}
    protocols: list[Any] = []
    for doc in docs:
        for key, entry in (doc.get("metrics") or {}).items():
            if key in metrics:
                raise FormatError(f"metric {key!r} appears in two results files of the same row")
            metrics[key] = entry
        protocols += [p for p in doc.get("protocols") or [] if p not in protocols]
    return {"metrics": metrics, "protocols": protocols}


@dataclass(frozen=True)
class Caption:
    """What the user rows of a table were scored with, printed under its title: the protocols (name and
    version), the test set, and the toolkit that scored them."""

    protocols: tuple[str, ...] = ()
    testset: str | None = None
    toolkit: str | None = None
    #: a sentence for a table without your rows (what would add them)
    note: str | None = None

    def text(self) -> str:
        if self.note and not (self.protocols or self.testset or self.toolkit):
            return self.note
        parts = []
        if self.protocols:
            parts.append("protocol " + ", ".join(self.protocols))
        if self.testset:
            parts.append(f"test set {self.testset}")
        if self.toolkit:
            parts.append(self.toolkit)
        return ("Your rows: " + "; ".join(parts) + ".") if parts else ""


def caption_for(docs: list[dict[str, Any]], testset: str | None = None) -> Caption:
    """The :class:`Caption` of rows built from these results documents (``testset``: its label)."""
    protocols: list[str] = []
    toolkits: list[str] = []
    for doc in docs:
        for p in doc.get("protocols") or []:
            if isinstance(p, dict) and p.get("name"):
                name = f"{p['name']} v{p['version']}" if p.get("version") is not None else str(p["name"])
                if name not in protocols:
                    protocols.append(name)
        kit = doc.get("toolkit") if isinstance(doc.get("toolkit"), dict) else {}
        if kit.get("version"):
            rev = f" (git {kit['git_revision']})" if kit.get("git_revision") else ""
            text = f"{kit.get('name') or 'mace-dance'} {kit['version']}{rev}"
            if text not in toolkits:
                toolkits.append(text)
    return Caption(tuple(protocols), testset, ", ".join(toolkits) or None)


def rows_from_results(
    table: PaperTable,
    results: dict[str, Any] | list[dict[str, Any]],
    label: str | None = None,
    with_gt: bool = False,
) -> list[Row]:
    """A row (and optionally a ground-truth row) built from a results document (or the results files of one
    method, merged by :func:`merge_results`), scaled to the table's units.

    The row is comparable with the paper's only if every value it shows was produced under one of the
    table's protocols (the metric's own ``protocol`` when recorded, else the results' protocols)."""
    if isinstance(results, list):
        results = merge_results(results)
    protocols = [
        str(p["name"]) for p in results.get("protocols", []) if isinstance(p, dict) and p.get("name")
    ]
    proto = ", ".join(protocols) or None
    if not label:
        label = f"Yours ({proto})" if proto else "Yours"
    allowed = table.comparable_protocols()

    def collect(keys: dict[str, str]) -> tuple[dict[str, float], set[str], bool]:
        values, flagged, comparable = {}, set(), True
        for c in table.columns:
            if c.key not in keys:
                continue
            v, metric_proto, flag = _metric(results, keys[c.key])
            if v is None or not math.isfinite(v):
                continue
            values[c.key] = v * c.scale
            if flag:
                flagged.add(c.key)
            if not allowed:
                continue
            if metric_proto is not None:
                comparable &= metric_proto in allowed
            else:  # older results name no protocol per metric: one of the file's must match
                comparable &= bool(set(protocols) & allowed)
        return values, flagged, comparable

    values, flagged, comparable = collect({c.key: c.source for c in table.columns})
    rows = [Row(label, values, "user", proto, comparable, flagged)]
    if with_gt:
        gt, gt_flagged, gt_comparable = collect(table.gt_keys)
        if gt:  # a table without ground-truth columns (or results without GT values) gets no empty row
            rows.append(
                Row(f"Ground Truth ({proto or 'yours'})", gt, "user_gt", proto, gt_comparable, gt_flagged)
            )
    return rows


def _best(table: PaperTable, rows: list[Row]) -> dict[str, float]:
    """Best value per column among the rows that compete: not ground truth, and comparable (protocol and
    test set); marks each row's ``competes`` for :func:`_cell`."""
    for r in rows:
        r.competes = _competes(table, r)
    best = {}
    for c in table.columns:
        if c.higher_is_better is None:
            continue
        vals = [
            r.values[c.key]
            for r in rows
            if c.key in r.values and r.kind not in ("gt", "user_gt") and _competes(table, r)
        ]
        if vals:
            best[c.key] = max(vals) if c.higher_is_better else min(vals)
    return best


def _cell(c: Column, row: Row, best: dict[str, float], bold: tuple[str, str], dagger: str = "†") -> str:
    """A formatted value; ``best`` holds only competing rows' values, see :func:`_best`."""
    if c.key not in row.values:
        return "–" if bold[0] == "**" else "--"
    v = row.values[c.key]
    s = number_text(v, f".{c.digits}f") if abs(v) < 1e6 else number_text(v, ".3g")
    if (
        row.competes
        and row.kind not in ("gt", "user_gt")  # reference rows are shown, never bold
        and c.key in best
        and round(row.values[c.key], c.digits) == round(best[c.key], c.digits)
    ):
        s = f"{bold[0]}{s}{bold[1]}"
    if c.key in row.flagged:
        s += dagger
    return s


def _arrow(c: Column, latex: bool) -> str:
    if c.higher_is_better is None:
        return ""
    if latex:
        return r"$\uparrow$" if c.higher_is_better else r"$\downarrow$"
    return "↑" if c.higher_is_better else "↓"


def render_markdown(table: PaperTable, extra: list[Row] | None = None, caption: Caption | None = None) -> str:
    """The table as Markdown; every string from a table or results file (or a flag) is escaped."""
    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    esc = markdown_escape
    head = "| Method | " + " | ".join(f"{esc(c.label)}{_arrow(c, False)}" for c in table.columns) + " |"
    lines = [
        f"**{esc(table.title)}**",
        f"_Source: {esc(table.source)}; protocol: {esc(table.protocol)}; best comparable value per column "
        "in bold._",
    ]
    if caption is not None and caption.text():
        lines.append(f"_{esc(caption.text())}_")
    lines.append("")
    lines += [head, "|---|" + "---:|" * len(table.columns)]
    for r in rows:
        name = f"*{esc(r.method)}*" if r.kind in ("user", "user_gt") else esc(r.method)
        lines.append(
            f"| {name} | " + " | ".join(_cell(c, r, best, ("**", "**")) for c in table.columns) + " |"
        )
    for note in table.notes + _protocol_notes(table, rows):
        lines.append(f"\n> {esc(note)}")
    return "\n".join(lines)


def on_testset(rows: list[Row], testset: str) -> list[Row]:
    """``rows`` marked as scored on ``testset`` (``name-vN``): on another test set than the paper's they are
    not comparable with its numbers (shown, never bold), whatever the protocol."""
    for r in rows:
        r.testset = testset
    return rows


def _competes(table: PaperTable, r: Row) -> bool:
    """Whether a row's values may be bold: same protocol family and, when known, the paper's test set."""
    return r.comparable and (r.testset is None or r.testset == table.testset)


def _protocol_notes(table: PaperTable, rows: list[Row]) -> list[str]:
    """Flag user rows scored under a protocol other than the paper's, or on another test set, and values the
    results flag."""
    notes = []
    other = sorted({r.protocol or "an unknown protocol" for r in rows if not r.comparable})
    if other:
        notes.append(
            f"Rows scored with {', '.join(other)} are not comparable with the paper's ({table.protocol}); "
            "they are shown but never bold."
        )
    elsewhere = sorted({r.testset for r in rows if r.testset and r.testset != table.testset})
    if elsewhere:
        paper = f"its test set {table.testset}" if table.testset else "a test set the paper does not name"
        notes.append(
            f"Rows scored on {', '.join(elsewhere)} are not comparable with the paper's numbers ({paper}); "
            "they are shown but never bold."
        )
    if any(r.flagged for r in rows):
        notes.append("† the results file flags this value as untrustworthy (see its warnings).")
    return notes


def _tex(s: object) -> str:
    """Plain text for LaTeX; the packaged tables' "->" reads as an arrow."""
    return r" $\rightarrow$ ".join(latex_escape(part) for part in str(s).split(" -> "))


def render_latex(table: PaperTable, extra: list[Row] | None = None, caption: Caption | None = None) -> str:
    """The table as a LaTeX ``table`` environment; every string from a table or results file (or a flag) is
    escaped, so none can run a command (``\\input``, ``\\write18``) or break the tabular."""
    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    out = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{_tex(table.title)}. Source: {_tex(table.source)}.{_caption_tex(caption)}}}",
        rf"\label{{tab:{latex_label(table.name)}}}",
        r"\begin{tabular}{l" + "r" * len(table.columns) + "}",
        r"\toprule",
        "Method & " + " & ".join(f"{latex_markup(c.latex)}{_arrow(c, True)}" for c in table.columns) + r" \\",
        r"\midrule",
    ]
    user_started = False
    for r in rows:
        if r.kind in ("user", "user_gt") and not user_started:
            out.append(r"\midrule")
            user_started = True
        cells = [_cell(c, r, best, (r"\textbf{", "}"), r"$^\dagger$") for c in table.columns]
        out.append(f"{_tex(r.method)} & " + " & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    notes = _protocol_notes(table, rows)
    if notes:
        out.append(r"\par\footnotesize " + " ".join(_tex(n).replace("†", r"$^\dagger$") for n in notes))
    out.append(r"\end{table}")
    return "\n".join(out)


def _caption_tex(caption: Caption | None) -> str:
    return f" {_tex(caption.text())}" if caption is not None and caption.text() else ""


def render_html(table: PaperTable, extra: list[Row] | None = None, caption: Caption | None = None) -> str:
    """The table as an HTML fragment (a ``<section>`` holding a sortable ``<table>``, for the pages of
    :mod:`benchmark.html_page`); every string from a table or results file (or a flag) is escaped. Ground-
    truth rows sit apart and are not sorted; your rows carry a badge; the best comparable value is bold."""
    from benchmark.html_page import esc, sortable_head

    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    heads = [sortable_head(0, "Method", "text", "ascending", cls="text")]
    for j, c in enumerate(table.columns, start=1):
        first = "ascending" if c.higher_is_better is False else "descending"
        title = f"{c.group}: {c.label}" if c.group else c.label
        heads.append(sortable_head(j, c.label + _arrow(c, False), "num", first, title))

    def tr(r: Row, i: int) -> str:
        badge = ' <span class="badge ok">yours</span>' if r.kind in ("user", "user_gt") else ""
        nc = ' <span class="badge paper">not comparable</span>' if not r.competes and r.kind != "gt" else ""
        cells = [
            f'<td class="text" data-v="{esc(r.method)}"><span class="method">{esc(r.method)}</span>{badge}{nc}</td>'
        ]
        for c in table.columns:
            if c.key not in r.values:
                cells.append('<td data-v="">–</td>')
                continue
            # a formatted number (and bold/dagger marks): no text from a file reaches the cell
            text = _cell(c, r, best, ("<strong>", "</strong>"))
            cells.append(f'<td data-v="{r.values[c.key]!r}">{text}</td>')
        kind = esc(r.kind)
        return f'<tr data-i="{i}" data-kind="{kind}">' + "".join(cells) + "</tr>"

    refs = [r for r in rows if r.kind in ("gt", "user_gt")]
    ranked = [r for r in rows if r.kind not in ("gt", "user_gt")]
    notes = table.notes + _protocol_notes(table, rows)
    out = [
        f'<section id="{esc(latex_label(table.name))}">',
        f"<h2>{esc(table.title)}</h2>",
        f"<p>Source: {esc(table.source)}; protocol: {esc(table.protocol)}; best comparable value per column "
        "in bold. Click a header to sort.</p>",
    ]
    if caption is not None and caption.text():
        out.append(f"<p>{esc(caption.text())}</p>")
    out.append('<div class="wrap"><table class="paper sortable">')
    out.append("<thead><tr>" + "".join(heads) + "</tr></thead>")
    if refs:
        out.append('<tbody class="ref">' + "".join(tr(r, i) for i, r in enumerate(refs)) + "</tbody>")
    out.append('<tbody class="rows">' + "".join(tr(r, i) for i, r in enumerate(ranked)) + "</tbody>")
    out.append("</table></div>")
    out += [f"<p>{esc(n)}</p>" for n in notes]
    out.append("</section>")
    return "\n".join(out)


TABLES_CSS = """
table.paper td strong{color:var(--fg)}
tr[data-kind=user] td,tr[data-kind=user_gt] td{background:#eef6ee}
""".strip()


def render_page(
    sections: list[tuple[PaperTable, list[Row], Caption | None]], title: str, intro: str = ""
) -> str:
    """A self-contained HTML page of several tables (:func:`benchmark.html_page.document`); ``intro`` is
    already-escaped HTML shown under the title."""
    from benchmark.html_page import document, esc
    from benchmark.results import toolkit_version

    body = "\n".join(render_html(t, rows, caption) for t, rows, caption in sections)
    header = f"<header><h1>{esc(title)}</h1>{intro}</header>"
    generator = f"mace-dance {toolkit_version()}"
    page = f"{header}\n<main>\n{body}\n</main>\n<footer>Generated by {esc(generator)}.</footer>"
    return document(title, page, generator=generator, css=TABLES_CSS)


FORMATS = ("md", "latex", "html")


def render(
    table: PaperTable, extra: list[Row] | None = None, fmt: str = "md", caption: Caption | None = None
) -> str:
    """The table in ``fmt``: ``md`` (Markdown), ``latex`` or ``html`` (a fragment; see :func:`render_html`)."""
    if fmt in ("md", "markdown"):
        return render_markdown(table, extra, caption)
    if fmt in ("latex", "tex"):
        return render_latex(table, extra, caption)
    if fmt == "html":
        return render_html(table, extra, caption)
    raise ValueError(f"unknown format {fmt!r} (use 'md', 'latex' or 'html')")
