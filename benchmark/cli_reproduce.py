"""``mace-bench reproduce``: the paper's Tables 1-3 with your methods' rows, from their generated videos."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ma_data.core.cli import check_outputs, command, new_output_folder


@command("reproduce")
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(path_type=Path),
    help="YAML: testset (a manifest name or {manifest, gt, ...}), methods (name, videos, optional keypoints, "
    "motion3d), options. See benchmark/reproduce_config.py or the README.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the results files (OUT/<method>/<dimension>.json, cached by input hashes) and the tables "
    "(tables.md, tables.tex, tables.html).",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    help="Write the HTML report here: index.html (the tables, a page per method and dimension; no network).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "latex"]),
    default="md",
    show_default=True,
    help="Format of the tables printed on stdout (all formats are written to OUT).",
)
@click.option("--rescore", is_flag=True, help="Score every method again, ignoring the cache.")
def reproduce(config_file: Path, out: Path, report: Path | None, fmt: str, rescore: bool) -> None:
    """Score every method of a config on a test set and print Tables 1, 2 and 3 with your rows beside the
    paper's.

    Every evaluation goes through the same runner as `mace-bench evaluate` and writes the same results files;
    a method whose inputs (sha256 of every file), protocol and settings are unchanged is not scored again, so
    adding a method to the config scores only that one. The GT folder is checked against the test-set
    manifest first; the captions name the protocols, the test set and the toolkit version.
    """
    from benchmark.paper_tables import render
    from benchmark.reproduce import run_reproduce
    from benchmark.reproduce_config import load_config

    check_outputs(folders={"--out": out})
    if report is not None and report.absolute().parent == out.absolute():
        new_output_folder(report)  # inside --out (OUT/report), which this command creates
    else:
        check_outputs(folders={"--report": report})
    cfg = load_config(config_file)
    outcome = run_reproduce(
        cfg,
        out,
        report=report,
        rescore=rescore,
        argv=["mace-bench", *sys.argv[1:]],
        progress=True,
        log=lambda line: click.echo(line, err=True),
    )
    for table, rows, caption in outcome.tables:
        click.echo(render(table, rows, fmt, caption) + "\n")
    for run in outcome.methods:
        done = ", ".join([*(f"{d} scored" for d in run.scored), *(f"{d} cached" for d in run.cached)])
        notes = "; ".join(run.notes)
        click.echo(
            f"{run.spec.name}: {done or 'nothing scored'}" + (f" ({notes})" if notes else ""), err=True
        )
    paths = ", ".join(str(outcome.files[k]) for k in ("md", "latex", "html"))
    click.echo(f"tables: {paths}", err=True)
    if "report" in outcome.files:
        click.echo(f"report: {outcome.files['report']}", err=True)
