"""Bring a crawl folder made by an older version up to today's identity rules (run at the start of a crawl).

Scheme 1 (before ``internet.id_scheme`` was recorded) named generic-family sources by their page's file
name or URL key, wrote ``<extractor> <file name>`` lines to the download archive, and had one row per URL.
Scheme 2 names every source by its media (:func:`ma_data.crawl.download.media_source_id`) and keys a row by
URL and window. The upgrade, done once and recorded in the ledger:

1. every verified download gets its scheme-2 source id (recomputed from the extractor, id and content hash
   it recorded; nothing is downloaded again); where the id changes, the old clips folder is deleted and
   the rows of that URL are curated again (new clip ids);
2. URLs filtered as ``duplicate_source`` go back to pending: under scheme 1 they may have been different
   videos sharing a file name. True duplicates are found again (site videos by the archive, without a
   download; generic ones after their download);
3. archive lines of the generic family are dropped (they named files, not media);
4. rows with a window are re-keyed by URL and window (their clips are made again, with the same ids when
   the source id did not change).

A folder whose ledger records a newer scheme than this version knows is refused with one line.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from ma_data.core.errors import MaceError
from ma_data.crawl.download import archive_id_for, is_generic_extractor, media_source_id
from ma_data.crawl.state import ARCHIVE_NAME, CURATE, DOWNLOAD, META_ORDER
from ma_data.crawl.urls import row_key

__all__ = ["ID_SCHEME", "META_SCHEME", "upgrade_ledger"]

log = logging.getLogger(__name__)

ID_SCHEME = 2
META_SCHEME = "internet.id_scheme"


def upgrade_ledger(led: Any, out: Path) -> None:
    """Upgrade the crawl state in ``led`` (the ledger of the folder ``out``) to :data:`ID_SCHEME`."""
    scheme = led.get_meta(META_SCHEME)
    if scheme == ID_SCHEME:
        return
    if isinstance(scheme, int) and scheme > ID_SCHEME:
        raise MaceError(
            f"{out}: crawled by a newer mace-dance (source id scheme {scheme}, this one knows "
            f"{ID_SCHEME}); upgrade mace-dance or crawl into another --out"
        )
    records = led.records(DOWNLOAD)
    if records:
        changed, rechecked, rekeyed = _upgrade_from_1(led, out, records)
        log.warning(
            "%s: crawl state upgraded to media-based source ids: %d source id(s) changed, "
            "%d duplicate(s) to re-check, %d windowed row(s) re-keyed",
            out,
            changed,
            rechecked,
            rekeyed,
        )
    led.set_meta(META_SCHEME, ID_SCHEME)


def _upgrade_from_1(led: Any, out: Path, records: list) -> tuple[int, int, int]:
    changed = rechecked = 0
    for rec in records:
        res = rec.result or {}
        if rec.status == "done" and res.get("outcome") == "downloaded" and res.get("sha256"):
            sid = media_source_id(res.get("extractor"), res.get("video_id"), res["sha256"])
            if sid == res.get("source_id"):
                continue
            if res.get("source_id"):
                shutil.rmtree(out / "clips" / "internet" / res["source_id"], ignore_errors=True)
            res = {
                **res,
                "source_id": sid,
                "archive_id": archive_id_for(res.get("extractor"), res.get("video_id")),
            }
            led.finish(DOWNLOAD, rec.item_id, res)
            led.reset(CURATE, [rec.item_id])  # scheme 1: the row of a URL is keyed by the URL
            changed += 1
        elif rec.status == "done" and str(res.get("reason", "")).startswith("duplicate_source"):
            led.reset(DOWNLOAD, [rec.item_id])
            rechecked += 1

    archive = out / ARCHIVE_NAME
    if archive.is_file():
        lines = archive.read_text(encoding="utf-8").splitlines()
        keep = [ln for ln in lines if ln.strip() and not is_generic_extractor(ln.split()[0])]
        if len(keep) != len([ln for ln in lines if ln.strip()]):
            archive.write_text("".join(f"{ln}\n" for ln in keep), encoding="utf-8")

    order = list(led.get_meta(META_ORDER, []))
    rekeyed = 0
    for i, key in enumerate(order):
        dl = led.get(DOWNLOAD, key)
        entry = ((dl.payload if dl is not None else None) or {}).get("entry") or {}
        if dl is None or (entry.get("start") is None and entry.get("end") is None):
            continue
        new = row_key(dl.payload["url"], entry.get("start"), entry.get("end"))
        led.register(CURATE, {new: {"url_key": key, "entry": {**entry, "key": new, "url_key": key}}})
        led.reset(CURATE, [key])  # the URL key now names the URL's row *without* a window
        order[i] = new
        rekeyed += 1
    led.set_meta(META_ORDER, order)
    return changed, rechecked, rekeyed
