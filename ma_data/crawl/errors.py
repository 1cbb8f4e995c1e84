"""Classify download failures and decide whether (and when) to retry them.

yt-dlp is run with its own retries switched off: every retry is ours, counted in the ledger, and spaced by
exponential backoff that honours a server's ``Retry-After``. Only transient classes are retried; a 404 or a
private video is final on the first attempt.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from dataclasses import dataclass

from ma_data.core.errors import ConfigError

__all__ = [
    "ERROR_CLASSES",
    "RETRYABLE",
    "ClassifiedError",
    "DownloadFailure",
    "RetryPolicy",
    "classify_exception",
    "classify_message",
    "parse_retry_after",
]

# Error classes recorded in the ledger and shown by ``ma-data status``.
ERROR_CLASSES = (
    "not_found",  # 404/410, removed, private, unavailable
    "forbidden",  # 401/403, geo-blocked, members-only
    "rate_limited",  # 429 (Retry-After honoured)
    "bot_check",  # "confirm you're not a bot", captcha
    "format_unavailable",  # no format satisfies the selector (height cap, ...)
    "server_error",  # 5xx
    "network",  # timeouts, resets, refused connections, DNS
    "deadline",  # the whole attempt ran past --download-timeout (e.g. a server trickling bytes)
    "truncated",  # fewer bytes than announced
    "corrupt",  # the file does not demux/decode completely
    "too_large",  # over the size cap
    "too_long",  # over the duration cap
    "unsupported",  # no extractor for the URL
    "worker_crashed",  # the worker process died (OOM kill, segfault) mid-attempt
    "unknown",
)
# Transient classes. Truncated transfers are retried from scratch (never resumed: a resumed file mixes two
# transfers we cannot verify against a checksum), corrupt files are not retried (the same bytes come back).
RETRYABLE = frozenset({"rate_limited", "server_error", "network", "deadline", "truncated", "worker_crashed"})


@dataclass(frozen=True)
class ClassifiedError:
    """An error class, a one-line message, and the server's Retry-After in seconds when it sent one."""

    error_class: str
    message: str
    retry_after_s: float | None = None
    http_status: int | None = None

    @property
    def retryable(self) -> bool:
        return self.error_class in RETRYABLE


class DownloadFailure(Exception):
    """A classified download failure (raised by the downloader after its retries are spent)."""

    def __init__(self, error: ClassifiedError, attempts: int) -> None:
        super().__init__(f"{error.error_class}: {error.message} (after {attempts} attempt(s))")
        self.error = error
        self.attempts = attempts


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; ``None`` if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


_STATUS_CLASS = {404: "not_found", 410: "not_found", 451: "forbidden", 401: "forbidden", 403: "forbidden"}

# Message patterns, checked in order (yt-dlp and extractor wording; lower-cased).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (cls, re.compile(pat))
    for cls, pat in (
        ("bot_check", r"not a bot|captcha|sign in to confirm|unusual traffic|verify you are human"),
        ("rate_limited", r"http error 429|too many requests|rate.?limit"),
        ("truncated", r"bytes read, \d+ more expected|content too short|incompleteread|incomplete read"),
        ("too_large", r"larger than max-filesize|file is larger than"),
        (
            "format_unavailable",
            r"requested format is not available|no video formats found|format .*not available",
        ),
        (
            "not_found",
            r"http error 40[4]|http error 410|video unavailable|private video|this video is private|"
            r"has been removed|been terminated|does not exist|not found|no longer available|video is unavailable",
        ),
        (
            "forbidden",
            r"http error 40[13]|forbidden|members.only|not available in your country|geo.?restrict",
        ),
        ("unsupported", r"unsupported url"),
        ("server_error", r"http error 5\d\d"),
        (
            "network",
            r"timed out|timeout|connection reset|connection refused|connection aborted|remote end closed|"
            r"name resolution|network is unreachable|temporary failure|eof occurred|broken pipe|"
            r"unable to connect|ssl",
        ),
    )
)


def classify_message(message: str) -> str:
    """Error class from an error message alone (fallback when no HTTP response is attached)."""
    low = message.lower()
    for cls, pat in _PATTERNS:
        if pat.search(low):
            return cls
    return "unknown"


def _find_http_error(exc: BaseException) -> tuple[int | None, dict[str, str]]:
    """Walk the exception chain (yt-dlp's exc_info / cause / __cause__) for an HTTP status and headers."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        status = getattr(e, "status", None)
        response = getattr(e, "response", None)
        if isinstance(status, int) and 100 <= status < 600:
            headers = getattr(response, "headers", None) or getattr(e, "headers", None) or {}
            return status, {str(k).lower(): str(v) for k, v in dict(headers).items()}
        exc_info = getattr(e, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) >= 2 and isinstance(exc_info[1], BaseException):
            stack.append(exc_info[1])
        cause = getattr(e, "cause", None)
        if isinstance(cause, BaseException):
            stack.append(cause)
        stack.append(e.__cause__)
        stack.append(e.__context__)
    return None, {}


def classify_exception(exc: BaseException) -> ClassifiedError:
    """Classify any exception raised while extracting or downloading."""
    message = " ".join(str(exc).replace("\r", " ").split()) or type(exc).__name__
    message = re.sub(r"^ERROR:\s*", "", message)
    status, headers = _find_http_error(exc)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status is not None:
        if status == 429:
            cls = "rate_limited"
        elif status in _STATUS_CLASS:
            cls = _STATUS_CLASS[status]
            # A 403 page that is really a bot wall is still a bot check.
            if cls == "forbidden" and classify_message(message) == "bot_check":
                cls = "bot_check"
        elif 500 <= status < 600:
            cls = "server_error"
        else:
            cls = classify_message(message)
        return ClassifiedError(cls, message, retry_after, status)
    if isinstance(exc, TimeoutError | ConnectionError):
        return ClassifiedError("network", message)
    return ClassifiedError(classify_message(message), message)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: retry ``k`` (0-based) waits ``backoff_s * 2**k`` (capped at ``max_backoff_s``),
    or the server's Retry-After when longer (capped at ``max_retry_after_s``), plus up to ``jitter`` of it.

    ``max_retries`` is the number of retries after the first attempt.
    """

    max_retries: int = 3
    backoff_s: float = 2.0
    max_backoff_s: float = 300.0
    max_retry_after_s: float = 600.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_s < 0:
            raise ConfigError("max_retries and backoff_s must be >= 0")

    def should_retry(self, error: ClassifiedError, attempts_made: int) -> bool:
        return error.retryable and attempts_made <= self.max_retries

    def delay(
        self, retry_index: int, error: ClassifiedError | None = None, rng: random.Random | None = None
    ) -> float:
        base = min(self.max_backoff_s, self.backoff_s * (2.0**retry_index))
        if error is not None and error.retry_after_s is not None:
            base = max(base, min(error.retry_after_s, self.max_retry_after_s))
        if self.jitter > 0 and base > 0:
            base += (rng or random).uniform(0, self.jitter * base)
        return base
