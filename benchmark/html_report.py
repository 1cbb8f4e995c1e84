"""The HTML report of one evaluation (``--report DIR`` on ``evaluate``, ``evaluate-3d`` and ``reproduce``).

One self-contained page (:mod:`benchmark.html_page`: inline style and script, pictures as ``data:`` URIs,
nothing loaded, works from ``file://``) built from the results document, the single source of every number:

- the metric table with 95% intervals, directions and the protocol of each value;
- what was not scored: skipped stems with their reasons, dimensions skipped (e.g. a missing weight, with how
  to get it), and the warnings (e.g. "N < feature dimension");
- the per-sample table (sortable);
- the distribution of each per-sample metric, generated vs GT (:mod:`benchmark.sample_plots`);
- the beat-alignment plots (:mod:`benchmark.motion.plots`; drawn from the loaded samples, so only when the
  report is written by the run that scored them);
- provenance: toolkit, command, environment, inputs (folders, digests), bootstrap, protocol parameters.

Every string from the results (stems, reasons, paths, method names) is escaped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmark.html_page import document, esc, png_data_uri, sortable_head
from benchmark.markup import number_text

__all__ = ["render_report", "write_report"]

REPORT_CSS = """
.grid{display:flex;flex-wrap:wrap;gap:14px;margin-top:10px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px;background:#fff}
figure img{display:block;max-width:100%;height:auto}
figcaption{font-size:12px;color:var(--muted);margin-top:4px}
figure.wide img{width:900px}
ul.plain{margin:6px 0;padding-left:20px}
ul.plain li{margin:2px 0}
pre{background:var(--alt);border:1px solid var(--line);border-radius:6px;padding:8px;overflow-x:auto;font-size:12px}
details{margin:8px 0}
summary{cursor:pointer;color:var(--acc)}
dl.prov{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.prov dt{color:var(--muted)}
dl.prov dd{margin:0;word-break:break-all}
.warn{color:#8a4b00}
""".strip()


def _num(x: Any, digits: int = 4) -> str:
    if not isinstance(x, int | float) or isinstance(x, bool) or not math.isfinite(x):
        return "–"
    return number_text(x, f".{digits}f") if abs(x) < 1e5 else number_text(x, ".4g")


def _protocols(results: dict[str, Any]) -> str:
    names = [
        f"{p.get('name')} v{p.get('version')}" for p in results.get("protocols") or [] if isinstance(p, dict)
    ]
    return ", ".join(names) or "unknown protocol"


def _metric_table(results: dict[str, Any]) -> str:
    rows = []
    for key, e in (results.get("metrics") or {}).items():
        e = e if isinstance(e, dict) else {"value": e}
        ci95 = e.get("ci95") if isinstance(e.get("ci95"), list) and len(e["ci95"]) == 2 else [None, None]
        lo, hi = ci95
        ci = f"[{_num(lo)}, {_num(hi)}]" if lo is not None and hi is not None else "–"
        arrow = {True: "↑ higher", False: "↓ lower"}.get(e.get("higher_is_better"), "")
        warn = "; ".join(str(w) for w in e.get("warnings") or [])
        flag = f' <span class="warn" title="{esc(warn)}">⚠</span>' if warn else ""
        rows.append(
            f'<tr><td class="text">{esc(e.get("label") or key)}</td><td class="text"><code>{esc(key)}</code>'
            f"</td><td>{_num(e.get('value'))}{flag}</td><td>{ci}</td><td>{esc(arrow)}</td>"
            f'<td class="text">{esc(e.get("protocol") or "")}</td></tr>'
        )
    head = (
        '<tr><th class="text">metric</th><th class="text">key</th><th>value</th><th>95% CI</th>'
        '<th>better</th><th class="text">protocol</th></tr>'
    )
    return f'<div class="wrap"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def _per_sample_table(results: dict[str, Any]) -> str:
    per_sample = results.get("per_sample") or {}
    if not per_sample:
        return '<p class="empty">No per-sample values.</p>'
    metric_keys = list(results.get("metrics") or {})
    seen: list[str] = []
    for values in per_sample.values():
        for k in values if isinstance(values, dict) else ():
            if k not in seen:
                seen.append(k)
    keys = [k for k in metric_keys if k in seen] + [k for k in seen if k not in metric_keys]
    labels = {
        k: (e.get("label") if isinstance(e, dict) else None) or k for k, e in results["metrics"].items()
    }
    specs = results.get("metrics") or {}
    heads = [sortable_head(0, "Stem", "text", "ascending", cls="text", sort="ascending")]
    for j, k in enumerate(keys, start=1):
        hib = specs.get(k, {}).get("higher_is_better") if isinstance(specs.get(k), dict) else None
        first = "ascending" if hib is False else "descending"
        heads.append(sortable_head(j, labels.get(k, k), "num", first, title=k))
    body = []
    for i, (stem, values) in enumerate(sorted(per_sample.items())):
        cells = [f'<td class="text" data-v="{esc(stem)}">{esc(stem)}</td>']
        for k in keys:
            v = values.get(k) if isinstance(values, dict) else None
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not ok:
                cells.append('<td data-v="">–</td>')
                continue
            # counts (beats, missed frames) print as integers; metric values with 4 decimals
            text = str(int(v)) if k not in specs and float(v).is_integer() else _num(v)
            cells.append(f'<td data-v="{float(v)!r}">{text}</td>')
        body.append(f'<tr data-i="{i}" data-stem="{esc(stem)}">' + "".join(cells) + "</tr>")
    return (
        '<div class="wrap"><table class="sortable per-sample"><thead><tr>'
        + "".join(heads)
        + '</tr></thead><tbody class="rows">'
        + "".join(body)
        + "</tbody></table></div>"
    )


def _not_scored(results: dict[str, Any]) -> str:
    out = []
    skipped = results.get("skipped") or []
    if skipped:
        items = "".join(
            f"<li><code>{esc(s.get('stem'))}</code>: {esc(s.get('reason'))}</li>" for s in skipped
        )
        out.append(f"<h3>Skipped samples ({len(skipped)})</h3><ul class='plain skipped'>{items}</ul>")
    dims: dict[str, str] = {}
    for extra in (results.get("extra") or {}).values():
        if isinstance(extra, dict) and isinstance(extra.get("skipped_dims"), dict):
            dims.update({str(k): str(v) for k, v in extra["skipped_dims"].items()})
    if dims:
        items = "".join(f"<li><code>{esc(k)}</code>: {esc(v)}</li>" for k, v in dims.items())
        out.append(f"<h3>Dimensions not scored ({len(dims)})</h3><ul class='plain skipped-dims'>{items}</ul>")
    warnings = [w for w in results.get("warnings") or [] if str(w) not in dims.values()]
    if warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
        out.append(f"<h3>Warnings ({len(warnings)})</h3><ul class='plain warnings'>{items}</ul>")
    return "\n".join(out) or '<p class="empty">Every sample and dimension was scored; no warnings.</p>'


def _figures(pictures: list[tuple[str, bytes]], cls: str = "") -> str:
    figs = [
        f'<figure{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}><img alt="{esc(caption)}" '
        f'src="{png_data_uri(png)}"><figcaption>{esc(caption)}</figcaption></figure>'
        for caption, png in pictures
    ]
    return f'<div class="grid">{"".join(figs)}</div>'


def _provenance(results: dict[str, Any]) -> str:
    kit = results.get("toolkit") or {}
    env = results.get("environment") or {}
    unc = results.get("uncertainty") or {}
    command = results.get("command")
    command = " ".join(str(c) for c in command) if isinstance(command, list) else command
    items = [
        ("toolkit", f"{kit.get('name', 'mace-dance')} {kit.get('version')} (git {kit.get('git_revision')})"),
        ("created (UTC)", results.get("created_utc")),
        ("command", command),
        ("results schema", results.get("schema_version")),
        ("bootstrap", f"{unc.get('n_boot')} resamples, seed {unc.get('seed')}: {unc.get('method')}"),
        ("python", env.get("python")),
        ("platform", env.get("platform")),
        ("packages", ", ".join(f"{k} {v}" for k, v in (env.get("packages") or {}).items())),
    ]
    for dim, block in (results.get("inputs") or {}).items():
        if not isinstance(block, dict):
            continue
        sides = "; ".join(f"{k}: {v}" for k, v in (block.get("sides") or {}).items())
        n = len(block.get("files") or {})
        items.append((f"inputs ({dim})", f"{sides} — {n} stems, digest {block.get('sha256')}"))
        if block.get("keypoint_extraction"):
            items.append((f"keypoints ({dim})", json.dumps(block["keypoint_extraction"], sort_keys=True)))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    params = json.dumps(results.get("protocols") or [], indent=1, sort_keys=True)
    return (
        f'<dl class="prov">{dl}</dl><details><summary>protocol parameters</summary>'
        f"<pre>{esc(params)}</pre></details>"
    )


def render_report(
    results: dict[str, Any],
    *,
    beat_plots: dict[str, bytes] | None = None,
    title: str = "Evaluation report",
    testset: str | None = None,
    links: list[tuple[str, str]] | None = None,
) -> str:
    """The report page of one results document. ``beat_plots`` (stem -> PNG) come from the run that scored
    the samples; ``testset`` labels the GT set; ``links`` are (text, relative href) shown in the header."""
    from benchmark.sample_plots import distribution_pngs

    n = results.get("n_samples")
    n_text = ", ".join(f"{k}: {v}" for k, v in n.items()) if isinstance(n, dict) else str(n)
    kit = results.get("toolkit") or {}
    nav = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for text, href in links or [])
    sections = [
        ("metrics", "Metrics", _metric_table(results)),
        ("not-scored", "Not scored, and warnings", _not_scored(results)),
        ("per-sample", "Per-sample values", _per_sample_table(results)),
    ]
    series = distribution_pngs(results)
    if series:
        pictures = [
            (f"{s.label} ({s.key})" + (" — GT vs generated" if s.gt else ""), png) for s, png in series
        ]
        sections.append(("distributions", "Per-sample distributions", _figures(pictures)))
    if beat_plots:
        pictures = [(stem, png) for stem, png in beat_plots.items()]
        sections.append(("beats", "Beat alignment", _figures(pictures, "wide")))
    sections.append(("provenance", "Provenance", _provenance(results)))
    toc = "".join(f'<li><a href="#{sid}">{esc(name)}</a></li>' for sid, name, _ in sections)
    body = "\n".join(
        f'<section id="{sid}"><h2>{esc(name)}</h2>\n{html}</section>' for sid, name, html in sections
    )
    header = (
        f"<header><h1>{esc(title)}</h1>"
        f"<p>Protocol {esc(_protocols(results))}"
        + (f" · test set {esc(testset)}" if testset else "")
        + f" · samples {esc(n_text)} · skipped {len(results.get('skipped') or [])}"
        f" · {esc(kit.get('name', 'mace-dance'))} {esc(kit.get('version'))}</p>"
        f"<nav><ul>{nav}{toc}</ul></nav></header>"
    )
    generator = f"mace-dance {kit.get('version')}"
    page = f"{header}\n<main>\n{body}\n</main>\n<footer>Generated by {esc(generator)} from the results file.</footer>"
    return document(title, page, generator=generator, css=REPORT_CSS, images=True)


def write_report(
    folder: str | Path,
    results: dict[str, Any],
    evaluation: Any = None,
    *,
    name: str = "index.html",
    **kwargs: Any,
) -> Path:
    """Write the report of ``results`` as ``folder/name`` (beat plots drawn from ``evaluation``'s loaded
    samples when given); returns the page's path."""
    from benchmark.motion.plots import beat_plot_pngs
    from ma_data.core.io.atomic import atomic_write

    plots = beat_plot_pngs(evaluation) if evaluation is not None else None
    page = render_report(results, beat_plots=plots, **kwargs)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path
