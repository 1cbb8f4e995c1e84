"""One download attempt through yt-dlp's Python API, classified and verified.

``download_attempt(payload)`` is the unit a worker runs (serial, process pool or Ray). It never raises for
an expected failure: it returns ``{"outcome": "failed", "error_class": ..., "retry_after_s": ...}`` and the
driver (``ma_data.crawl.pipeline``) decides when to retry. yt-dlp's own retries are switched off so that the
ledger's attempt count is the true number of tries.

Files for URL key ``K`` (a hash of the URL, never remote metadata) live in ``<raw_dir>/``:
``K.<ext>`` (the video), ``K.info.json`` (yt-dlp's metadata, kept as provenance) and ``K.probe.json`` (our
verification, written last and atomically: its presence means "downloaded and verified").
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ma_data.core.io.atomic import atomic_write, sha256_file
from ma_data.crawl.errors import ClassifiedError, classify_exception
from ma_data.crawl.takedown import load_deny_list
from ma_data.crawl.verify import MediaCheckError, verify_media

__all__ = ["DownloadOptions", "download_attempt", "format_selector", "read_archive", "source_id_from_info"]

log = logging.getLogger(__name__)

_SAFE_RE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class DownloadOptions:
    """Download policy. Sizes in bytes, times in seconds; ``None`` disables a cap.

    height_cap: never pick a format taller than this (formats of unknown height are allowed).
    ratelimit: bytes/s per download (politeness; the concurrency cap multiplies it).
    cookiefile / proxy: off by default; only used when given.
    """

    height_cap: int = 1080
    max_filesize: int | None = 2 * 1024**3
    max_duration_s: float | None = 1800.0
    ratelimit: int | None = 8 * 1024**2
    socket_timeout_s: float = 30.0
    cookiefile: str | None = None
    proxy: str | None = None
    format: str | None = None  # overrides the built-in selector
    extra_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def format_selector(height_cap: int, can_merge: bool) -> str:
    """yt-dlp format string: progressive mp4 first, then any progressive, then (with ffmpeg) a merge.

    Every alternative respects the height cap (``<=?`` lets formats of unknown height through, as direct
    links have none). Without ffmpeg yt-dlp cannot merge separate video and audio, so merges are left out.
    """
    h = int(height_cap)
    alts = [f"b[height<=?{h}][ext=mp4][acodec!=none]", f"b[height<=?{h}][acodec!=none]", f"b[height<=?{h}]"]
    if can_merge:
        alts.insert(2, f"bv*[height<=?{h}][ext=mp4]+ba[ext=m4a]/bv*[height<=?{h}]+ba")
    return "/".join(alts)


def source_id_from_info(info: dict, key: str) -> str:
    """Stable source id: ``<extractor>-<id>`` for real extractors (so every URL form of one video maps to
    one id), the URL key for the generic extractor (whose ids are just file names, which collide)."""
    extractor = str(info.get("extractor_key") or info.get("extractor") or "").lower()
    vid = str(info.get("id") or "")
    if not extractor or extractor == "generic" or not vid:
        return key
    return f"{_SAFE_RE.sub('_', extractor)}-{_SAFE_RE.sub('_', vid)}"[:96]


def read_archive(path: str | os.PathLike | None) -> set[str]:
    """The download archive's ``"<extractor> <id>"`` lines (yt-dlp's format)."""
    if not path or not Path(path).is_file():
        return set()
    return {ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()}


class _Capture:
    """yt-dlp logger that keeps warnings and errors (to classify e.g. the max-filesize abort)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str) -> None:
        if "max-filesize" in msg or "archive" in msg:
            self.lines.append(msg)

    def info(self, msg: str) -> None:
        self.debug(msg)

    def warning(self, msg: str) -> None:
        self.lines.append(msg)

    def error(self, msg: str) -> None:
        self.lines.append(msg)


def _params(opts: DownloadOptions, raw_dir: Path, key: str, archive: set[str], logger: _Capture) -> dict:
    def too_long(info: dict, *, incomplete: bool = False) -> str | None:
        dur = info.get("duration")
        if opts.max_duration_s is not None and dur and dur > opts.max_duration_s:
            return f"duration {dur:.0f}s over the {opts.max_duration_s:.0f}s cap"
        return None

    params: dict[str, Any] = {
        "format": opts.format
        or format_selector(opts.height_cap, can_merge=shutil.which("ffmpeg") is not None),
        "paths": {"home": str(raw_dir), "temp": str(raw_dir)},
        # Our name only: the URL key. %(ext)s is sanitised by yt-dlp and restricted below.
        "outtmpl": {"default": f"{key}.%(ext)s"},
        "restrictfilenames": True,
        "windowsfilenames": True,
        "writeinfojson": True,
        "download_archive": archive,  # a set: we persist ids only after our own verification
        "match_filter": too_long,
        "max_filesize": opts.max_filesize,
        "ratelimit": opts.ratelimit,
        "socket_timeout": opts.socket_timeout_s,
        # Retries are ours (ledger-counted, exponential backoff, Retry-After); yt-dlp tries once.
        "retries": 0,
        "fragment_retries": 0,
        "extractor_retries": 0,
        "file_access_retries": 2,
        "continuedl": False,  # a failed transfer restarts from byte 0 (see errors.RETRYABLE)
        "noplaylist": True,
        "overwrites": True,
        "quiet": True,
        "noprogress": True,
        "logger": logger,
        "cachedir": False,
    }
    if opts.cookiefile:
        params["cookiefile"] = opts.cookiefile
    if opts.proxy:
        params["proxy"] = opts.proxy
    params.update(opts.extra_params)
    return params


def _clean_partials(raw_dir: Path, key: str) -> None:
    """Remove everything an earlier, unverified attempt for ``key`` left behind."""
    for p in glob.glob(str(raw_dir / f"{glob.escape(key)}.*")):
        try:
            os.unlink(p)
        except OSError:
            pass


def _existing(raw_dir: Path, key: str) -> dict | None:
    """A previous verified download (``K.probe.json`` plus its file), e.g. when the ledger lost the 'done'."""
    probe = raw_dir / f"{key}.probe.json"
    if not probe.is_file():
        return None
    try:
        rec = json.loads(probe.read_text(encoding="utf-8"))
        if (raw_dir / rec["file"]).is_file():
            return rec
    except (OSError, ValueError, KeyError):
        pass
    return None


def _failed(err: ClassifiedError) -> dict:
    return {
        "outcome": "failed",
        "error_class": err.error_class,
        "error": err.message[:500],
        "retry_after_s": err.retry_after_s,
        "http_status": err.http_status,
    }


def download_attempt(payload: dict) -> dict:
    """One attempt at downloading ``payload["url"]``; see the module docstring. Never raises for
    expected failures.

    payload: ``url``, ``key``, ``raw_dir``, ``archive_path``, ``deny_lists`` (files), ``options``
    (``DownloadOptions`` fields), ``creator`` (from the URL manifest, for the deny list).
    """
    import yt_dlp

    url, key = payload["url"], payload["key"]
    raw_dir = Path(payload["raw_dir"])
    raw_dir.mkdir(parents=True, exist_ok=True)
    opts = DownloadOptions(**payload.get("options", {}))
    deny = load_deny_list(payload.get("deny_lists", ()))

    prev = _existing(raw_dir, key)
    if prev is not None:
        return {**prev, "outcome": "downloaded", "reused": True}
    _clean_partials(raw_dir, key)

    logger = _Capture()
    archive = read_archive(payload.get("archive_path"))
    try:
        with yt_dlp.YoutubeDL(_params(opts, raw_dir, key, archive, logger)) as ydl:
            info = ydl.extract_info(url, download=False)
            if info is None:  # the id was known to the archive before extraction
                return {"outcome": "filtered", "reason": "duplicate_source: already in the download archive"}
            if info.get("_type") in ("playlist", "multi_video"):
                return _failed(
                    ClassifiedError("unsupported", "playlists are not crawled; list videos one by one")
                )
            if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
                return {"outcome": "filtered", "reason": "live stream"}
            extractor = str(info.get("extractor_key") or "generic").lower()
            video_id = str(info.get("id") or "")
            source_id = source_id_from_info(info, key)
            archive_id = f"{extractor} {video_id if extractor != 'generic' else key}"
            denied = deny.check(
                url,
                extractor=extractor,
                video_id=video_id,
                source_id=source_id,
                creators=(
                    payload.get("creator"),
                    info.get("uploader"),
                    info.get("channel"),
                    info.get("creator"),
                ),
            )
            if denied:
                return {"outcome": "filtered", "reason": denied, "source_id": source_id}
            if archive_id in archive:
                return {"outcome": "filtered", "reason": f"duplicate_source: {source_id} already downloaded"}
            reason = _params(opts, raw_dir, key, archive, logger)["match_filter"](info)
            if reason:
                return {"outcome": "filtered", "reason": f"too_long: {reason}", "source_id": source_id}
            if extractor == "generic":
                info["id"] = key  # archive entry and names keyed by URL, not by a file name
            info = ydl.process_ie_result(info, download=True)
    except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes
        _clean_partials(raw_dir, key)
        return _failed(classify_exception(exc))

    files = [Path(d["filepath"]) for d in (info or {}).get("requested_downloads") or [] if d.get("filepath")]
    files = [f for f in files if f.is_file() and f.resolve().parent == raw_dir.resolve()]
    if not files:
        _clean_partials(raw_dir, key)
        text = " ".join(logger.lines)
        if "max-filesize" in text:
            cap = opts.max_filesize
            return {
                "outcome": "filtered",
                "reason": f"too_large: over the {cap} byte cap",
                "source_id": source_id,
            }
        return _failed(ClassifiedError("unknown", f"{url}: yt-dlp produced no file ({text[:200]})"))
    video = files[0]
    try:
        probe = verify_media(video)
    except MediaCheckError as exc:
        _clean_partials(raw_dir, key)
        return _failed(ClassifiedError(exc.error_class, exc.message))
    if opts.max_duration_s is not None and probe.duration_s > opts.max_duration_s:
        _clean_partials(raw_dir, key)
        return {"outcome": "filtered", "reason": f"too_long: {probe.duration_s:.0f}s", "source_id": source_id}

    rec = {
        "outcome": "downloaded",
        "file": video.name,
        "info_json": f"{key}.info.json" if (raw_dir / f"{key}.info.json").is_file() else None,
        "source_id": source_id,
        "extractor": extractor,
        "video_id": video_id,
        "archive_id": archive_id,
        "sha256": sha256_file(video),
        "size": video.stat().st_size,
        "probe": probe.to_dict() | {"path": video.name},
        "uploader": info.get("uploader"),
        "remote_license": info.get("license"),
        "title": info.get("title"),
    }
    with atomic_write(raw_dir / f"{key}.probe.json", "w", encoding="utf-8") as fh:
        json.dump(rec, fh, sort_keys=True, indent=1)
    return rec
