"""The ``internet`` subset for ``ma-data build --subsets ...,internet``.

Build config keys (``--config FILE``), all optional except ``urls`` outside the demo::

    internet:
      urls: manifests/urls/example.csv   # the URL manifest (CSV or Parquet)
      skip_filters: [person]             # any of shots, static, person, dedupe
      max_retries: 3
      backoff_s: 2.0
      max_concurrent_downloads: 2
      deny_lists: [my_takedowns.txt]     # added to manifests/takedown.txt
      height_cap: 1080

With ``--demo`` and no ``internet.urls``, the loopback demo crawl runs instead (:mod:`ma_data.crawl.demo`).
"""

from __future__ import annotations

from typing import Any

from ma_data.core.errors import MaceError
from ma_data.crawl.download import DownloadOptions
from ma_data.crawl.errors import RetryPolicy
from ma_data.crawl.pipeline import CrawlConfig, crawl
from ma_data.curation.curate import CurationConfig

__all__ = ["build_internet_subset"]


def build_internet_subset(ctx: Any) -> list[dict]:
    """``SUBSET_BUILDERS["internet"]``: crawl and curate, returning the subset's manifest rows."""
    icfg = dict(ctx.config.get("internet") or {})
    executor = getattr(ctx.executor, "name", "process")
    workers = getattr(ctx.executor, "workers", None)
    if not icfg.get("urls"):
        if (ctx.config.get("render") or {}).get("preset") == "demo":
            from ma_data.crawl.demo import run_demo_crawl

            return run_demo_crawl(
                ctx.out, executor=executor, workers=workers, ledger=ctx.ledger, write_manifest=False
            ).rows
        raise MaceError("the internet subset needs `internet: {urls: FILE}` in the build config (--config)")
    cfg = CrawlConfig(
        download=DownloadOptions(height_cap=int(icfg.get("height_cap", 1080))),
        curation=CurationConfig(skip=tuple(icfg.get("skip_filters", ()))),
        retry=RetryPolicy(
            max_retries=int(icfg.get("max_retries", 3)), backoff_s=float(icfg.get("backoff_s", 2.0))
        ),
        max_concurrent_downloads=int(icfg.get("max_concurrent_downloads", 2)),
        executor=executor,
        workers=workers,
        deny_lists=tuple(icfg.get("deny_lists", ())),
    )
    return crawl(icfg["urls"], ctx.out, cfg, ledger=ctx.ledger, write_manifest=False).rows
