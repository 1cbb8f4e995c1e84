"""The ``internet`` subset for ``ma-data build --subsets ...,internet``.

Its settings are the build config's ``internet:`` section: the keys of
:class:`~ma_data.crawl.settings.CrawlSettings`, the same names as the ``ma-data crawl`` flags (``urls`` is
required outside the demo). The executor, workers and Ray address are the build's own (``--executor``...).

With ``--demo`` and no ``internet.urls``, the loopback demo crawl runs instead (:mod:`ma_data.crawl.demo`).
"""

from __future__ import annotations

from typing import Any

from ma_data.core.errors import MaceError
from ma_data.crawl.pipeline import crawl
from ma_data.crawl.settings import CrawlSettings

__all__ = ["build_internet_subset"]


def build_internet_subset(ctx: Any) -> list[dict]:
    """``SUBSET_BUILDERS["internet"]``: crawl and curate, returning the subset's manifest rows."""
    executor = getattr(ctx.executor, "name", "process")
    workers = getattr(ctx.executor, "workers", None)
    section = ctx.config.get("internet")
    settings = CrawlSettings.from_mapping(
        section, "build config: internet", executor=executor, workers=workers
    )
    if not settings.urls:
        if (ctx.config.get("render") or {}).get("preset") == "demo":
            from ma_data.crawl.demo import run_demo_crawl

            return run_demo_crawl(
                ctx.out, executor=executor, workers=workers, ledger=ctx.ledger, write_manifest=False
            ).rows
        raise MaceError("the internet subset needs `internet: {urls: FILE}` in the build config (--config)")
    return crawl(settings.urls, ctx.out, settings.to_config(), ledger=ctx.ledger, write_manifest=False).rows
