"""Per-row fate of a crawl, read from the ledger: ``done``, ``filtered``, ``failed`` or ``pending``.

A row is a URL of the URL manifest with its optional window (two windows of one URL are two rows sharing one
download). A row is ``done`` when at least one of its clips is in the manifest; ``filtered`` when a policy dropped it
(takedown, duplicate, too long/large, static, no single performer, no shot of 5 s, duplicate clips);
``failed`` when downloading or curating it failed (with the error class); ``pending`` otherwise.
"""

from __future__ import annotations

from pathlib import Path

from ma_data.build import Ledger
from ma_data.core.errors import FormatError
from ma_data.crawl.rows import row_clips, row_downloads, row_entry

__all__ = ["STATUS_VALUES", "crawl_status"]

STATUS_VALUES = ("done", "filtered", "failed", "pending")


def crawl_status(out_dir: str | Path, ledger: Ledger | None = None) -> list[dict]:
    """One record per row of the URL manifest (in manifest order): url, window (start, end), status,
    reason, error_class, attempts (of its URL's download), source_id, n_clips. Credentials never appear:
    the ledger holds URLs without them."""
    from ma_data.crawl.state import CURATE, DOWNLOAD, LEDGER_NAME, META_DROPPED, META_ORDER, META_RETRY

    out = Path(out_dir)
    if ledger is None:
        path = out / LEDGER_NAME
        if not path.is_file():
            raise FormatError(f"{out}: no crawl here (missing {LEDGER_NAME})")
        with Ledger(path) as led:
            return crawl_status(out, led)
    led = ledger
    order = list(led.get_meta(META_ORDER, []))
    known = {r.item_id: r for r in led.records(DOWNLOAD)}
    downloads = row_downloads(led, order)
    named = set(downloads.values())
    extra = sorted(k for k in known if k not in named and k not in downloads)
    order += extra
    downloads.update({k: k for k in extra})
    row_clip_lists = row_clips(led, order, downloads)
    dropped = led.get_meta(META_DROPPED, {}) or {}
    retry_due = led.get_meta(META_RETRY, {}) or {}
    records = []
    for key in order:
        ukey = downloads[key]
        dl = known.get(ukey)
        if dl is None:
            continue
        entry = row_entry(led, key, ukey)
        rec = {
            "url": dl.payload.get("url"),
            "key": key,
            "url_key": ukey,
            "start": entry.get("start"),
            "end": entry.get("end"),
            "status": "pending",
            "reason": None,
            "error_class": None,
            "error": None,
            "attempts": dl.attempts,
            "source_id": None,
            "n_clips": 0,
        }
        res = dl.result or {}
        if (
            dl.status == "failed" and ukey in retry_due
        ):  # a retry is scheduled (or was, when a run was killed)
            rec.update(error_class=dl.error_class, error=dl.error, reason=f"retrying after {dl.error_class}")
        elif dl.status == "failed":
            rec.update(status="failed", error_class=dl.error_class, error=dl.error, reason=dl.error_class)
        elif dl.status == "done":
            rec["source_id"] = res.get("source_id")
            if res.get("outcome") == "filtered":
                rec.update(status="filtered", reason=res.get("reason"))
            else:
                cur = led.get(CURATE, key)
                if cur is None or cur.status in ("pending", "running"):
                    rec.update(status="pending", reason="downloaded; curation pending")
                elif cur.status == "failed":
                    rec.update(
                        status="failed", error_class=cur.error_class, error=cur.error, reason=cur.error_class
                    )
                else:
                    cres = cur.result or {}
                    mine = row_clip_lists.get(key, [])
                    kept = [c for c in mine if c["clip_id"] not in dropped]
                    if cres.get("decision") != "kept":
                        rec.update(status="filtered", reason=cres.get("reason"))
                    elif not mine:
                        reason = (
                            "duplicate_window: its clips repeat those of an earlier row of the same video"
                        )
                        rec.update(status="filtered", reason=reason)
                    elif not kept:
                        rec.update(
                            status="filtered", reason="duplicate_clips: near-duplicates of another source"
                        )
                    else:
                        rec.update(status="done", n_clips=len(kept))
        elif dl.error_class:  # pending/running after an earlier failed attempt (a retry is due)
            rec.update(error_class=dl.error_class, error=dl.error, reason=f"retrying after {dl.error_class}")
        records.append(rec)
    return records
