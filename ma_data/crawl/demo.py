"""The internet-subset demo: locally made videos served from a loopback HTTP server, then crawled.

``make build-data`` (through ``ma-data build --demo --subsets render,internet``) calls
:func:`run_demo_crawl`, so a newcomer sees the whole internet path without touching the internet: yt-dlp's
generic extractor, a flaky server (one 503, one 429 with Retry-After) recovered by our retry policy, a URL
that 404s, shot detection, the static filter, windows, clip encoding and the manifest rows.

The videos are SYNTHETIC (coloured fields with moving shapes; no people), so the person filter is skipped
in the demo; everything else runs as in a real crawl.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ma_data.build import Ledger
from ma_data.crawl.errors import RetryPolicy
from ma_data.crawl.loopback import Fault, LoopbackServer
from ma_data.crawl.pipeline import CrawlConfig, CrawlSummary, crawl
from ma_data.crawl.synthetic import make_source_video
from ma_data.curation.curate import CurationConfig

__all__ = ["DEMO_SOURCES", "make_demo_sources", "run_demo_crawl"]

#: name -> (shots as (seconds, kind), seed); the demo's URL list also has a missing file (404).
DEMO_SOURCES: dict[str, tuple[list[tuple[float, str]], int]] = {
    "dance_a.mp4": ([(7.5, "moving"), (2.5, "moving"), (7.0, "moving")], 1),
    "dance_b.mp4": ([(10.5, "moving")], 2),
    "still.mp4": ([(6.0, "static")], 3),
}
_FAULTS = {
    "dance_a.mp4": Fault("status", status=503, times=1),
    "dance_b.mp4": Fault("status", status=429, retry_after=0.2, times=1),
}


def make_demo_sources(folder: str | Path) -> dict[str, Path]:
    """Write (once) the demo's synthetic source videos; returns name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (segments, seed) in DEMO_SOURCES.items():
        path = folder / name
        if not path.is_file():
            make_source_video(path, segments, seed=seed)
        out[name] = path
    return out


def _port_for(out_dir: Path) -> int:
    """A stable preferred port per dataset root, so re-runs see the same URLs (and skip finished work)."""
    return 20000 + int(hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:8], 16) % 30000


def run_demo_crawl(
    out_dir: str | Path,
    executor: str = "serial",
    workers: int | None = None,
    ledger: Ledger | None = None,
    write_manifest: bool = True,
) -> CrawlSummary:
    """Serve the demo sources on 127.0.0.1 and crawl them into ``out_dir`` (see the module docstring)."""
    from ma_data.curation.curate import quiet_av_logs

    out = Path(out_dir)
    src = out / "_sources" / "internet_demo"
    quiet_av_logs()
    files = make_demo_sources(src)
    cfg = CrawlConfig(
        curation=CurationConfig(skip=("person",)),
        retry=RetryPolicy(max_retries=2, backoff_s=0.1, max_retry_after_s=2.0),
        executor=executor,
        workers=workers,
    )
    with LoopbackServer(files, _FAULTS, port=_port_for(out)) as server:
        names = [*files, "removed_video.mp4"]
        lines = ["url,genre,license,creator"]
        lines += [f"{server.url(n)},demo,CC0-1.0 (synthetic),mace-dance demo" for n in names]
        urls = src / "urls.csv"
        urls.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return crawl(urls, out, cfg, ledger=ledger, write_manifest=write_manifest)
