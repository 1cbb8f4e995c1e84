"""URL normal form, row identity (URL + window), credentials and byte-order marks in the URL manifest reader."""

from __future__ import annotations

import logging

import pytest

from ma_data.core.errors import FormatError
from ma_data.crawl.takedown import load_deny_list
from ma_data.crawl.urls import normalize_url, read_url_manifest, url_key

CANON = "http://127.0.0.1:8000/v/denied.mp4"


@pytest.mark.parametrize(
    "written",
    [
        "http://127.0.0.1:8000/v/./denied.mp4",
        "http://127.0.0.1:8000/v/x/../denied.mp4",
        "http://localhost:8000/v/denied.mp4",
        "http://LocalHost.:8000/v/denied.mp4",
        "http://[::1]:8000/v/denied.mp4",
        "HTTP://127.0.0.1:8000/v/%64enied.mp4",
        "http://127.0.0.1:8000/%76/denied%2Emp4#t=3",
        "http://user:pw@127.0.0.1:8000/v/denied.mp4",
    ],
)
def test_every_written_form_of_a_url_is_one_url(written):
    assert normalize_url(written) == CANON
    assert url_key(written) == url_key(CANON)


def test_normal_form_keeps_what_changes_the_resource():
    assert normalize_url("https://Example.COM:443") == "https://example.com/"
    assert normalize_url("http://example.com:80/a") == normalize_url("http://example.com/a")
    assert normalize_url("http://example.com:8080/a") == "http://example.com:8080/a"
    assert normalize_url("http://h.org/a%2fb") == "http://h.org/a%2Fb"  # an escaped slash is not a slash
    assert normalize_url("http://h.org/a b?q=%3a") == "http://h.org/a%20b?q=%3A"
    assert normalize_url("http://h.org/a?x=1&y=2") != normalize_url("http://h.org/a?y=2&x=1")
    assert normalize_url("http://h.org/A") != normalize_url("http://h.org/a")  # paths are case-sensitive
    assert normalize_url("http://h.org/a/b/..") == "http://h.org/a/"
    assert normalize_url("http://127.0.0.2/") != normalize_url("http://127.0.0.1/")


def test_deny_list_entry_matches_every_form(tmp_path):
    deny_file = tmp_path / "deny.txt"
    deny_file.write_text("\ufeffhttp://localhost:8000/v/./denied.mp4\n", encoding="utf-8")  # BOM, other form
    deny = load_deny_list([deny_file], include_default=False)
    for form in ("http://127.0.0.1:8000/v/%64enied.mp4", "http://[::1]:8000/v/x/../denied.mp4#f"):
        assert deny.check_url(form) == "takedown: url"
    assert deny.check_url("http://127.0.0.1:8000/v/other.mp4") is None
    deny.add_line("domain:LOCALHOST.")
    assert deny.check_url("http://[::1]:9/x") == "takedown: domain 127.0.0.1"
    deny.add_line("domain:Example.ORG")
    assert deny.check_url("https://cdn.example.org./v") and not deny.check_url(
        "https://example.org.evil.net/"
    )


def test_rows_are_url_and_window(tmp_path, caplog):
    p = tmp_path / "u.csv"
    p.write_text(
        "url,start,end,genre\n"
        "http://127.0.0.1:8000/v.mp4,0,5.5,Jazz\n"
        "http://127.0.0.1:8000/v.mp4,7.5,,Jazz\n"
        "http://localhost:8000/./v.mp4,0,5.5,Pop\n"  # the first row again, written differently
        "http://127.0.0.1:8000/v.mp4,,,\n"
    )
    with caplog.at_level(logging.WARNING, logger="ma_data.crawl.urls"):
        rows = read_url_manifest(p)
    assert [(r.start, r.end, r.genre) for r in rows] == [
        (0.0, 5.5, "Jazz"),
        (7.5, None, "Jazz"),
        (None, None, None),
    ]
    assert len({r.key for r in rows}) == 3 and len({r.url_key for r in rows}) == 1
    assert rows[2].key == rows[2].url_key  # a row without a window is keyed by its URL alone
    # the exact repeat is read once, and the warning names both lines
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"{p}:4" in warning and f"{p}:2" in warning


def test_credentials_never_leave_the_reader(tmp_path):
    p = tmp_path / "u.txt"
    p.write_text("http://alice:s3cret@127.0.0.1:8000/v.mp4\nhttps://bob@example.com/w\n")
    rows = read_url_manifest(p)
    assert [r.url for r in rows] == ["http://127.0.0.1:8000/v.mp4", "https://example.com/w"]
    assert rows[0].fetch_url == "http://alice:s3cret@127.0.0.1:8000/v.mp4"  # for the download only
    assert all("s3cret" not in s for s in (repr(rows[0]), str(rows[0].to_dict())))
    bad = tmp_path / "bad.csv"
    bad.write_text("url\nftp://alice:s3cret@host/x\n")
    with pytest.raises(FormatError) as ei:
        read_url_manifest(bad)
    assert "s3cret" not in str(ei.value) and f"{bad}:2" in str(ei.value)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("u.csv", "url,genre\nhttps://a.org/1,Jazz\n"),
        ("u.tsv", "url\tgenre\nhttps://a.org/1\tJazz\n"),
        ("u.txt", "https://a.org/1,,,Jazz\n"),
        ("u.json", '[{"url": "https://a.org/1", "genre": "Jazz"}]'),
    ],
)
def test_byte_order_mark_is_not_part_of_the_data(tmp_path, name, body):
    p = tmp_path / name
    p.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert [(r.url, r.genre) for r in read_url_manifest(p)] == [("https://a.org/1", "Jazz")]


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        ('["https://a.org/1", 5]', "row 2: expected a URL string or an object"),
        ('{"urls": ["https://a.org/1", null]}', "row 2: expected a URL string or an object"),
        ('[["https://a.org/1"]]', "row 1: expected a URL string or an object"),
        ('[{"url": "https://a.org/1", "start": [1]}]', "row 1: column 'start' must be seconds"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON"),
    ],
)
def test_bad_json_rows_are_named(tmp_path, body, msg):
    p = tmp_path / "u.json"
    p.write_text(body)
    with pytest.raises(FormatError) as ei:
        read_url_manifest(p)
    assert str(p) in str(ei.value) and msg in str(ei.value) and "\n" not in str(ei.value)


def test_not_utf8_is_named(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes(b"url\nhttps://a.org/\xff\n")
    with pytest.raises(FormatError, match="not UTF-8"):
        read_url_manifest(p)
