"""``ma-data crawl`` and ``ma-data status``: the internet subset from a URL manifest, and each URL's fate.

Registered on the ``ma-data`` group in :mod:`ma_data.cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ma_data.core.cli import command


@command()
@click.option(
    "--urls",
    "urls",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="URL manifest (CSV/TSV/Parquet/JSON, or a plain list of URLs): url, optional start, end, genre, license, creator.",
)
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Dataset root."
)
@click.option(
    "--skip-filter",
    "skip",
    multiple=True,
    type=click.Choice(["shots", "static", "person", "dedupe"]),
    help="Switch a curation stage off (repeatable).",
)
@click.option("--max-retries", type=int, default=3, help="Retries of a retryable download failure.")
@click.option(
    "--backoff",
    "backoff",
    type=float,
    default=2.0,
    help="First retry delay in seconds; doubles per retry (a longer Retry-After wins).",
)
@click.option(
    "--max-retry-after",
    type=float,
    default=600.0,
    help="Longest Retry-After (seconds) honoured; longer waits are capped to this.",
)
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "ray"]),
    default="process",
    help="Where downloads and curation run.",
)
@click.option("--workers", type=int, default=None, help="Curation workers (default: CPU count).")
@click.option("--address", default=None, help="Ray cluster address (with --executor ray).")
@click.option("--concurrency", type=int, default=2, help="Most downloads at once (politeness cap).")
@click.option("--rate-limit", type=int, default=8 * 1024**2, help="Bytes per second per download (0 = none).")
@click.option("--height-cap", type=int, default=1080, help="Tallest video format to download, pixels.")
@click.option("--max-duration", type=float, default=1800.0, help="Longest source video accepted, seconds.")
@click.option("--max-filesize", type=int, default=2 * 1024**3, help="Largest source file accepted, bytes.")
@click.option(
    "--cookies",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Netscape cookie file for yt-dlp (off unless given).",
)
@click.option("--proxy", default=None, help="Proxy URL for yt-dlp (off unless given).")
@click.option(
    "--deny-list",
    "deny",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Extra takedown/deny list (added to manifests/takedown.txt; repeatable).",
)
@click.option(
    "--pose-backend", default="mediapipe", help="Pose backend of the person filter (mediapipe, vitpose)."
)
@click.option(
    "--people-detector",
    type=click.Choice(["auto", "hog"]),
    default="auto",
    help="Multi-person check: RT-DETR when its weights are cached (auto), else OpenCV's HOG.",
)
@click.option(
    "--shot-detector",
    type=click.Choice(["content", "transnetv2", "auto"]),
    default="content",
    help="PySceneDetect ContentDetector, TransNetV2 (needs weights), or TransNetV2 when available.",
)
@click.option("--seed", type=int, default=0, help="Seed of the clip windows.")
@click.option("--retry-failed", is_flag=True, help="Retry URLs and sources that failed in earlier runs.")
@click.option("--socket-timeout", type=float, default=30.0, help="Network timeout per request, seconds.")
def crawl(
    urls, out, skip, max_retries, backoff, max_retry_after, executor, workers, address, concurrency,
    rate_limit, height_cap, max_duration, max_filesize, cookies, proxy, deny, pose_backend, people_detector,
    shot_detector, seed, retry_failed, socket_timeout,
):  # fmt: skip
    """Download the URLs with yt-dlp and curate them into 5-10 s clips in OUT/manifest.parquet.

    Re-running resumes: finished URLs are not downloaded again and an unchanged manifest is not rewritten.
    Per-URL results: `ma-data status OUT`.
    """
    from ma_data.crawl.download import DownloadOptions
    from ma_data.crawl.errors import RetryPolicy
    from ma_data.crawl.pipeline import CrawlConfig
    from ma_data.crawl.pipeline import crawl as run_crawl
    from ma_data.curation.clips import ClipPolicy
    from ma_data.curation.curate import CurationConfig

    cfg = CrawlConfig(
        download=DownloadOptions(
            height_cap=height_cap,
            max_filesize=max_filesize or None,
            max_duration_s=max_duration or None,
            ratelimit=rate_limit or None,
            socket_timeout_s=socket_timeout,
            cookiefile=cookies,
            proxy=proxy,
        ),
        curation=CurationConfig(
            skip=tuple(skip),
            shot_method=shot_detector,
            pose_backend=pose_backend,
            seed=seed,
            policy=ClipPolicy(),
        ),  # fmt: skip
        retry=RetryPolicy(max_retries=max_retries, backoff_s=backoff, max_retry_after_s=max_retry_after),
        max_concurrent_downloads=concurrency,
        executor=executor,
        workers=workers,
        ray_address=address,
        deny_lists=tuple(deny),
        retry_failed=retry_failed,
    )
    from ma_data.core.cli import new_output_folder

    new_output_folder(out)  # removed again if the crawl fails before writing anything
    summary = run_crawl(urls, out, cfg)
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
    class and the number of download attempts."""
    from ma_data.crawl.status import crawl_status

    records = crawl_status(out)
    if as_json:
        click.echo(json.dumps(records, indent=1))
        return
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        why = r["reason"] or (f"{r['n_clips']} clips" if r["status"] == "done" else "")
        click.echo(f"{r['status']:<9} attempts={r['attempts']:<2} {r['url']}  {why}")
    click.echo("total: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
