"""The `make build-data` internet demo: local videos served over loopback, crawled, resumable."""

from __future__ import annotations

import pytest

from ma_data.crawl.demo import run_demo_crawl
from ma_data.crawl.status import crawl_status
from ma_data.manifest import read_manifest

pytestmark = pytest.mark.slow


def test_demo_crawl_twice(tmp_path):
    first = run_demo_crawl(tmp_path)
    assert first.counts == {"done": 2, "filtered": 1, "failed": 1} and first.n_clips >= 2
    fate = {r["url"].rsplit("/", 1)[1]: r for r in crawl_status(tmp_path)}
    assert (
        fate["dance_a.mp4"]["attempts"] == 2 and fate["dance_b.mp4"]["attempts"] == 2
    )  # 503 / 429 recovered
    assert fate["still.mp4"]["reason"] == "static" and fate["removed_video.mp4"]["error_class"] == "not_found"
    df = read_manifest(tmp_path)
    assert (df["subset"] == "internet").all() and df["duration_s"].between(5, 10).all()
    second = run_demo_crawl(tmp_path)
    assert second.n_download_attempts == 0 and not second.manifest_changed
