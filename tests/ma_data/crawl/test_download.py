"""The loopback fault server, one yt-dlp attempt per fault, and the verification of downloads."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from ma_data.crawl.download import download_attempt, format_selector, media_source_id
from ma_data.crawl.loopback import Fault, LoopbackServer
from ma_data.crawl.urls import url_key
from ma_data.crawl.verify import MediaCheckError, verify_media


def _get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, dict(r.headers), r.read()


def test_loopback_range_and_faults():
    body = bytes(range(256)) * 4
    faults = {
        "busy": Fault("status", status=429, retry_after=3, times=1),
        "cut": Fault("truncate", fraction=0.25),
    }
    with LoopbackServer({"f.bin": body, "busy": body, "cut": body}, faults) as srv:
        assert _get(srv.url("f.bin"))[2] == body
        st, hd, data = _get(srv.url("f.bin"), {"Range": "bytes=10-19"})
        assert st == 206 and data == body[10:20] and hd["Content-Range"] == f"bytes 10-19/{len(body)}"
        assert _get(srv.url("f.bin"), {"Range": "bytes=-4"})[2] == body[-4:]
        with pytest.raises(urllib.error.HTTPError) as ei:
            _get(srv.url("f.bin"), {"Range": "bytes=5000-"})
        assert ei.value.code == 416
        with pytest.raises(urllib.error.HTTPError) as ei:
            _get(srv.url("busy"))
        assert ei.value.code == 429 and ei.value.headers["Retry-After"] == "3"
        assert _get(srv.url("busy"))[2] == body  # the fault applied to the first request only
        with pytest.raises(Exception):  # noqa: B017 - http.client.IncompleteRead
            _get(srv.url("cut"))
        with pytest.raises(urllib.error.HTTPError) as ei:
            _get(srv.url("nothing"))
        assert ei.value.code == 404
        assert srv.hits("busy") == 2 and srv.hits("nothing") == 1


def _attempt(srv, name, raw, **opts):
    url = srv.url(name)
    opts.setdefault("socket_timeout_s", 2.0)
    return download_attempt({"url": url, "key": url_key(url), "raw_dir": str(raw), "options": opts})


def test_attempt_outcomes_per_fault(sources, tmp_path):
    video = sources["good_b.mp4"][0]
    files = {
        n: video
        for n in (
            "ok.mp4",
            "r429.mp4",
            "r503.mp4",
            "cut.mp4",
            "cut_nolen.mp4",
            "slow.mp4",
            "big.mp4",
            "dl429.mp4",
        )
    }
    files["junk.mp4"] = b"\x00\x01" * 4000
    faults = {
        "r429.mp4": Fault("status", status=429, retry_after=5),
        "r503.mp4": Fault("status", status=503),
        "cut.mp4": Fault("truncate", fraction=0.5),
        "cut_nolen.mp4": Fault("truncate", fraction=0.7, announce_length=False),
        "slow.mp4": Fault("slow", delay_s=3.0, times=1),
        "dl429.mp4": Fault("status", status=429, retry_after=4, after=1, times=1),  # the video request only
    }
    raw = tmp_path / "raw"
    with LoopbackServer(files, faults) as srv:
        ok = _attempt(srv, "ok.mp4", raw)
        key = url_key(srv.url("ok.mp4"))
        assert ok["outcome"] == "downloaded" and ok["source_id"] == "sha256-" + ok["sha256"][:16]
        assert (raw / ok["file"]).is_file() and ok["file"].startswith(key)  # named by URL, not remote names
        assert json.loads((raw / f"{key}.probe.json").read_text())["sha256"] == ok["sha256"]
        assert (raw / ok["info_json"]).is_file()  # yt-dlp's metadata kept as provenance
        assert ok["probe"]["n_frames"] == sources["good_b.mp4"][1][-1][1] and ok["probe"]["has_audio"]
        again = _attempt(srv, "ok.mp4", raw)
        assert again.get("reused") and srv.hits("ok.mp4") == 2  # no new request (2 = sniff + download)

        r = _attempt(srv, "nope.mp4", raw)
        assert (r["outcome"], r["error_class"], r["http_status"]) == ("failed", "not_found", 404)
        r = _attempt(srv, "r429.mp4", raw)
        assert (r["error_class"], r["retry_after_s"]) == ("rate_limited", 5.0)
        assert _attempt(srv, "r503.mp4", raw)["error_class"] == "server_error"
        r = _attempt(srv, "dl429.mp4", raw)
        assert (r["error_class"], r["retry_after_s"]) == ("rate_limited", 4.0)
        assert _attempt(srv, "dl429.mp4", raw)["outcome"] == "downloaded"
        r = _attempt(srv, "cut.mp4", raw)
        assert r["error_class"] == "truncated"
        assert not list(raw.glob(f"{url_key(srv.url('cut.mp4'))}*"))  # partial removed: retry from byte 0
        # no Content-Length: yt-dlp cannot tell, our verification does
        assert _attempt(srv, "cut_nolen.mp4", raw)["error_class"] == "truncated"
        assert _attempt(srv, "slow.mp4", raw, socket_timeout_s=0.5)["error_class"] == "network"
        assert _attempt(srv, "junk.mp4", raw)["error_class"] == "corrupt"
        r = _attempt(srv, "big.mp4", raw, max_filesize=1000)
        assert r["outcome"] == "filtered" and r["reason"].startswith("too_large")


def test_attempt_honours_the_deny_list(sources, tmp_path):
    from ma_data.core.io.atomic import sha256_file

    deny = tmp_path / "deny.txt"
    video = sources["good_b.mp4"][0]
    with LoopbackServer({"v.mp4": video, "w.mp4": video}) as srv:
        url = srv.url("v.mp4")
        deny.write_text(f"{url.replace('127.0.0.1', 'LOCALHOST')}\n")
        payload = {"url": url, "key": url_key(url), "raw_dir": str(tmp_path), "deny_lists": [str(deny)]}
        r = download_attempt(payload)
        assert r["outcome"] == "filtered" and r["reason"] == "takedown: url"
        assert srv.hits("v.mp4") == 1  # metadata only, never the video
        # a generic page's source id is its content hash: known, and denied, once the bytes are here
        deny.write_text(f"source:sha256-{sha256_file(video)[:16]}\n")
        url = srv.url("w.mp4")
        payload = {"url": url, "key": url_key(url), "raw_dir": str(tmp_path), "deny_lists": [str(deny)]}
        r = download_attempt(payload)
        assert r["outcome"] == "filtered" and r["reason"].startswith("takedown: source sha256-")
        assert not list(tmp_path.glob("*.mp4"))


def test_verify_media_catches_truncation_and_garbage(sources, tmp_path):
    import av

    good = sources["good_b.mp4"][0]
    # a faststart copy: the index survives a cut, so only packet accounting shows the damage
    fs = tmp_path / "fs.mp4"
    with av.open(str(good)) as src, av.open(str(fs), "w", options={"movflags": "+faststart"}) as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for pkt in src.demux():
            if pkt.dts is not None:
                pkt.stream = streams[pkt.stream.index]
                dst.mux(pkt)
    assert verify_media(fs).n_frames == sources["good_b.mp4"][1][-1][1]
    data = fs.read_bytes()
    for frac, cls in ((0.6, "truncated"), (0.995, "truncated")):
        p = tmp_path / f"cut_{frac}.mp4"
        p.write_bytes(data[: int(len(data) * frac)])
        with pytest.raises(MediaCheckError) as ei:
            verify_media(p)
        assert ei.value.error_class == cls and str(p) in str(ei.value)
    tail_cut = tmp_path / "moov_cut.mp4"
    tail_cut.write_bytes(good.read_bytes()[: int(good.stat().st_size * 0.5)])  # moov at the end: gone
    with pytest.raises(MediaCheckError) as ei:
        verify_media(tail_cut)
    assert ei.value.error_class == "truncated"
    junk = tmp_path / "page.mp4"
    junk.write_bytes(b"<html><body>rate limited</body></html>" * 50)
    with pytest.raises(MediaCheckError) as ei:
        verify_media(junk)
    assert ei.value.error_class == "corrupt"


def test_format_selector_and_source_ids():
    assert "height<=?720" in format_selector(720, can_merge=False) and "+" not in format_selector(720, False)
    assert "+ba" in format_selector(720, can_merge=True)
    sha = "ab" * 32
    assert media_source_id("Youtube", "a/b?c", sha) == "youtube-a_b_c"
    # ids of the generic family are file names ("index", "index-1"): the content names the source
    assert media_source_id("generic", "video", sha) == media_source_id("HTML5MediaEmbed", "index-1", sha)
    assert media_source_id("html5mediaembed", "index-1", sha) == "sha256-" + sha[:16]
