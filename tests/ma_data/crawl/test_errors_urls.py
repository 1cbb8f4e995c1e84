"""Error classification, retry policy, URL manifest reader and deny list."""

from __future__ import annotations

import email.utils

import pytest

from ma_data.core.errors import FormatError
from ma_data.crawl.errors import (
    ClassifiedError,
    RetryPolicy,
    classify_exception,
    classify_message,
    parse_retry_after,
)
from ma_data.crawl.takedown import DenyList, load_deny_list
from ma_data.crawl.urls import read_url_manifest, url_key


class _Resp:
    def __init__(self, headers):
        self.headers = headers


class _HTTPError(Exception):
    def __init__(self, status, headers=None):
        super().__init__(f"HTTP Error {status}")
        self.status = status
        self.response = _Resp(headers or {})


class _Wrapped(Exception):
    """Like yt-dlp's DownloadError: the original exception sits in exc_info."""

    def __init__(self, msg, inner):
        super().__init__(msg)
        self.exc_info = (type(inner), inner, None)


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [(404, "not_found", False), (410, "not_found", False), (403, "forbidden", False),
     (429, "rate_limited", True), (503, "server_error", True), (500, "server_error", True)],
)  # fmt: skip
def test_http_status_classes(status, cls, retryable):
    err = classify_exception(_Wrapped("ERROR: [generic] x: Unable to download webpage", _HTTPError(status)))
    assert err.error_class == cls and err.retryable is retryable and err.http_status == status


def test_retry_after_from_headers_and_dates():
    err = classify_exception(_Wrapped("ERROR: boom", _HTTPError(429, {"Retry-After": "7"})))
    assert err.retry_after_s == 7.0
    when = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert parse_retry_after(when, now=1_000_000.0) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("msg", "cls"),
    [
        ("ERROR: [youtube] abc: Sign in to confirm you're not a bot", "bot_check"),
        ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access", "not_found"),
        ("ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader", "not_found"),
        ("ERROR: [youtube] abc: Requested format is not available", "format_unavailable"),
        ("ERROR: \r[download] Got error: 25669 bytes read, 25670 more expected", "truncated"),
        ("ERROR: Unsupported URL: http://example.com/", "unsupported"),
        ("ERROR: <urlopen error [Errno 111] Connection refused>", "network"),
        ("ERROR: The read operation timed out", "network"),
        ("something odd", "unknown"),
    ],
)
def test_message_classes(msg, cls):
    assert classify_message(msg) == cls
    assert classify_exception(RuntimeError(msg)).error_class == cls


def test_backoff_is_exponential_and_honours_retry_after():
    pol = RetryPolicy(max_retries=3, backoff_s=1.0, jitter=0.0, max_backoff_s=5.0, max_retry_after_s=60.0)
    assert [pol.delay(k) for k in range(4)] == [1.0, 2.0, 4.0, 5.0]
    assert pol.delay(0, ClassifiedError("rate_limited", "", retry_after_s=9.0)) == 9.0
    assert pol.delay(0, ClassifiedError("rate_limited", "", retry_after_s=900.0)) == 60.0
    assert pol.delay(2, ClassifiedError("rate_limited", "", retry_after_s=0.5)) == 4.0
    net = ClassifiedError("network", "")
    assert pol.should_retry(net, 1) and pol.should_retry(net, 3) and not pol.should_retry(net, 4)
    assert not pol.should_retry(ClassifiedError("not_found", ""), 1)


def test_url_manifest_csv_and_parquet(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text(
        "# comment\nurl,start,end,genre,license,creator,extra\n"
        "https://Example.com/v?id=1,1.5,9,Jazz,CC-BY,ann,x\n"
        "https://example.com/v?id=1#t=3,,,,,,\n"
        "http://example.com/b.mp4,,,,,,\n"
    )
    rows = read_url_manifest(p)
    # the same URL with another window (none) is another row; both use one download
    assert [r.url for r in rows] == [
        "https://Example.com/v?id=1",
        "https://example.com/v?id=1#t=3",
        "http://example.com/b.mp4",
    ]
    assert (
        rows[0].start == 1.5 and rows[0].end == 9.0 and rows[0].genre == "Jazz" and rows[0].creator == "ann"
    )
    assert rows[0].url_key == rows[1].url_key == url_key("https://example.com/v?id=1")
    assert rows[1].key == rows[1].url_key and rows[0].key != rows[1].key and rows[0].key.isalnum()
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = tmp_path / "urls.txt"
    plain.write_text("# my list\nhttp://127.0.0.1:8000/a.mp4\nhttp://127.0.0.1:8000/b.mp4,,,Jazz\n")
    assert [(r.url, r.genre) for r in read_url_manifest(plain)] == [
        ("http://127.0.0.1:8000/a.mp4", None),
        ("http://127.0.0.1:8000/b.mp4", "Jazz"),
    ]
    js = tmp_path / "u.json"
    js.write_text('["https://a.org/1", {"url": "https://a.org/2", "genre": "Dai"}]')
    assert [(r.url, r.genre) for r in read_url_manifest(js)] == [
        ("https://a.org/1", None),
        ("https://a.org/2", "Dai"),
    ]
    pq.write_table(pa.table({"url": ["https://a.org/x"], "genre": ["Dai"]}), tmp_path / "u.parquet")
    assert read_url_manifest(tmp_path / "u.parquet")[0].genre == "Dai"


@pytest.mark.parametrize(
    ("body", "msg"),
    [("genre\nJazz\n", "needs a 'url' column"), ("url\nftp://x/y\n", "http"),
     ("url,start,end\nhttps://a/b,5,3\n", "must be after"), ("url,start\nhttps://a/b,soon\n", "seconds")],
)  # fmt: skip
def test_url_manifest_errors_name_the_file(tmp_path, body, msg):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(FormatError, match=msg) as ei:
        read_url_manifest(p)
    assert str(p) in str(ei.value)


def test_deny_list_forms(tmp_path):
    f = tmp_path / "deny.txt"
    f.write_text(
        "# takedowns\nhttps://www.youtube.com/watch?v=AAA  # asked 2025\ndomain:bad.example\n"
        "id:youtube:BBB\nsource:tiktok-123\ncreator:Some Channel\n"
    )
    deny = load_deny_list([f], include_default=False)
    assert len(deny) == 5
    assert deny.check_url("https://WWW.youtube.com/watch?v=AAA")
    assert deny.check_url("https://cdn.bad.example/v.mp4") and not deny.check_url("https://notbad.example/")
    assert deny.check("https://youtu.be/BBB", extractor="Youtube", video_id="BBB")
    assert deny.check("https://x/y", source_id="tiktok-123")
    assert deny.check("https://x/y", creators=[None, "some channel"])
    assert deny.check("https://x/y", extractor="youtube", video_id="CCC") is None
    with pytest.raises(FormatError, match="cannot parse"):
        DenyList().add_line("whatever")
    # the packaged list parses
    load_deny_list()
