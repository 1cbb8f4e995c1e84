"""`ma-data build --subsets internet` with a URL list in the build config goes through the same crawl."""

from __future__ import annotations

import pytest

from ma_data.build.pipeline import build, load_config
from ma_data.crawl.loopback import Fault, LoopbackServer
from ma_data.crawl.status import crawl_status
from ma_data.manifest import read_manifest

pytestmark = pytest.mark.slow


def test_build_internet_subset_from_config(sources, tmp_path):
    with LoopbackServer(
        {"v.mp4": sources["good_b.mp4"][0]}, {"v.mp4": Fault("status", status=503, times=1)}
    ) as srv:
        urls = tmp_path / "urls.csv"
        urls.write_text(
            f"url,genre,license,creator\n{srv.url('v.mp4')},Jazz,CC-BY-4.0,ann\n{srv.url('no.mp4')},,,\n"
        )
        cfg = load_config(None)
        cfg["internet"] = {"urls": str(urls), "skip_filter": ["person"], "backoff": 0.01}
        res = build(tmp_path / "ds", subsets=("internet",), config=cfg, executor="serial", progress=False)
        assert res.n_ok >= 2 and res.n_failed == 0  # failed URLs are not manifest rows
        n = len(srv.requests)
        build(tmp_path / "ds", subsets=("internet",), config=cfg, executor="serial", progress=False)
        assert len(srv.requests) == n
    df = read_manifest(tmp_path / "ds")
    assert set(df["genre"]) == {"Jazz"} and set(df["license"]) == {"CC-BY-4.0"}
    assert df["provenance"].str.contains('"creator": "ann"').all()
    fate = {r["url"].rsplit("/", 1)[1]: (r["status"], r["attempts"]) for r in crawl_status(tmp_path / "ds")}
    assert fate == {"v.mp4": ("done", 2), "no.mp4": ("failed", 1)}
