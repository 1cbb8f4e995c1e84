"""End to end: `ma-data crawl` over a loopback server with faults, a re-run, takedowns and `ma-data status`."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from ma_data.core.io.video import probe_video
from ma_data.crawl.cli import crawl, status
from ma_data.crawl.loopback import Fault, LoopbackServer
from ma_data.manifest import read_manifest

pytestmark = pytest.mark.slow


def _run(cmd, args):
    res = CliRunner().invoke(cmd, args, catch_exceptions=False)
    return res


def test_crawl_with_faults_rerun_and_status(sources, tmp_path):
    files = {
        "a.mp4": sources["good_a.mp4"][0],
        "flaky503.mp4": sources["good_b.mp4"][0],
        "limited429.mp4": sources["good_a2.mp4"][0],
        "still.mp4": sources["still.mp4"][0],
        "cut.mp4": sources["good_b.mp4"][0],
    }
    faults = {
        "flaky503.mp4": Fault("status", status=503, times=2),
        "limited429.mp4": Fault("status", status=429, retry_after=0.3, times=1),
        "cut.mp4": Fault("truncate", fraction=0.5),
    }
    names = ["a.mp4", "flaky503.mp4", "limited429.mp4", "still.mp4", "cut.mp4", "gone.mp4"]
    out = tmp_path / "ds"
    with LoopbackServer(files, faults) as srv:
        port = srv.port
        urls = tmp_path / "urls.csv"
        urls.write_text("url,genre\n" + "".join(f"{srv.url(n)},popping\n" for n in names))
        args = ["--urls", str(urls), "--out", str(out), "--skip-filter", "person", "--max-retries", "3",
                "--backoff", "0.01", "--executor", "serial"]  # fmt: skip
        res = _run(crawl, args)
        assert res.exit_code == 0, res.output
        manifest = out / "manifest.parquet"
        first_bytes, first_mtime = manifest.read_bytes(), os.stat(manifest).st_mtime_ns
        n_requests = len(srv.requests)

        # 404 is final at once; 503 x2 and 429 recovered; truncation retried then failed.
        assert srv.hits("gone.mp4") == 1
        res2 = _run(crawl, args)
        assert res2.exit_code == 0, res2.output
        assert len(srv.requests) == n_requests, "a re-run must not download anything"
        assert manifest.read_bytes() == first_bytes and os.stat(manifest).st_mtime_ns == first_mtime
        assert "unchanged" in res2.output

        # --retry-failed: the missing file appeared, so it is fetched; the truncation persists.
        srv.set_file("gone.mp4", sources["good_b2.mp4"][0])
        res3 = _run(crawl, [*args, "--retry-failed"])
        assert res3.exit_code == 0, res3.output
        assert srv.hits("gone.mp4") == 3 and srv.hits("a.mp4") == 2  # done URLs untouched

    st = json.loads(_run(status, [str(out), "--json"]).output)
    fate = {r["url"].rsplit("/", 1)[1]: r for r in st}
    assert {k: v["status"] for k, v in fate.items()} == {
        "a.mp4": "done",
        "flaky503.mp4": "done",
        "limited429.mp4": "done",
        "still.mp4": "filtered",
        "cut.mp4": "failed",
        "gone.mp4": "done",
    }
    assert fate["cut.mp4"]["error_class"] == "truncated" and fate["cut.mp4"]["attempts"] == 4
    assert fate["flaky503.mp4"]["attempts"] == 3 and fate["limited429.mp4"]["attempts"] == 2
    assert fate["still.mp4"]["reason"] == "static"

    df = read_manifest(out)
    assert set(df["subset"]) == {"internet"}
    good = {
        "a.mp4": "good_a.mp4",
        "flaky503.mp4": "good_b.mp4",
        "limited429.mp4": "good_a.mp4",
        "gone.mp4": "good_b.mp4",
    }
    assert {u.rsplit("/", 1)[1] for u in df["source_uri"]} == set(good)
    for _, row in df.iterrows():
        info = probe_video(out / row["video_path"])
        assert 5.0 <= info.n_frames / info.fps <= 10.0
        assert info.duration_s <= 10.0 and info.has_audio
        assert row["n_frames"] == info.n_frames and row["split"] in ("train", "val", "test")
        cuts = sources[good[row["source_uri"].rsplit("/", 1)[1]]][1]
        t0, t1 = row["start_s"], row["end_s"]
        assert any(a / 30.0 <= t0 and t1 <= b / 30.0 + 1e-9 for a, b in cuts), (row["clip_id"], cuts)
    # splits grouped by source
    assert df.groupby("source_id")["split"].nunique().max() == 1

    # A takedown added later removes that source's clips on the next run, without downloading.
    deny = tmp_path / "deny.txt"
    deny.write_text(df["source_uri"].iloc[0] + "\n")
    with LoopbackServer(files, faults, port=port) as srv2:
        if srv2.port != port:
            pytest.skip("could not re-bind the same loopback port")
        res3 = _run(crawl, [*args, "--deny-list", str(deny)])
        assert res3.exit_code == 0, res3.output
        assert srv2.requests == []
    df2 = read_manifest(out)
    assert df["source_uri"].iloc[0] not in set(df2["source_uri"])
    assert not (out / df["video_path"].iloc[0]).exists()
