"""What the evaluation commands print and write: the summary table, skipped stems, results, plots."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def report_evaluation(
    evaluation,
    out: Path | None,
    markdown: Path | None,
    plots: Path | None,
    argv: list[str] | None = None,
    report: Path | None = None,
) -> dict:
    """Print the summary table and the skipped stems; write the results, the Markdown table, the plots and
    the HTML report (``report/index.html``). Returns the results document (``argv``: the command recorded
    in it, default this process's)."""
    from benchmark.motion.plots import write_beat_plots
    from benchmark.results import markdown_table, write_results

    results = evaluation.results(argv=argv if argv is not None else ["mace-bench", *sys.argv[1:]])
    table = markdown_table(results)
    if out is not None:
        write_results(out, results)
    if markdown is not None:
        markdown.write_text(table + "\n", encoding="utf-8")
    if plots is not None:
        write_beat_plots(evaluation, plots)
    page = None
    if report is not None:
        from benchmark.html_report import write_report

        page = write_report(report, results, evaluation)
    click.echo(table)
    for item in results["skipped"]:
        click.echo(f"skipped {item['stem']}: {item['reason']}", err=True)
    if out is not None:
        click.echo(f"results written to {out}", err=True)
    if page is not None:
        click.echo(f"report: {page}", err=True)
    return results
