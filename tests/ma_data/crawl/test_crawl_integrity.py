"""Crawl integrity over the loopback server: deny-list forms, the folder lock, the download deadline, Ray
addresses, option bounds, credentials, windows and media-based source ids (with the upgrade of old folders)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ma_data.crawl.cli import crawl, status
from ma_data.crawl.loopback import Fault, LoopbackServer

ROOT = Path(__file__).resolve().parents[3]
FAST = ["--executor", "serial", "--backoff", "0.01"]
NO_FILTERS = ["--skip-filter", "shots", "--skip-filter", "static", "--skip-filter", "person"]


def _crawl(*args: str):
    return CliRunner().invoke(crawl, [str(a) for a in args], catch_exceptions=False)


def _status(out: Path) -> list[dict]:
    res = CliRunner().invoke(status, [str(out), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- deny list before any request -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "form",
    [
        "/./denied.mp4",
        "/x/../denied.mp4",
        "/%64enied.mp4",
        "/denied.mp4#t=1",
        "localhost",
        "[::1]",
        "LOCALHOST:80",
    ],
)
def test_deny_listed_url_in_any_form_is_never_requested(sources, tmp_path, form):
    with LoopbackServer({"denied.mp4": sources["good_b.mp4"][0]}) as srv:
        canon = srv.url("denied.mp4")
        if form.startswith("/"):
            url = f"http://127.0.0.1:{srv.port}{form}"
        elif form == "LOCALHOST:80":  # the default port written out, and an upper-case host
            canon = canon.replace(f":{srv.port}", "")
            url = "HTTP://LOCALHOST:80/denied.mp4"
        else:
            url = canon.replace("127.0.0.1", form)
        (tmp_path / "deny.txt").write_text(canon + "\n")
        (tmp_path / "u.txt").write_text(url + "\n")
        res = _crawl(
            "--urls",
            tmp_path / "u.txt",
            "--out",
            tmp_path / "ds",
            "--deny-list",
            tmp_path / "deny.txt",
            *FAST,
        )
        assert srv.requests == [], res.output
    (rec,) = _status(tmp_path / "ds")
    assert (rec["status"], rec["reason"]) == ("filtered", "takedown: url")


# -- one crawl per folder -----------------------------------------------------------------------------------
def test_second_crawl_of_a_folder_is_refused(sources, tmp_path):
    from ma_data.build import lock_root

    out = tmp_path / "ds"
    with LoopbackServer({"v.mp4": sources["good_b.mp4"][0]}) as srv:
        (tmp_path / "u.txt").write_text(srv.url("v.mp4") + "\n")
        with lock_root(out, "ma-data crawl"):
            res = _crawl("--urls", tmp_path / "u.txt", "--out", out, *FAST)
        assert res.exit_code == 2 and srv.requests == []
        assert res.stderr.count("\n") == 1 and "ma-data crawl (pid" in res.stderr and str(out) in res.stderr


def test_lock_of_a_dead_process_does_not_block(sources, tmp_path):
    out = tmp_path / "ds"
    code = "import os, sys; from ma_data.build import lock_root; lock_root(sys.argv[1], 'ma-data crawl'); os._exit(0)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env, timeout=60)
    assert "ma-data crawl (pid" in (out / ".build" / "lock").read_text()  # left behind by a dead holder
    with LoopbackServer({"v.mp4": sources["good_b.mp4"][0]}) as srv:
        (tmp_path / "deny.txt").write_text(srv.url("v.mp4") + "\n")  # nothing to download: a quick crawl
        (tmp_path / "u.txt").write_text(srv.url("v.mp4") + "\n")
        res = _crawl("--urls", tmp_path / "u.txt", "--out", out, "--deny-list", tmp_path / "deny.txt", *FAST)
    assert res.exit_code == 0, res.output


def test_build_and_crawl_share_the_lock(tmp_path):
    from ma_data.build import lock_root
    from ma_data.build.pipeline import build
    from ma_data.core.errors import MaceError

    with lock_root(tmp_path, "ma-data crawl"), pytest.raises(MaceError, match="ma-data crawl .pid"):
        build(tmp_path, demo=True, executor="serial", progress=False)


@pytest.mark.slow
def test_two_concurrent_crawls(sources, tmp_path):
    """The first crawl (a separate process) downloads slowly; a second one meanwhile is refused at once."""
    out = tmp_path / "ds"
    with LoopbackServer(
        {"v.mp4": sources["good_b.mp4"][0]}, {"v.mp4": Fault("slow", delay_s=4.0, after=1)}
    ) as srv:
        (tmp_path / "u.txt").write_text(srv.url("v.mp4") + "\n")
        args = ["--urls", tmp_path / "u.txt", "--out", out, *FAST, *NO_FILTERS]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MACE_DANCE_NO_PROGRESS": "1"}
        first = subprocess.Popen(
            [sys.executable, "-m", "ma_data.cli", "crawl", *map(str, args)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lock = out / ".build" / "lock"
        deadline = time.monotonic() + 60
        while not (lock.is_file() and "pid" in lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = _crawl(*args)
        stdout, stderr = first.communicate(timeout=120)
        assert first.returncode == 0, stderr
        assert second.exit_code == 2 and "is already writing this folder" in second.stderr
        assert srv.hits("v.mp4") == 2  # one sniff and one download: nothing twice
    (rec,) = _status(out)
    assert rec["status"] == "done" and rec["attempts"] == 1


# -- the download deadline ----------------------------------------------------------------------------------
def test_trickling_server_hits_the_deadline_and_is_retried(sources, tmp_path):
    trickle = Fault("trickle", delay_s=0.05, chunk=1, after=1)  # the sniff is answered; the download trickles
    with LoopbackServer({"v.mp4": sources["good_b.mp4"][0]}, {"v.mp4": trickle}) as srv:
        (tmp_path / "u.txt").write_text(srv.url("v.mp4") + "\n")
        t0 = time.monotonic()
        res = _crawl(
            "--urls", tmp_path / "u.txt", "--out", tmp_path / "ds", "--download-timeout", "1",
            "--socket-timeout", "5", "--max-retries", "1", "--backoff", "0", "--executor", "serial",
        )  # fmt: skip
        took = time.monotonic() - t0
    assert res.exit_code == 2, res.output  # nothing done, something failed
    assert took < 15, took  # two attempts of about a second each (without a deadline: about an hour)
    (rec,) = _status(tmp_path / "ds")
    assert (rec["status"], rec["error_class"], rec["attempts"]) == ("failed", "deadline", 2)
    assert "download deadline" in rec["error"] and "--download-timeout" in rec["error"]
    assert not list((tmp_path / "ds" / "raw" / "internet").glob("u*"))  # the partial file is gone


def test_deadline_is_a_retryable_class():
    from ma_data.crawl.errors import RETRYABLE, ClassifiedError, RetryPolicy

    assert "deadline" in RETRYABLE and RetryPolicy(max_retries=1).should_retry(
        ClassifiedError("deadline", ""), 1
    )


# -- Ray connection -----------------------------------------------------------------------------------------
def test_ray_address_with_nothing_listening_fails_fast(sources, tmp_path):
    pytest.importorskip("ray")
    port = _free_port()
    with LoopbackServer({"v.mp4": sources["good_b.mp4"][0]}) as srv:
        (tmp_path / "u.txt").write_text(srv.url("v.mp4") + "\n")
        t0 = time.monotonic()
        res = _crawl("--urls", tmp_path / "u.txt", "--out", tmp_path / "ds", "--executor", "ray",
                     "--address", f"127.0.0.1:{port}")  # fmt: skip
        assert time.monotonic() - t0 < 30
        assert srv.requests == []  # refused before any download
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert f"cannot reach a Ray cluster at 127.0.0.1:{port}" in res.stderr


# -- option bounds ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flag", "value"),
    [("--workers", "-3"), ("--workers", "0"), ("--max-retries", "-1"), ("--backoff", "-2"),
     ("--socket-timeout", "0"), ("--download-timeout", "-1"), ("--concurrency", "0"), ("--rate-limit", "-5"),
     ("--max-retry-after", "-1"), ("--max-duration", "-1")],
)  # fmt: skip
def test_crawl_numeric_options_are_checked_at_parse_time(tmp_path, flag, value):
    (tmp_path / "u.txt").write_text("http://127.0.0.1:9/v.mp4\n")
    res = CliRunner().invoke(
        crawl, ["--urls", str(tmp_path / "u.txt"), "--out", str(tmp_path / "ds"), flag, value]
    )
    assert res.exit_code == 2 and f"Invalid value for '{flag}'" in res.output
    assert not (tmp_path / "ds").exists()


def test_build_workers_checked_at_parse_time(tmp_path):
    from ma_data.cli import main

    res = CliRunner().invoke(main, ["build", "--demo", "--out", str(tmp_path / "ds"), "--workers", "-3"])
    assert res.exit_code == 2 and "Invalid value for '--workers'" in res.output
    assert not (tmp_path / "ds").exists()


# -- credentials --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_credentials_reach_the_server_and_nothing_else(sources, tmp_path, caplog):
    out = tmp_path / "ds"
    with LoopbackServer({"v.mp4": sources["good_b.mp4"][0]}) as srv:
        good = srv.url("v.mp4").replace("http://", "http://alice:s3cret@")
        gone = srv.url("gone.mp4").replace("http://", "http://bob:hunter2@")
        plain_url = srv.url("v.mp4")
        (tmp_path / "u.csv").write_text(f"url,genre\n{good},Jazz\n{gone},Jazz\n")
        res = _crawl("--urls", tmp_path / "u.csv", "--out", out, *FAST, *NO_FILTERS)
        assert res.exit_code == 0, res.output
        sent = {r.authorization for r in srv.requests if r.path == "/v.mp4"}
    assert sent == {"Basic " + base64.b64encode(b"alice:s3cret").decode()}
    plain = CliRunner().invoke(status, [str(out)]).output
    records = _status(out)
    assert [r["status"] for r in records] == ["done", "failed"] and records[0]["url"] == plain_url
    texts = [res.output, plain, json.dumps(records), caplog.text]
    texts += [p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()]
    for secret in ("s3cret", "hunter2", "alice:", "bob@"):
        assert not any(secret in t for t in texts), secret


# -- windows ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_one_url_with_two_windows_gives_two_rows_and_one_download(sources, tmp_path):
    out = tmp_path / "ds"
    with LoopbackServer({"v.mp4": sources["good_a.mp4"][0]}) as srv:
        url = srv.url("v.mp4")
        (tmp_path / "u.csv").write_text(f"url,start,end\n{url},0,5.5\n{url},7.5,\n{url},0,5.5\n")
        res = _crawl("--urls", tmp_path / "u.csv", "--out", out, *FAST,
                     "--skip-filter", "static", "--skip-filter", "person")  # fmt: skip
        assert res.exit_code == 0, res.output
        assert srv.hits("v.mp4") == 2  # one sniff, one download for both windows
    records = _status(out)
    assert [(r["start"], r["end"], r["status"]) for r in records] == [(0.0, 5.5, "done"), (7.5, None, "done")]
    from ma_data.manifest import read_manifest

    df = read_manifest(out)
    assert df["source_id"].nunique() == 1 and len(df) == 2
    assert sorted((row.start_s < 5.5, row.end_s > 7.5) for row in df.itertuples()) == [
        (False, True),
        (True, False),
    ]


def test_an_earlier_row_keeps_the_clips_two_windows_share():
    from ma_data.build import Ledger
    from ma_data.crawl.rows import row_clips
    from ma_data.crawl.state import CURATE, DOWNLOAD

    def clip(cid, a, b):
        return {"clip_id": cid, "source_id": "s", "start_frame": a, "end_frame": b}

    led = Ledger(":memory:")
    led.register(DOWNLOAD, {"u1": {"url": "http://h/v"}})
    led.finish(DOWNLOAD, "u1", {"outcome": "downloaded", "source_id": "s"})
    rows = {"w1": [clip("c1", 0, 150), clip("c2", 300, 450)], "w2": [clip("c1", 0, 150), clip("c3", 400, 550),
            clip("c4", 600, 750)]}  # fmt: skip
    led.register(CURATE, {k: {"url_key": "u1"} for k in rows})
    for k, clips in rows.items():
        led.finish(CURATE, k, {"decision": "kept", "clips": clips})
    got = row_clips(led, ["w1", "w2"])
    assert {k: [c["clip_id"] for c in v] for k, v in got.items()} == {"w1": ["c1", "c2"], "w2": ["c4"]}


# -- source ids from the media ------------------------------------------------------------------------------
def _pages(sources, names):
    """Pages all called index.html, each embedding its own video (yt-dlp's id for each: "index-1")."""
    files = {}
    for i, name in enumerate(names):
        files[f"p{i}/index.html"] = f'<html><body><video src="/m{i}/clip.mp4"></video></body></html>'.encode()
        files[f"m{i}/clip.mp4"] = sources[name][0]
    return files


@pytest.mark.slow
def test_pages_with_one_file_name_are_different_sources(sources, tmp_path):
    from ma_data.manifest import read_manifest

    names = ["good_a.mp4", "good_b.mp4", "good_a2.mp4", "good_b2.mp4"]
    out = tmp_path / "ds"
    with LoopbackServer(_pages(sources, names)) as srv:
        (tmp_path / "u.txt").write_text("".join(srv.url(f"p{i}/index.html") + "\n" for i in range(3)))
        assert _crawl("--urls", tmp_path / "u.txt", "--out", out, *FAST, *NO_FILTERS).exit_code == 0
        # a later run with one more page named index.html: the new video is not "already downloaded"
        (tmp_path / "u.txt").write_text("".join(srv.url(f"p{i}/index.html") + "\n" for i in range(4)))
        assert _crawl("--urls", tmp_path / "u.txt", "--out", out, *FAST, *NO_FILTERS).exit_code == 0
    records = _status(out)
    assert [r["status"] for r in records] == ["done"] * 4, records
    ids = [r["source_id"] for r in records]
    assert len(set(ids)) == 4 and all(i.startswith("sha256-") for i in ids)
    assert set(read_manifest(out)["source_id"]) == set(ids)


@pytest.mark.slow
def test_folder_of_the_old_id_scheme_is_upgraded(sources, tmp_path):
    """A folder crawled with file-name ids (three pages called index.html: one kept, two dropped as its
    duplicates, a file-name line in the archive) is upgraded: every page ends up a source of its own."""
    from ma_data.build import Ledger
    from ma_data.crawl.state import ARCHIVE_NAME, CURATE, DOWNLOAD, LEDGER_NAME, META_ORDER
    from ma_data.crawl.upgrade import META_SCHEME
    from ma_data.crawl.urls import url_key
    from ma_data.manifest import read_manifest

    out = tmp_path / "ds"
    with LoopbackServer(_pages(sources, ["good_a.mp4", "good_b.mp4", "good_a2.mp4"])) as srv:
        urls = [srv.url(f"p{i}/index.html") for i in range(3)]
        (tmp_path / "one.txt").write_text(urls[0] + "\n")
        assert _crawl("--urls", tmp_path / "one.txt", "--out", out, *FAST, *NO_FILTERS).exit_code == 0
        # Make it what the old version left: its id "html5mediaembed-index-1", the other two pages dropped.
        keys = [url_key(u) for u in urls]
        with Ledger(out / LEDGER_NAME) as led:
            res = led.get(DOWNLOAD, keys[0]).result
            new_sid = res["source_id"]
            old_clips = led.get(CURATE, keys[0]).result["clips"]
            (out / "clips/internet" / new_sid).rename(out / "clips/internet/html5mediaembed-index-1")
            led.finish(DOWNLOAD, keys[0], {**res, "source_id": "html5mediaembed-index-1"})
            led.register(
                DOWNLOAD,
                {
                    k: {"url": u, "key": k, "entry": {"url": u}}
                    for k, u in zip(keys[1:], urls[1:], strict=True)
                },
            )
            for k in keys[1:]:
                led.finish(
                    DOWNLOAD, k, {"outcome": "filtered", "reason": "duplicate_source: already in the archive"}
                )
            led.set_meta(META_ORDER, keys)
            led.set_meta(META_SCHEME, None)
        (out / ARCHIVE_NAME).write_text("html5mediaembed index-1\n")
        (tmp_path / "u.txt").write_text("".join(u + "\n" for u in urls))
        res = _crawl("--urls", tmp_path / "u.txt", "--out", out, *FAST, *NO_FILTERS)
        assert res.exit_code == 0, res.output
        assert srv.hits("m0/clip.mp4") == 1  # the kept page's video is not downloaded again
    records = _status(out)
    assert [r["status"] for r in records] == ["done"] * 3 and len({r["source_id"] for r in records}) == 3
    assert records[0]["source_id"] == new_sid
    assert not (out / "clips/internet/html5mediaembed-index-1").exists()
    assert "html5mediaembed" not in (out / ARCHIVE_NAME).read_text()
    df = read_manifest(out)
    assert df["source_id"].nunique() == 3 and not df["source_id"].str.startswith("html5").any()
    assert {c["clip_id"] for c in old_clips} <= set(df["clip_id"])  # same source id, same clip ids


def test_folder_of_a_newer_scheme_is_refused(tmp_path):
    from ma_data.build import Ledger
    from ma_data.crawl.state import LEDGER_NAME
    from ma_data.crawl.upgrade import META_SCHEME

    out = tmp_path / "ds"
    with Ledger(out / LEDGER_NAME) as led:
        led.set_meta(META_SCHEME, 99)
    (tmp_path / "u.txt").write_text("http://127.0.0.1:9/v.mp4\n")
    res = _crawl("--urls", tmp_path / "u.txt", "--out", out, *FAST)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "newer mace-dance" in res.stderr


def test_proxy_credentials_are_used_and_not_stored(sources, tmp_path):
    out = tmp_path / "ds"
    proxy = f"http://carol:pr0xy@127.0.0.1:{_free_port()}"  # nobody listens: a used proxy fails the download
    with LoopbackServer({"v.mp4": sources["good_b.mp4"][0]}) as srv:
        (tmp_path / "u.txt").write_text(srv.url("v.mp4") + "\n")
        res = _crawl(
            "--urls", tmp_path / "u.txt", "--out", out, "--proxy", proxy, "--max-retries", "0", *FAST
        )
        assert srv.requests == []  # the request went to the (dead) proxy, not straight to the server
    (rec,) = _status(out)
    assert (rec["status"], rec["error_class"]) == ("failed", "network")
    texts = [res.output, json.dumps(rec)] + [
        p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()
    ]
    assert not any("pr0xy" in t for t in texts)
