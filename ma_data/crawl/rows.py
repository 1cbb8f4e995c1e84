"""Rows of the URL manifest in the ledger: which download each row uses, and which clips each row gives.

A row is a URL plus an optional window (:mod:`ma_data.crawl.urls`). Its download is the ``internet.download``
item of its URL's key (shared by every row of that URL); its curation is the ``internet.curate`` item of the
row's own key, registered with ``{"url_key": ..., "entry": ...}`` as soon as the row is read. Ledgers of
older versions have one row per URL, keyed by the URL key, so a row without a recorded ``url_key`` is its
URL's key.

Shared by the pipeline (manifest rows) and ``ma-data status`` (each row's fate), so both count alike.
"""

from __future__ import annotations

from typing import Any

from ma_data.crawl.state import CURATE, DOWNLOAD

__all__ = ["ROW_FIELDS", "row_clips", "row_downloads", "row_entry"]

ROW_FIELDS = ("start", "end", "genre", "license", "creator")


def row_downloads(led: Any, rows: list[str]) -> dict[str, str]:
    """Row key -> the key of the download it uses."""
    payloads = {r.item_id: r.payload or {} for r in led.records(CURATE)}
    return {k: payloads.get(k, {}).get("url_key") or k for k in rows}


def row_entry(led: Any, row: str, url_key: str) -> dict:
    """The row's manifest fields (start, end, genre, license, creator) as first recorded."""
    cur = led.get(CURATE, row)
    payload = (cur.payload if cur is not None else None) or {}
    if "entry" in payload:
        return dict(payload["entry"])
    if "url" in payload:  # an older version's curation payload: the fields sit at its top level
        entry = {k: payload.get(k) for k in ROW_FIELDS}
    else:
        dl = led.get(DOWNLOAD, url_key)
        entry = dict(((dl.payload if dl is not None else None) or {}).get("entry") or {})
    if row == url_key:  # a row keyed by its URL alone has no window (older windowed rows were re-keyed)
        entry.update(start=None, end=None)
    return entry


def row_clips(led: Any, order: list[str], downloads: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Each row's clips before the perceptual dedupe across sources: the row is curated and kept, its download
    is still a download (not since filtered), and a clip an earlier row of the same source already gave (the
    same clip id, or overlapping frames: two windows of one video) is left to that row."""
    downloads = downloads or row_downloads(led, order)
    taken: dict[str, list[tuple[int, int]]] = {}  # source id -> frame spans of clips of earlier rows
    seen: set[str] = set()
    out: dict[str, list[dict]] = {}
    for key in order:
        rec = led.get(CURATE, key)
        if rec is None or rec.status != "done" or not rec.result or rec.result.get("decision") != "kept":
            continue
        dl = led.get(DOWNLOAD, downloads.get(key, key))
        if dl is None or dl.status != "done" or (dl.result or {}).get("outcome") != "downloaded":
            continue
        clips = []
        for c in rec.result["clips"]:
            spans = taken.get(c["source_id"], [])
            if c["clip_id"] in seen or any(a < c["end_frame"] and c["start_frame"] < b for a, b in spans):
                continue
            clips.append(c)
        for c in clips:
            seen.add(c["clip_id"])
            taken.setdefault(c["source_id"], []).append((c["start_frame"], c["end_frame"]))
        out[key] = clips
    return out
