"""Two crawls of the same URLs write the same clips, byte for byte, whatever the executor."""

from __future__ import annotations

import hashlib

import pytest

from ma_data.crawl.demo import make_demo_sources
from ma_data.crawl.errors import RetryPolicy
from ma_data.crawl.loopback import LoopbackServer
from ma_data.crawl.pipeline import CrawlConfig, crawl
from ma_data.curation.curate import CurationConfig
from ma_data.manifest import read_manifest

pytestmark = pytest.mark.slow


def _clip_files(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "clips").rglob("*"))
        if p.is_file()
    }


def test_two_crawls_write_identical_clips(tmp_path):
    """Regression: clips were re-encoded with x264 state left by earlier clips (see X264_DETERMINISTIC in
    ma_data.core.io.video), so a second crawl of the same URLs wrote different clip bytes and pixels."""
    files = {n: p for n, p in make_demo_sources(tmp_path / "sources").items() if n != "still.mp4"}
    with LoopbackServer(files) as srv:  # one server: both crawls see the same URLs, hence the same clip ids
        urls = tmp_path / "urls.csv"
        urls.write_text("url\n" + "".join(f"{srv.url(n)}\n" for n in files))
        roots = {}
        for executor in ("serial", "process"):
            cfg = CrawlConfig(
                curation=CurationConfig(skip=("person",)),
                retry=RetryPolicy(max_retries=0),
                executor=executor,
                workers=1,
            )
            roots[executor] = tmp_path / executor
            summary = crawl(urls, roots[executor], cfg)
            assert summary.n_clips >= 3
    a, b = (read_manifest(r) for r in roots.values())
    assert set(zip(a.clip_id, a.sha256, strict=True)) == set(zip(b.clip_id, b.sha256, strict=True))
    assert _clip_files(roots["serial"]) == _clip_files(roots["process"])
