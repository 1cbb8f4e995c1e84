"""One download attempt through yt-dlp's Python API, classified and verified.

``download_attempt(payload)`` is the unit a worker runs (serial, process pool or Ray). It never raises for
an expected failure: it returns ``{"outcome": "failed", "error_class": ..., "retry_after_s": ...}`` and the
driver (``ma_data.crawl.pipeline``) decides when to retry. yt-dlp's own retries are switched off so that the
ledger's attempt count is the true number of tries.

Files for URL key ``K`` (a hash of the URL, never remote metadata) live in ``<raw_dir>/``:
``K.<ext>`` (the video), ``K.info.json`` (yt-dlp's metadata, kept as provenance, credentials removed) and
``K.probe.json`` (our verification, written last and atomically: its presence means "downloaded and
verified").

Source ids name the *media*, so that every URL of one video maps to one source and two videos never share
one (:func:`media_source_id`): ``<extractor>-<id>`` for site extractors (YouTube, Vimeo, ...), whose ids
are the site's own; a hash of the downloaded bytes, ``sha256-<16 hex>``, for the generic family
(:data:`GENERIC_EXTRACTORS`), whose "ids" are only the page's file name (three pages called ``index.html``
would collide). Both are deterministic, so resumes and rebuilds give the same source and clip ids.

Every attempt has an overall deadline (``download_timeout_s``, ``--download-timeout``): a server that keeps a
socket alive while sending a byte now and then cannot hold a worker. A deadline hit is the retryable error
class ``deadline``. The deadline is a ``SIGALRM`` timer in the worker's main thread (where the serial and
process executors run attempts); elsewhere it is checked on each chunk yt-dlp reports.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ma_data.core.io.atomic import atomic_write, sha256_file
from ma_data.crawl.errors import ClassifiedError, classify_exception
from ma_data.crawl.takedown import load_deny_list
from ma_data.crawl.urls import redact_text
from ma_data.crawl.verify import MediaCheckError, verify_media

__all__ = [
    "GENERIC_EXTRACTORS",
    "DeadlineExceeded",
    "DownloadOptions",
    "archive_id_for",
    "download_attempt",
    "format_selector",
    "is_generic_extractor",
    "media_source_id",
    "read_archive",
]

log = logging.getLogger(__name__)

_SAFE_RE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class DownloadOptions:
    """Download policy. Sizes in bytes, times in seconds; ``None`` disables a cap.

    height_cap: never pick a format taller than this (formats of unknown height are allowed).
    ratelimit: bytes/s per download (politeness; the concurrency cap multiplies it).
    socket_timeout_s: longest silence on a connection; download_timeout_s: longest whole attempt
    (extraction and transfer; ``None``: no deadline). The default, 30 min, lets the 2 GiB size cap through
    at about 1.2 MB/s.
    cookiefile / proxy: off by default; only used when given.
    """

    height_cap: int = 1080
    max_filesize: int | None = 2 * 1024**3
    max_duration_s: float | None = 1800.0
    ratelimit: int | None = 8 * 1024**2
    socket_timeout_s: float = 30.0
    download_timeout_s: float | None = 1800.0
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


#: yt-dlp extractors (lower-cased ``extractor_key``) whose ids come from the page's or file's name (yt-dlp's
#: ``_generic_id``), not from the site: the generic extractor, media embedded in arbitrary pages, RTMP links.
GENERIC_EXTRACTORS = frozenset(
    {
        "generic",
        "html5mediaembed",
        "quotedhtml",
        "camtasiaembed",
        "rtmp",
        "viewsource",
        "wordpressplaylistembed",
        "wordpressminiaudioplayerembed",
    }
)


def is_generic_extractor(extractor: str | None) -> bool:
    """True when ``extractor``'s ids are file names (or it is unknown): they say nothing about the media."""
    return not extractor or extractor.lower() in GENERIC_EXTRACTORS


def media_source_id(extractor: str | None, video_id: str | None, sha256: str) -> str:
    """The source id of a verified download (see the module docstring)."""
    if is_generic_extractor(extractor) or not video_id:
        return f"sha256-{sha256[:16]}"
    return f"{_SAFE_RE.sub('_', str(extractor).lower())}-{_SAFE_RE.sub('_', str(video_id))}"[:96]


def archive_id_for(extractor: str | None, video_id: str | None) -> str | None:
    """The download-archive line of a site video (``"<extractor> <id>"``, yt-dlp's format); ``None`` for the
    generic family, whose identity is known only after the download (its content hash)."""
    if is_generic_extractor(extractor) or not video_id:
        return None
    return f"{str(extractor).lower()} {video_id}"


def read_archive(path: str | os.PathLike | None) -> set[str]:
    """The download archive's ``"<extractor> <id>"`` lines (yt-dlp's format); lines of the generic family
    (written by older versions, keyed by file names) are ignored."""
    if not path or not Path(path).is_file():
        return set()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not is_generic_extractor(ln.split()[0])}


class DeadlineExceeded(BaseException):  # noqa: N818 - a signal, not an error yt-dlp may catch
    """Raised inside yt-dlp when an attempt's deadline passes. A ``BaseException`` so that yt-dlp's many
    ``except Exception`` handlers cannot swallow it."""


@contextmanager
def _deadline(seconds: float | None) -> Iterator[float | None]:
    """Raise :class:`DeadlineExceeded` in this thread ``seconds`` from now; yields the monotonic deadline.

    Uses ``SIGALRM`` (interrupts a blocking read) when this is the main thread and no other real-time timer
    is running; otherwise only the progress hook of :func:`_params` enforces the deadline.
    """
    if not seconds:
        yield None
        return
    until = time.monotonic() + seconds
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    )
    if not usable:
        yield until
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise DeadlineExceeded(seconds)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield until
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


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


def _params(
    opts: DownloadOptions,
    raw_dir: Path,
    key: str,
    archive: set[str],
    logger: _Capture,
    until: float | None = None,
) -> dict:
    def too_long(info: dict, *, incomplete: bool = False) -> str | None:
        dur = info.get("duration")
        if opts.max_duration_s is not None and dur and dur > opts.max_duration_s:
            return f"duration {dur:.0f}s over the {opts.max_duration_s:.0f}s cap"
        return None

    def check_deadline(progress: dict) -> None:
        if until is not None and time.monotonic() > until:
            raise DeadlineExceeded(opts.download_timeout_s)

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
        "progress_hooks": [check_deadline],
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
        if rec["sha256"] and (raw_dir / rec["file"]).is_file():
            return rec
    except (OSError, ValueError, KeyError):
        pass
    return None


def _failed(err: ClassifiedError) -> dict:
    return {
        "outcome": "failed",
        "error_class": err.error_class,
        "error": redact_text(err.message)[:500],
        "retry_after_s": err.retry_after_s,
        "http_status": err.http_status,
    }


def _identity(rec: dict) -> dict:
    """``source_id`` and ``archive_id`` of a verified download record, by today's rules (a probe record
    written by an older version may hold ids from file names)."""
    return {
        "source_id": media_source_id(rec.get("extractor"), rec.get("video_id"), rec["sha256"]),
        "archive_id": archive_id_for(rec.get("extractor"), rec.get("video_id")),
    }


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, "")
        return redact_text(value)
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    return value


def _scrub_info_json(path: Path, fetch_url: str) -> None:
    """yt-dlp records the URL it was given (``user:pass@`` included) in the info JSON: remove the
    credentials from every string in it."""
    userinfo = fetch_url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0]
    if not userinfo or not path.is_file():
        return
    info = json.loads(path.read_text(encoding="utf-8"))
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(_scrub(info, (userinfo + "@",)), fh)


def download_attempt(payload: dict) -> dict:
    """One attempt at downloading ``payload["url"]``; see the module docstring. Never raises for
    expected failures.

    payload: ``url`` (no credentials: the form we store), ``key``, ``raw_dir``, ``archive_path``,
    ``deny_lists`` (files), ``options`` (``DownloadOptions`` fields), ``creators`` (from the URL manifest,
    for the deny list); added at dispatch and never stored: ``fetch_url`` (the URL with its credentials)
    and ``secret_options`` (options holding credentials, e.g. a proxy URL with ``user:pass@``).
    """
    url, key = payload["url"], payload["key"]
    raw_dir = Path(payload["raw_dir"])
    raw_dir.mkdir(parents=True, exist_ok=True)
    opts = DownloadOptions(**{**payload.get("options", {}), **payload.get("secret_options", {})})

    prev = _existing(raw_dir, key)
    if prev is not None:
        return {**prev, **_identity(prev), "outcome": "downloaded", "reused": True}
    _clean_partials(raw_dir, key)

    logger = _Capture()
    try:
        with _deadline(opts.download_timeout_s) as until:
            outcome = _fetch(payload, opts, raw_dir, logger, until)
    except DeadlineExceeded:
        _clean_partials(raw_dir, key)
        limit = opts.download_timeout_s
        msg = f"{url}: not finished within the {limit:g} s download deadline (--download-timeout)"
        return _failed(ClassifiedError("deadline", msg))
    except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes
        _clean_partials(raw_dir, key)
        return _failed(classify_exception(exc))
    if "outcome" in outcome:
        return outcome
    return _finish(payload, opts, raw_dir, logger, outcome)


def _fetch(
    payload: dict, opts: DownloadOptions, raw_dir: Path, logger: _Capture, until: float | None
) -> dict:
    """Extract, check and download; returns a finished outcome (``{"outcome": ...}``) or yt-dlp's info."""
    import yt_dlp

    url, key = payload["url"], payload["key"]
    deny = load_deny_list(payload.get("deny_lists", ()))
    creators = [payload.get("creator"), *payload.get("creators", ())]
    archive = read_archive(payload.get("archive_path"))
    params = _params(opts, raw_dir, key, archive, logger, until)
    with yt_dlp.YoutubeDL(params) as ydl:
        info = ydl.extract_info(payload.get("fetch_url") or url, download=False)
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
        # A site video is known by its id before any byte is fetched; the generic family only by its bytes.
        source_id = None if is_generic_extractor(extractor) else media_source_id(extractor, video_id, "")
        denied = deny.check(
            url,
            extractor=extractor,
            video_id=video_id,
            source_id=source_id,
            creators=(*creators, info.get("uploader"), info.get("channel"), info.get("creator")),
        )
        if denied:
            return {"outcome": "filtered", "reason": denied, "source_id": source_id}
        archive_id = archive_id_for(extractor, video_id)
        if archive_id is not None and archive_id in archive:
            return {"outcome": "filtered", "reason": f"duplicate_source: {source_id} already downloaded"}
        reason = params["match_filter"](info)
        if reason:
            return {"outcome": "filtered", "reason": f"too_long: {reason}", "source_id": source_id}
        if is_generic_extractor(extractor):
            info["id"] = key  # names (and any archive entry of yt-dlp's) keyed by URL, never by a file name
        info = ydl.process_ie_result(info, download=True)
    return {"info": info, "extractor": extractor, "video_id": video_id}


def _finish(payload: dict, opts: DownloadOptions, raw_dir: Path, logger: _Capture, fetched: dict) -> dict:
    """Verify the downloaded file, name its source, and record it (``K.probe.json``)."""
    url, key = payload["url"], payload["key"]
    info, extractor, video_id = fetched["info"] or {}, fetched["extractor"], fetched["video_id"]
    files = [Path(d["filepath"]) for d in info.get("requested_downloads") or [] if d.get("filepath")]
    files = [f for f in files if f.is_file() and f.resolve().parent == raw_dir.resolve()]
    if not files:
        _clean_partials(raw_dir, key)
        text = redact_text(" ".join(logger.lines))
        if "max-filesize" in text:
            return {"outcome": "filtered", "reason": f"too_large: over the {opts.max_filesize} byte cap"}
        return _failed(ClassifiedError("unknown", f"{url}: yt-dlp produced no file ({text[:200]})"))
    video = files[0]
    try:
        probe = verify_media(video)
    except MediaCheckError as exc:
        _clean_partials(raw_dir, key)
        return _failed(ClassifiedError(exc.error_class, exc.message))
    rec: dict[str, Any] = {
        "outcome": "downloaded",
        "file": video.name,
        "info_json": f"{key}.info.json" if (raw_dir / f"{key}.info.json").is_file() else None,
        "extractor": extractor,
        "video_id": video_id,
        "sha256": sha256_file(video),
        "size": video.stat().st_size,
        "probe": probe.to_dict() | {"path": video.name},
        "uploader": info.get("uploader"),
        "remote_license": info.get("license"),
        "title": info.get("title"),
    }
    rec.update(_identity(rec))
    if opts.max_duration_s is not None and probe.duration_s > opts.max_duration_s:
        _clean_partials(raw_dir, key)
        return {
            "outcome": "filtered",
            "reason": f"too_long: {probe.duration_s:.0f}s",
            "source_id": rec["source_id"],
        }
    # The content hash names generic-family sources only now: a ``source:`` deny entry may match it.
    denied = load_deny_list(payload.get("deny_lists", ())).check(url, source_id=rec["source_id"])
    if denied:
        _clean_partials(raw_dir, key)
        return {"outcome": "filtered", "reason": denied, "source_id": rec["source_id"]}
    if payload.get("fetch_url") and rec["info_json"]:
        _scrub_info_json(raw_dir / rec["info_json"], payload["fetch_url"])
    with atomic_write(raw_dir / f"{key}.probe.json", "w", encoding="utf-8") as fh:
        json.dump(rec, fh, sort_keys=True, indent=1)
    return rec
