"""``mace-bench table``: print a MACE-Dance paper table with your results rows beside the paper's."""

from __future__ import annotations

from pathlib import Path

import click

from ma_data.core.cli import check_outputs, command
from ma_data.core.errors import MaceError


@command("table")
@click.option(
    "--table",
    "table_name",
    default="table2",
    show_default=True,
    help="Paper table: a packaged name (table1 ... table6) or a YAML file of the same layout.",
)
@click.option(
    "--results",
    "results_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Results JSON from `mace-bench evaluate`/`evaluate-3d`; repeat for several rows.",
)
@click.option(
    "--label", "labels", multiple=True, help="Row label per --results file (default: 'Yours (<protocol>)')."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "latex", "html"]),
    default="md",
    show_default=True,
    help="Output format (html: a self-contained page).",
)
@click.option(
    "--with-gt", is_flag=True, help="Also add each results file's ground-truth row (Div/BAS/FSR of GT)."
)
@click.option(
    "--testset",
    default=None,
    help="The test-set manifest (path or packaged name) your results were scored on: checked against the GT "
    "hashes they record and named in the caption; rows scored on another test set than the paper's are "
    "shown, never bold.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Also write the table to this file.")
def table(
    table_name: str,
    results_files: tuple[Path, ...],
    labels: tuple[str, ...],
    fmt: str,
    with_gt: bool,
    testset: str | None,
    out,
) -> None:
    """Print a paper table (Markdown, LaTeX or an HTML page) with rows from your results files appended.

    Values are matched by metric key (fid_k, div_g, bas, fsr, ...); columns a results file does not have
    are left empty. The caption names the protocols (with versions) and the toolkit your rows were scored
    with. A row scored under another protocol than the table's is shown with a note and never bold; a value its results file flags as untrustworthy is marked with a dagger. Every string taken from
    a results file, a table file or --label is escaped for the output format.
    """
    from benchmark.paper_tables import (
        caption_for,
        load_table,
        on_testset,
        render,
        render_page,
        rows_from_results,
    )
    from benchmark.results import read_results

    if labels and len(labels) != len(results_files):
        raise click.UsageError("give one --label per --results file")
    check_outputs(files={"--out": out})
    t = load_table(table_name)
    extra = []
    docs = [read_results(path) for path in results_files]
    ts = None
    if testset is not None:
        from benchmark.leaderboard.testset import load_testset, scored_elsewhere

        ts = load_testset(testset)
        for path, doc in zip(results_files, docs, strict=True):
            problem = scored_elsewhere(ts, doc)
            if problem is not None:
                raise MaceError(f"{path}: not scored on test set {ts.label}: {problem}")
    for i, doc in enumerate(docs):
        rows = rows_from_results(t, doc, label=labels[i] if labels else None, with_gt=with_gt)
        extra += on_testset(rows, f"{ts.name}-v{ts.version}") if ts is not None else rows
    caption = caption_for(docs, testset=ts.label if ts else None) if docs else None
    text = render_page([(t, extra, caption)], t.title) if fmt == "html" else render(t, extra, fmt, caption)
    if out is not None:
        Path(out).write_text(text + "\n", encoding="utf-8")
    click.echo(f"wrote {out}" if fmt == "html" and out is not None else text)
