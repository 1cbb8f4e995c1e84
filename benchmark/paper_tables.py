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

from ma_data.core.errors import FormatError


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


def tables_dir() -> Path:
    import manifests

    return Path(manifests.__file__).resolve().parent / "paper"


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
            d.get("notes", []),
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise FormatError(f"{path}: malformed paper table ({exc.__class__.__name__}: {exc})") from exc


def _metric(results: dict[str, Any], key: str) -> float | None:
    entry = results.get("metrics", {}).get(key)
    if entry is None:
        return None
    v = entry.get("value") if isinstance(entry, dict) else entry
    return None if v is None else float(v)


def rows_from_results(
    table: PaperTable, results: dict[str, Any], label: str | None = None, with_gt: bool = False
) -> list[Row]:
    """A row (and optionally a ground-truth row) built from a results document, scaled to the table's units."""
    protocols = [p.get("name") for p in results.get("protocols", []) if isinstance(p, dict)]
    proto = ", ".join(p for p in protocols if p) or None
    if not label:
        label = f"Yours ({proto})" if proto else "Yours"
    rows = []
    values = {}
    for c in table.columns:
        v = _metric(results, c.key)
        if v is not None and math.isfinite(v):
            values[c.key] = v * c.scale
    rows.append(Row(label, values, "user", proto))
    if with_gt:
        gt = {}
        for c in table.columns:
            v = _metric(results, table.gt_keys[c.key]) if c.key in table.gt_keys else None
            if v is not None and math.isfinite(v):
                gt[c.key] = v * c.scale
        rows.append(Row(f"Ground Truth ({proto or 'yours'})", gt, "user_gt", proto))
    return rows


def _best(table: PaperTable, rows: list[Row]) -> dict[str, float]:
    best = {}
    for c in table.columns:
        if c.higher_is_better is None:
            continue
        vals = [r.values[c.key] for r in rows if c.key in r.values and r.kind not in ("gt", "user_gt")]
        if vals:
            best[c.key] = max(vals) if c.higher_is_better else min(vals)
    return best


def _cell(c: Column, row: Row, best: dict[str, float], bold: tuple[str, str]) -> str:
    if c.key not in row.values:
        return "–" if bold[0] == "**" else "--"
    v = row.values[c.key]
    s = f"{v:.{c.digits}f}" if abs(v) < 1e6 else f"{v:.3g}"
    if c.key in best and round(row.values[c.key], c.digits) == round(best[c.key], c.digits):
        s = f"{bold[0]}{s}{bold[1]}"
    return s


def _arrow(c: Column, latex: bool) -> str:
    if c.higher_is_better is None:
        return ""
    if latex:
        return r"$\uparrow$" if c.higher_is_better else r"$\downarrow$"
    return "↑" if c.higher_is_better else "↓"


def render_markdown(table: PaperTable, extra: list[Row] | None = None) -> str:
    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    head = "| Method | " + " | ".join(f"{c.label}{_arrow(c, False)}" for c in table.columns) + " |"
    lines = [
        f"**{table.title}**",
        f"_Source: {table.source}; protocol: {table.protocol}; best per column in bold._",
        "",
    ]
    lines += [head, "|---|" + "---:|" * len(table.columns)]
    for r in rows:
        name = f"*{r.method}*" if r.kind in ("user", "user_gt") else r.method
        lines.append(
            f"| {name} | " + " | ".join(_cell(c, r, best, ("**", "**")) for c in table.columns) + " |"
        )
    for note in table.notes + _protocol_notes(table, rows):
        lines.append(f"\n> {note}")
    return "\n".join(lines)


def _protocol_notes(table: PaperTable, rows: list[Row]) -> list[str]:
    """Flag user rows scored under a protocol other than the one the paper's numbers follow."""
    other = sorted(
        {r.protocol for r in rows if r.protocol and table.protocol and r.protocol != table.protocol}
    )
    return (
        [f"Rows scored with {', '.join(other)} are not comparable with the paper's ({table.protocol})."]
        if other
        else []
    )


def _tex(s: str) -> str:
    for a, b in (("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"), ("->", r"$\rightarrow$")):
        s = s.replace(a, b)
    return s


def render_latex(table: PaperTable, extra: list[Row] | None = None) -> str:
    rows = table.rows + list(extra or [])
    best = _best(table, rows)
    out = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{_tex(table.title)}. Source: {_tex(table.source)}.}}",
        rf"\label{{tab:{table.name}}}",
        r"\begin{tabular}{l" + "r" * len(table.columns) + "}",
        r"\toprule",
        "Method & " + " & ".join(f"{c.latex}{_arrow(c, True)}" for c in table.columns) + r" \\",
        r"\midrule",
    ]
    user_started = False
    for r in rows:
        if r.kind in ("user", "user_gt") and not user_started:
            out.append(r"\midrule")
            user_started = True
        cells = [_cell(c, r, best, (r"\textbf{", "}")) for c in table.columns]
        out.append(f"{_tex(r.method)} & " + " & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(out)


def render(table: PaperTable, extra: list[Row] | None = None, fmt: str = "md") -> str:
    if fmt in ("md", "markdown"):
        return render_markdown(table, extra)
    if fmt in ("latex", "tex"):
        return render_latex(table, extra)
    raise ValueError(f"unknown format {fmt!r} (use 'md' or 'latex')")
