"""``ma-data crawl`` and ``ma-data status``: the internet subset from a URL manifest, and each URL's fate.

Registered on the ``ma-data`` group in :mod:`ma_data.cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ma_data.core.cli import command
from ma_data.crawl.settings import crawl_options


@command()
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Dataset root."
)
@crawl_options()
def crawl(out: Path, **settings):
    """Download the URLs with yt-dlp and curate them into 5-10 s clips in OUT/manifest.parquet.

    Re-running resumes: finished URLs are not downloaded again and an unchanged manifest is not rewritten.
    Per-URL results: `ma-data status OUT`. Every option is also a key of a build config's `internet:`
    section (same name with underscores), except --executor, --workers and --address.
    """
    from ma_data.core.cli import new_output_folder
    from ma_data.crawl.pipeline import crawl as run_crawl
    from ma_data.crawl.settings import CrawlSettings

    opts = CrawlSettings(**settings)
    new_output_folder(out)  # removed again if the crawl fails before writing anything
    summary = run_crawl(opts.urls, out, opts.to_config())
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    state = "updated" if summary.manifest_changed else "unchanged"
    click.echo(
        f"{out}: {summary.n_urls} URLs ({counts}); {summary.n_clips} internet clips; "
        f"{summary.n_download_attempts} download attempts; manifest {state}"
    )
    if summary.counts.get("done", 0) == 0 and summary.counts.get("failed", 0):
        sys.exit(2)


@command()
@click.argument("out", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one record per URL.")
def status(out, as_json):
    """Each URL's fate in the crawl at OUT: done, filtered, failed or pending, with the reason or error
    class and the number of download attempts. A URL listed with several windows has one line per window."""
    from ma_data.crawl.status import crawl_status

    records = crawl_status(out)
    if as_json:
        click.echo(json.dumps(records, indent=1))
        return
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        why = r["reason"] or (f"{r['n_clips']} clips" if r["status"] == "done" else "")
        window = ""
        if r.get("start") is not None or r.get("end") is not None:
            start, end = r.get("start"), r.get("end")
            window = f" [{'' if start is None else f'{start:g}'}-{'' if end is None else f'{end:g}'} s]"
        click.echo(f"{r['status']:<9} attempts={r['attempts']:<2} {r['url']}{window}  {why}")
    click.echo("total: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
