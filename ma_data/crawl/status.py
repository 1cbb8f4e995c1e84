"""Per-URL fate of a crawl, read from the ledger: ``done``, ``filtered``, ``failed`` or ``pending``.

A URL is ``done`` when at least one of its clips is in the manifest; ``filtered`` when a policy dropped it
(takedown, duplicate, too long/large, static, no single performer, no shot of 5 s, duplicate clips);
``failed`` when downloading or curating it failed (with the error class); ``pending`` otherwise.
"""

from __future__ import annotations

from pathlib import Path

from ma_data.build import Ledger
from ma_data.core.errors import FormatError

__all__ = ["STATUS_VALUES", "crawl_status"]

STATUS_VALUES = ("done", "filtered", "failed", "pending")


def crawl_status(out_dir: str | Path, ledger: Ledger | None = None) -> list[dict]:
    """One record per URL (in URL-manifest order): url, status, reason, error_class, attempts, ..."""
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
    order += sorted(k for k in known if k not in order)
    dropped = led.get_meta(META_DROPPED, {}) or {}
    retry_due = led.get_meta(META_RETRY, {}) or {}
    records = []
    for key in order:
        dl = known.get(key)
        if dl is None:
            continue
        rec = {
            "url": dl.payload.get("url"),
            "key": key,
            "status": "pending",
            "reason": None,
            "error_class": None,
            "error": None,
            "attempts": dl.attempts,
            "source_id": None,
            "n_clips": 0,
        }
        res = dl.result or {}
        if dl.status == "failed" and key in retry_due:  # a retry is scheduled (or was, when a run was killed)
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
                    clips = [c["clip_id"] for c in cres.get("clips", [])]
                    kept = [c for c in clips if c not in dropped]
                    if cres.get("decision") != "kept":
                        rec.update(status="filtered", reason=cres.get("reason"))
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
