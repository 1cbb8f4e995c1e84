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


def rows_from_results(
    table: PaperTable, results: dict[str, Any], label: str | None = None, with_gt: bool = False
) -> list[Row]:
    """A row (and optionally a ground-truth row) built from a results document, scaled to the table's units.

    The row is comparable with the paper's only if every value it shows was produced under one of the
    table's protocols (the metric's own ``protocol`` when recorded, else the results' protocols)."""
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

    values, flagged, comparable = collect({c.key: c.key for c in table.columns})
    rows = [Row(label, values, "user", proto, comparable, flagged)]
    if with_gt:
        gt, gt_flagged, gt_comparable = collect(table.gt_keys)
        rows.append(
            Row(f"Ground Truth ({proto or 'yours'})", gt, "user_gt", proto, gt_comparable, gt_flagged)
        )
    return rows


def _best(table: PaperTable, rows: list[Row]) -> dict[str, float]:
    """Best value per column among the rows that compete: not ground truth, and comparable."""
    best = {}
    for c in table.columns:
        if c.higher_is_better is None:
            continue
        vals = [
            r.values[c.key]
            for r in rows
            if c.key in r.values and r.kind not in ("gt", "user_gt") and r.comparable
        ]
        if vals:
            best[c.key] = max(vals) if c.higher_is_better else min(vals)
    return best


def _cell(c: Column, row: Row, best: dict[str, float], bold: tuple[str, str], dagger: str = "†") -> str:
    if c.key not in row.values:
        return "–" if bold[0] == "**" else "--"
    v = row.values[c.key]
    s = number_text(v, f".{c.digits}f") if abs(v) < 1e6 else number_text(v, ".3g")
    if (
        row.comparable
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


def render_markdown(table: PaperTable, extra: list[Row] | None = None) -> str:
    """The table as Markdown; every string from a table or results file (or a flag) is escaped."""
    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    esc = markdown_escape
    head = "| Method | " + " | ".join(f"{esc(c.label)}{_arrow(c, False)}" for c in table.columns) + " |"
    lines = [
        f"**{esc(table.title)}**",
        f"_Source: {esc(table.source)}; protocol: {esc(table.protocol)}; best comparable value per column "
        "in bold._",
        "",
    ]
    lines += [head, "|---|" + "---:|" * len(table.columns)]
    for r in rows:
        name = f"*{esc(r.method)}*" if r.kind in ("user", "user_gt") else esc(r.method)
        lines.append(
            f"| {name} | " + " | ".join(_cell(c, r, best, ("**", "**")) for c in table.columns) + " |"
        )
    for note in table.notes + _protocol_notes(table, rows):
        lines.append(f"\n> {esc(note)}")
    return "\n".join(lines)


def _protocol_notes(table: PaperTable, rows: list[Row]) -> list[str]:
    """Flag user rows scored under a protocol other than the paper's, and values the results flag."""
    notes = []
    other = sorted({r.protocol or "an unknown protocol" for r in rows if not r.comparable})
    if other:
        notes.append(
            f"Rows scored with {', '.join(other)} are not comparable with the paper's ({table.protocol}); "
            "they are shown but never bold."
        )
    if any(r.flagged for r in rows):
        notes.append("† the results file flags this value as untrustworthy (see its warnings).")
    return notes


def _tex(s: object) -> str:
    """Plain text for LaTeX; the packaged tables' "->" reads as an arrow."""
    return r" $\rightarrow$ ".join(latex_escape(part) for part in str(s).split(" -> "))


def render_latex(table: PaperTable, extra: list[Row] | None = None) -> str:
    """The table as a LaTeX ``table`` environment; every string from a table or results file (or a flag) is
    escaped, so none can run a command (``\\input``, ``\\write18``) or break the tabular."""
    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    out = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{_tex(table.title)}. Source: {_tex(table.source)}.}}",
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


def render(table: PaperTable, extra: list[Row] | None = None, fmt: str = "md") -> str:
    if fmt in ("md", "markdown"):
        return render_markdown(table, extra)
    if fmt in ("latex", "tex"):
        return render_latex(table, extra)
    raise ValueError(f"unknown format {fmt!r} (use 'md' or 'latex')")
