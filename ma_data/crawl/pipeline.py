"""The crawl: URL manifest -> downloads (with our retry policy) -> curation -> the MA-Data manifest.

Everything goes through the shared build ledger (``<out>/.build/ledger.sqlite``) and executors, under the
folder's lock (:func:`ma_data.build.lock_root`; ``ma-data build`` holds it when it runs the crawl):

* stage ``internet.download`` — one item per distinct URL (key = hash of the normalised URL; rows of one
  URL with different windows share it). Attempts are scheduled by this driver in rounds: a retryable
  failure (429, 5xx, network, deadline, truncated) is put back with exponential backoff, or the server's
  Retry-After when longer; a final one (404, private, forbidden, bot check, corrupt) is recorded as failed
  at once. Concurrency is capped (``max_concurrent_downloads``).
* dedupe by source: URLs resolving to the same media (site extractor id, or content hash for generic pages;
  optionally also byte-identical files of site videos) keep only the first.
* stage ``internet.curate`` — one item per row of the URL manifest, i.e. per URL and window (shots,
  filters, windows, clips). A clip an earlier row of the same video already gave is left to that row.
* finalise — perceptual-hash dedupe across sources, source-grouped splits, ``manifest.parquet`` rows of
  subset ``internet`` (rows of other subsets already in the manifest are kept as they are). The file is only
  rewritten when its content changes.

A re-run skips everything done, downloads nothing again and leaves the manifest untouched; failed URLs are
retried only with ``retry_failed=True``. The deny list is applied on every run, also to finished sources.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ma_data.build import Ledger, lock_root, make_executor, run_stage, sweep_temp_files
from ma_data.core.errors import MaceError
from ma_data.core.executors import check_ray_address
from ma_data.crawl.download import DownloadOptions, download_attempt
from ma_data.crawl.errors import ClassifiedError, RetryPolicy
from ma_data.crawl.rows import row_clips, row_downloads, row_entry
from ma_data.crawl.state import (
    ARCHIVE_NAME,
    CURATE,
    DOWNLOAD,
    LEDGER_NAME,
    META_CONFIG,
    META_DROPPED,
    META_ORDER,
    META_RETRY,
    RAW_DIR,
)
from ma_data.crawl.takedown import load_deny_list
from ma_data.crawl.upgrade import upgrade_ledger
from ma_data.crawl.urls import UrlEntry, read_url_manifest, redact_text, redact_url
from ma_data.curation.curate import CurationConfig, curate_source, quiet_av_logs
from ma_data.curation.dedupe import find_duplicates

__all__ = [
    "CURATE",
    "DOWNLOAD",
    "CrawlConfig",
    "CrawlSummary",
    "crawl",
    "internet_rows",
    "split_for_source",
]

log = logging.getLogger(__name__)

SPLITS = (("train", 0.90), ("val", 0.05), ("test", 0.05))


@dataclass
class CrawlConfig:
    """The runtime configuration. Users set it through :class:`ma_data.crawl.settings.CrawlSettings` (flags
    and YAML); this is its composition into the parts' own option objects."""

    download: DownloadOptions = field(default_factory=DownloadOptions)
    curation: CurationConfig = field(default_factory=CurationConfig)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_concurrent_downloads: int = 2
    executor: str = "process"
    workers: int | None = None
    ray_address: str | None = None
    deny_lists: tuple[str, ...] = ()
    retry_failed: bool = False
    split_seed: int = 0
    # Byte-identical downloads of *site* videos with different ids (one file on two sites) count as one
    # source. Off by default: the perceptual clip dedupe still applies. Generic pages are always one source
    # per content hash (their source id is that hash).
    dedupe_identical_files: bool = False


@dataclass
class CrawlSummary:
    out_dir: str
    n_urls: int
    counts: dict[str, int]
    n_clips: int
    manifest_changed: bool
    n_download_attempts: int
    rows: list[dict] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("rows")
        return d


def split_for_source(source_id: str, seed: int = 0) -> str:
    """Deterministic split of a source (all its clips share it): 90/5/5 by a hash of the id."""
    u = int.from_bytes(hashlib.sha256(f"{seed}:{source_id}".encode()).digest()[:8], "big") / 2**64
    acc = 0.0
    for name, p in SPLITS:
        acc += p
        if u < acc:
            return name
    return SPLITS[-1][0]


# -- download rounds ----------------------------------------------------------------------------------------
def _download_payload(e: UrlEntry, out: Path, cfg: CrawlConfig) -> dict:
    """What the download of ``e``'s URL needs (stored in the ledger: no credentials, see ``fetch_url``)."""
    return {
        "url": e.url,
        "key": e.url_key,
        "entry": e.to_dict(),
        "raw_dir": str(out / RAW_DIR),
        "archive_path": str(out / ARCHIVE_NAME),
        "deny_lists": [str(p) for p in cfg.deny_lists],
        "options": {**cfg.download.to_dict(), "proxy": redact_url(cfg.download.proxy or "") or None},
        "creator": e.creator,
        "creators": [e.creator] if e.creator else [],
    }


def _append_archive(out: Path, line: str | None) -> None:
    path = out / ARCHIVE_NAME
    known = set(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else set()
    if line and line not in known:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def _run_downloads(
    led: Ledger,
    todo: dict[str, dict],
    cfg: CrawlConfig,
    out: Path,
    sleep: Callable[[float], None],
    fetch_urls: dict[str, str] | None = None,
) -> int:
    """Download ``todo`` (key -> payload) in rounds with backoff; returns the number of attempts made.

    ``fetch_urls``: key -> URL with credentials, added to a payload (like a proxy URL with credentials)
    only when it is handed to a worker: the ledger, logs and status never see them."""
    fetch_urls = fetch_urls or {}
    proxy = cfg.download.proxy
    secret = {"secret_options": {"proxy": proxy}} if proxy and redact_url(proxy) != proxy else {}

    def dispatch(k: str) -> dict:
        return {**todo[k], **secret, **({"fetch_url": fetch_urls[k]} if k in fetch_urls else {})}

    rng = random.Random(0)
    workers = max(1, min(cfg.max_concurrent_downloads, cfg.workers or cfg.max_concurrent_downloads))
    # Downloads are network-bound and capped for politeness: a small local pool (Ray keeps the curation, the
    # CPU-heavy part; the raw files must be on storage the Ray workers share, as every build output is).
    name = "process" if cfg.executor == "ray" else cfg.executor
    name = name if len(todo) > 1 else "serial"  # one URL: no pool start-up
    # A retry that is scheduled survives a killed driver: the next run picks it up (not only --retry-failed)
    # and still waits until it is due.
    retry_due: dict[str, float] = dict(led.get_meta(META_RETRY, {}) or {})
    now_wall, now_mono = time.time(), time.monotonic()
    ready = sorted(k for k in todo if retry_due.get(k, 0.0) <= now_wall)
    waiting: list[tuple[float, str]] = [
        (now_mono + retry_due[k] - now_wall, k) for k in todo if k not in ready
    ]
    heapq.heapify(waiting)
    n_attempts = 0

    def set_due(key: str, when: float | None) -> None:
        if when is None:
            retry_due.pop(key, None)
        else:
            retry_due[key] = when
        led.set_meta(META_RETRY, retry_due)

    with make_executor(name, workers=workers) as ex:
        while ready or waiting:
            if not ready:
                due, key = heapq.heappop(waiting)
                sleep(max(0.0, due - time.monotonic()))
                ready = [key]
                while waiting and waiting[0][0] <= time.monotonic():
                    ready.append(heapq.heappop(waiting)[1])
                continue

            def feed(batch: list[str] = ready):
                for k in batch:
                    led.start(DOWNLOAD, k)
                    yield k, dispatch(k)

            batch, ready = ready, []
            for key, outcome in ex.imap_unordered(download_attempt, feed(batch)):
                n_attempts += 1
                res = outcome.value if outcome.ok else None
                if res is None:  # the attempt itself never raises: this is a crashed or broken worker
                    cls = "worker_crashed" if outcome.error_class == "WorkerCrashed" else "unknown"
                    res = {
                        "outcome": "failed",
                        "error_class": cls,
                        "error": f"{outcome.error_class}: {outcome.error}",
                    }
                if res["outcome"] in ("downloaded", "filtered"):
                    led.finish(DOWNLOAD, key, res)
                    if res["outcome"] == "downloaded":
                        _append_archive(out, res.get("archive_id", ""))
                    if key in retry_due:
                        set_due(key, None)
                    continue
                message = redact_text(res.get("error") or "")  # a crashed worker's message is unchecked text
                err = ClassifiedError(res["error_class"], message, res.get("retry_after_s"))
                led.fail(DOWNLOAD, key, err.error_class, err.message)
                attempts = led.get(DOWNLOAD, key).attempts
                if cfg.retry.should_retry(err, attempts):
                    delay = cfg.retry.delay(attempts - 1, err, rng)
                    log.info("%s: %s, retry %d in %.2fs", todo[key]["url"], err.error_class, attempts, delay)
                    heapq.heappush(waiting, (time.monotonic() + delay, key))
                    set_due(key, time.time() + delay)
                else:
                    if key in retry_due:
                        set_due(key, None)
                    log.warning(
                        "%s: failed (%s) after %d attempt(s)", todo[key]["url"], err.error_class, attempts
                    )
    return n_attempts


# -- dedupe and takedown on finished downloads -------------------------------------------------------------
def _dedupe_sources(led: Ledger, order: list[str], out: Path, by_sha: bool) -> None:
    """Later URLs that resolve to an already-kept source id (or, with ``by_sha``, file hash) become
    ``duplicate_source``."""
    seen_id: dict[str, str] = {}
    seen_sha: dict[str, str] = {}
    for key in order:
        rec = led.get(DOWNLOAD, key)
        if rec is None or rec.status != "done" or rec.result.get("outcome") != "downloaded":
            continue
        res = rec.result
        first = seen_id.get(res["source_id"]) or (seen_sha.get(res["sha256"]) if by_sha else None)
        if first is None:
            seen_id[res["source_id"]] = rec.payload["url"]
            seen_sha[res["sha256"]] = rec.payload["url"]
            continue
        led.finish(
            DOWNLOAD,
            key,
            {
                "outcome": "filtered",
                "reason": f"duplicate_source: same video as {first}",
                "source_id": res["source_id"],
                "sha256": res["sha256"],
            },
        )
        _remove_raw(out, key)


def _remove_raw(out: Path, key: str) -> None:
    for p in (out / RAW_DIR).glob(f"{key}.*"):
        p.unlink(missing_ok=True)


def _apply_takedowns(led: Ledger, deny, out: Path, rows_of: dict[str, list[str]]) -> None:
    """Deny-listed items become ``filtered`` (takedown) whatever they were; their files are deleted.

    ``rows_of``: URL key -> keys of the rows curated from that download."""
    for rec in led.records(DOWNLOAD):
        res = rec.result or {}
        creators = (*(rec.payload.get("creators") or [rec.payload.get("entry", {}).get("creator")]),)
        if res.get("outcome") == "filtered" and str(res.get("reason", "")).startswith("takedown"):
            reason = res["reason"]
        else:
            reason = deny.check(
                rec.payload["url"],
                extractor=res.get("extractor"),
                video_id=res.get("video_id"),
                source_id=res.get("source_id"),
                creators=(*creators, res.get("uploader")),
            )
            if not reason:
                continue
            led.finish(
                DOWNLOAD,
                rec.item_id,
                {"outcome": "filtered", "reason": reason, "source_id": res.get("source_id")},
            )
        _remove_raw(out, rec.item_id)
        for row in rows_of.get(rec.item_id, [rec.item_id]):
            cur = led.get(CURATE, row)
            if cur is None or not cur.result or not cur.result.get("clips"):
                continue
            sid = cur.result.get("source_id")
            if sid:
                shutil.rmtree(out / "clips" / "internet" / sid, ignore_errors=True)
            led.finish(CURATE, row, {"decision": "filtered", "reason": reason, "clips": [], "source_id": sid})


# -- manifest -----------------------------------------------------------------------------------------------
_EXTRA_KEYS = ("phash", "shot_index", "creator")


def internet_rows(
    led: Ledger, order: list[str], split_seed: int, dedupe: bool = True
) -> tuple[list[dict], dict]:
    """Manifest rows of every kept clip, in URL-manifest row order, after perceptual dedupe; and the dropped
    clips."""
    rows = [c for clips in row_clips(led, order).values() for c in clips]
    dropped = (
        find_duplicates([(r["clip_id"], r["source_id"], r.get("phash") or []) for r in rows])
        if dedupe
        else {}
    )
    out = []
    for r in rows:
        if r["clip_id"] in dropped:
            continue
        r = dict(r)
        prov = json.loads(r.get("provenance") or "{}")
        prov["creator"] = r.get("creator")
        prov["phash"] = r.get("phash")
        r["provenance"] = json.dumps(prov, sort_keys=True)
        r["split"] = split_for_source(r["source_id"], split_seed)
        for k in _EXTRA_KEYS:
            r.pop(k, None)
        out.append(r)
    return out, dropped


def _write_manifest_if_changed(out: Path, rows: list[dict]) -> bool:
    from ma_data.manifest import COLUMNS, MANIFEST_NAME, rows_of_other_subsets, write_manifest

    path = out / MANIFEST_NAME
    names = [c[0] for c in COLUMNS]
    others = rows_of_other_subsets(path, {"internet"})
    old_rows = [r for r in rows_of_other_subsets(path, set()) if r["subset"] == "internet"]
    new_rows = [{n: r.get(n) for n in names} for r in rows]
    key = lambda r: r["clip_id"]  # noqa: E731
    if path.is_file() and sorted(old_rows, key=key) == sorted(new_rows, key=key):
        return False
    write_manifest(path, others + new_rows)
    return True


# -- the crawl ---------------------------------------------------------------------------------------------
def _config_hash(cfg: CrawlConfig) -> str:
    return hashlib.sha256(json.dumps(cfg.curation.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def crawl(
    urls: str | Path,
    out_dir: str | Path,
    config: CrawlConfig | None = None,
    sleep: Callable[[float], None] = time.sleep,
    ledger: Ledger | None = None,
    write_manifest: bool = True,
) -> CrawlSummary:
    """Crawl the URL manifest ``urls`` into the dataset at ``out_dir`` (see the module docstring).

    ``ledger``: an open ledger to use (``ma-data build`` passes its own, and holds the folder's lock);
    ``write_manifest=False`` leaves the manifest to the caller, which gets the rows in ``CrawlSummary.rows``.
    Without ``ledger`` the crawl takes the folder's lock and refuses to run beside another build or crawl.
    """
    cfg = config or CrawlConfig()
    out = Path(out_dir)
    entries = read_url_manifest(urls)
    if not entries:
        raise MaceError(f"{urls}: no URLs")
    deny = load_deny_list(cfg.deny_lists)
    if cfg.executor == "ray":
        check_ray_address(cfg.ray_address)  # before any download, not after them
    out.mkdir(parents=True, exist_ok=True)
    if ledger is not None:
        return _crawl(entries, out, cfg, deny, sleep, ledger, write_manifest)
    with lock_root(out, "ma-data crawl"), Ledger(out / LEDGER_NAME) as led:
        return _crawl(entries, out, cfg, deny, sleep, led, write_manifest)


def _crawl(
    entries: list[UrlEntry],
    out: Path,
    cfg: CrawlConfig,
    deny,
    sleep: Callable[[float], None],
    led: Ledger,
    write_manifest: bool,
) -> CrawlSummary:
    (out / RAW_DIR).mkdir(parents=True, exist_ok=True)
    quiet_av_logs()
    sweep_temp_files(out / "clips" / "internet")
    upgrade_ledger(led, out)

    order = list(led.get_meta(META_ORDER, []))
    for e in entries:
        if e.key not in order:
            order.append(e.key)
    led.set_meta(META_ORDER, order)
    payloads: dict[str, dict] = {}
    fetch_urls: dict[str, str] = {}
    for e in entries:
        p = payloads.setdefault(e.url_key, _download_payload(e, out, cfg))
        if e.creator and e.creator not in p["creators"]:
            p["creators"].append(e.creator)
        if e.fetch_url:
            fetch_urls.setdefault(e.url_key, e.fetch_url)
    led.register(DOWNLOAD, payloads)
    led.register(CURATE, {e.key: {"url_key": e.url_key, "entry": e.to_dict()} for e in entries})
    downloads = row_downloads(led, order)
    rows_of: dict[str, list[str]] = {}
    for row, ukey in downloads.items():
        rows_of.setdefault(ukey, []).append(row)

    if cfg.retry_failed:
        led.reset(DOWNLOAD, [r.item_id for r in led.records(DOWNLOAD, status="failed")])
        led.reset(CURATE, [r.item_id for r in led.records(CURATE, status="failed")])

    # URLs denied before any request.
    for ukey, p in payloads.items():
        reason = deny.check_url(p["url"])
        rec = led.get(DOWNLOAD, ukey)
        if reason and not (rec.status == "done" and rec.result.get("reason") == reason):
            led.finish(DOWNLOAD, ukey, {"outcome": "filtered", "reason": reason})  # never requested

    due = led.get_meta(META_RETRY, {}) or {}
    todo_ids = [
        r.item_id
        for r in led.records(DOWNLOAD)
        if r.status in ("pending", "running") or (r.status == "failed" and r.item_id in due)
    ]
    todo = {k: payloads.get(k) or led.get(DOWNLOAD, k).payload for k in todo_ids}
    n_attempts = _run_downloads(led, todo, cfg, out, sleep, fetch_urls) if todo else 0

    url_order = list(dict.fromkeys(downloads[k] for k in order))
    _dedupe_sources(led, url_order, out, cfg.dedupe_identical_files)
    _apply_takedowns(led, deny, out, rows_of)

    chash = _config_hash(cfg)
    if led.get_meta(META_CONFIG) not in (None, chash):
        log.warning("curation settings changed since the last run: re-curating every source")
        for r in led.records(CURATE):
            if r.result and r.result.get("source_id"):
                shutil.rmtree(out / "clips" / "internet" / r.result["source_id"], ignore_errors=True)
        led.reset(CURATE)
    led.set_meta(META_CONFIG, chash)

    items = {}
    for key in order:
        ukey = downloads[key]
        rec = led.get(DOWNLOAD, ukey)
        if rec is None or rec.status != "done" or rec.result.get("outcome") != "downloaded":
            continue
        res, entry = rec.result, row_entry(led, key, ukey)
        items[key] = {
            "key": key,
            "source_id": res["source_id"],
            "video": str((out / RAW_DIR / res["file"]).resolve()),
            "source_sha256": res["sha256"],
            "out_dir": str(out.resolve()),
            "url": rec.payload["url"],
            "start": entry.get("start"),
            "end": entry.get("end"),
            "genre": entry.get("genre"),
            "license": entry.get("license") or res.get("remote_license"),
            "creator": entry.get("creator") or res.get("uploader"),
            "config": cfg.curation.to_dict(),
            "provenance": {"config_hash": chash, "info_json": res.get("info_json")},
        }
    if items:
        with make_executor(
            cfg.executor if len(items) > 1 else "serial", workers=cfg.workers, address=cfg.ray_address
        ) as ex:
            run_stage(led, CURATE, curate_source, items, ex, max_attempts=1)

    rows, dropped = internet_rows(led, order, cfg.split_seed, dedupe="dedupe" not in cfg.curation.skip)
    led.set_meta(META_DROPPED, dropped)
    changed = _write_manifest_if_changed(out, rows) if write_manifest else False

    from ma_data.crawl.status import crawl_status

    statuses = crawl_status(out, ledger=led)
    counts: dict[str, int] = {}
    for st in statuses:
        counts[st["status"]] = counts.get(st["status"], 0) + 1
    return CrawlSummary(str(out), len(entries), counts, len(rows), changed, n_attempts, rows)
