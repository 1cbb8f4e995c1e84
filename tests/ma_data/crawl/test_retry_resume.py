"""A crawl killed while it waits to retry picks the retry up on the next run (not left as failed)."""

from __future__ import annotations

import pytest

from ma_data.crawl.errors import RetryPolicy
from ma_data.crawl.loopback import Fault, LoopbackServer
from ma_data.crawl.pipeline import CrawlConfig, crawl
from ma_data.crawl.status import crawl_status
from ma_data.curation.curate import CurationConfig


class _Killed(Exception):
    pass


def _die(seconds: float) -> None:
    raise _Killed(seconds)


def test_retry_survives_a_killed_driver(sources, tmp_path):
    waits: list[float] = []
    with LoopbackServer(
        {"v.mp4": sources["good_b.mp4"][0]}, {"v.mp4": Fault("status", status=429, retry_after=0.2, times=1)}
    ) as srv:
        urls = tmp_path / "u.csv"
        urls.write_text(f"url\n{srv.url('v.mp4')}\n")
        cfg = CrawlConfig(
            curation=CurationConfig(skip=("person", "shots", "static")),
            retry=RetryPolicy(max_retries=2, backoff_s=0.01, jitter=0.0),
            executor="serial",
        )
        with pytest.raises(_Killed) as ei:
            crawl(urls, tmp_path / "ds", cfg, sleep=_die)  # dies in the backoff wait
        assert ei.value.args[0] == pytest.approx(
            0.2, abs=0.05
        )  # Retry-After honoured over the 0.01 s backoff
        (rec,) = crawl_status(tmp_path / "ds")
        assert (rec["status"], rec["error_class"], rec["attempts"]) == ("pending", "rate_limited", 1)

        summary = crawl(urls, tmp_path / "ds", cfg, sleep=waits.append)
        (rec,) = crawl_status(tmp_path / "ds")
        assert (rec["status"], rec["attempts"]) == ("done", 2) and summary.n_clips >= 1
        assert srv.hits("v.mp4") == 3  # 429, then page + video
