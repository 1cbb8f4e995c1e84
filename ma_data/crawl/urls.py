"""Read the URL manifest that drives a crawl, and the URL normal form every identity is built on.

Columns: ``url`` (required), optional ``start`` and ``end`` (seconds; restrict curation to that span of the
source), ``genre``, ``license``, ``creator``. Unknown columns are ignored. A file without a header whose first
line is a URL is read as a plain URL list (one per line). See ``manifests/urls/README.md``.

Identity: a row is its normalised URL plus its window (``start``, ``end``). The same URL listed with two
different windows gives two rows (one download, two curations); a row repeated exactly is read once, with a
warning naming both lines. Credentials (``user:pass@``) are stripped from every URL we store or print; the
download alone still gets them (:attr:`UrlEntry.fetch_url`, never persisted).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ma_data.core.errors import FormatError

__all__ = [
    "UrlEntry",
    "normalize_host",
    "normalize_url",
    "read_url_manifest",
    "redact_text",
    "redact_url",
    "row_key",
    "url_key",
]

log = logging.getLogger(__name__)

OPTIONAL_COLUMNS = ("start", "end", "genre", "license", "creator")

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters RFC 3986 allows literally in a path (and, with "?", in a query); anything else is escaped.
_PATH_OK = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_OK = _PATH_OK | frozenset("?")
_HEX = frozenset("0123456789abcdefABCDEF")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Every name of this machine is one host for identity (dedupe, deny list); the download uses the URL as given.
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
LOOPBACK_HOST = "127.0.0.1"


@dataclass(frozen=True)
class UrlEntry:
    """One row of the URL manifest.

    ``url`` is the URL as written minus any credentials (what we store and print); ``url_key`` names its
    download (a hash of the normalised URL); ``key`` names the row (``url_key`` for a row without a window,
    else a hash of URL and window). ``fetch_url`` is the URL with its credentials, set only when it had some;
    it is for the download and is never written anywhere (not in ``to_dict``, not in ``repr``).
    """

    url: str
    key: str
    url_key: str = ""
    start: float | None = None
    end: float | None = None
    genre: str | None = None
    license: str | None = None
    creator: str | None = None
    fetch_url: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {
            "url": self.url,
            "key": self.key,
            "url_key": self.url_key or self.key,
            "start": self.start,
            "end": self.end,
            "genre": self.genre,
            "license": self.license,
            "creator": self.creator,
        }


# -- normal form --------------------------------------------------------------------------------------------
def _normalize_escapes(text: str, allowed: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what may not appear literally."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        esc = text[i + 1 : i + 3]
        if c == "%" and len(esc) == 2 and set(esc) <= _HEX:
            ch = chr(int(esc, 16))
            out.append(ch if ch in _UNRESERVED else "%" + esc.upper())
            i += 3
            continue
        if c in allowed:
            out.append(c)
        else:  # a stray '%', a space, non-ASCII...: percent-encode its UTF-8 bytes
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path: ``/a/./b/../c`` -> ``/a/c``."""
    segs = path.split("/")
    out: list[str] = []
    last = len(segs) - 1
    for i, s in enumerate(segs):
        if s in (".", ".."):
            if s == ".." and len(out) > 1:
                out.pop()
            if i == last:
                out.append("")  # "/a/b/.." names the folder "/a/"
            continue
        out.append(s)
    joined = "/".join(out)
    return joined if joined.startswith("/") else "/" + joined


def normalize_host(host: str) -> str:
    """A host name in the normal form (lower case, no trailing dot or brackets, IDNA, one loopback name)."""
    host = host.strip().strip("[]").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    host = host.lower()
    return LOOPBACK_HOST if host in _LOOPBACK else host


def _host(parts) -> str:
    host = normalize_host(parts.hostname or "")
    return f"[{host}]" if ":" in host else host


def normalize_url(url: str) -> str:
    """The normal form used for every identity (row keys, download keys, dedupe, deny list).

    Lower-case scheme and host; no credentials; no default port (80/443); ``localhost``, ``127.0.0.1`` and
    ``[::1]`` are one host; percent-escapes of unreserved characters decoded, other escapes upper-cased and
    characters that may not appear literally escaped; ``.``/``..`` path segments resolved; an empty path is
    ``/``; the fragment dropped. The query is kept in its order (parameters may be order-sensitive).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _host(parts)
    try:
        port = parts.port
    except ValueError:
        raise FormatError(f"{redact_url(url)}: invalid port") from None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path or "/", _PATH_OK))
    query = _normalize_escapes(parts.query, _QUERY_OK)
    return urlunsplit((scheme, netloc, path, query, ""))


def redact_url(url: str) -> str:
    """``url`` as written, minus any ``user:pass@`` (the form we store, log and print)."""
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url.strip()
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


_CRED_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@")


def redact_text(text: str) -> str:
    """Strip credentials from every URL inside a message (errors of yt-dlp may quote the URL)."""
    return _CRED_RE.sub(r"\1", text)


def url_key(url: str) -> str:
    """A filesystem-safe, stable id for a URL's download (never built from remote metadata)."""
    return "u" + hashlib.sha256(normalize_url(url).encode()).hexdigest()[:15]


def row_key(url: str, start: float | None, end: float | None) -> str:
    """Id of a manifest row: the URL's key when it has no window, else a hash of the URL and the window."""
    if start is None and end is None:
        return url_key(url)
    window = f"{normalize_url(url)}\n{'' if start is None else repr(float(start))}"
    window += f"\n{'' if end is None else repr(float(end))}"
    return "w" + hashlib.sha256(window.encode()).hexdigest()[:15]


# -- reading ------------------------------------------------------------------------------------------------
def _opt_float(value: object, col: str, where: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, bool):
        raise FormatError(f"{where}: column {col!r} must be seconds, got {value!r}")
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError(f"{where}: column {col!r} must be seconds, got {value!r}"[:300]) from None
    if math.isnan(f):
        return None
    if f < 0 or math.isinf(f):
        raise FormatError(f"{where}: column {col!r} must be >= 0 and finite, got {f}")
    return f


def _opt_str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    s = str(value).strip()
    return s or None


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig: a byte-order mark (spreadsheet exports) is not part of the first column's name
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _csv_rows(path: Path, dialect: str) -> list[tuple[str, dict]]:
    numbered = [
        (n, ln)
        for n, ln in enumerate(_read_text(path).splitlines(keepends=True), start=1)
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    lines = [ln for _, ln in numbered]
    if lines and _SCHEME_RE.match(lines[0].strip()):
        # No header: a plain URL list (optionally with the other columns in their documented order).
        reader = csv.DictReader(lines, fieldnames=["url", *OPTIONAL_COLUMNS], dialect=dialect)
    else:
        reader = csv.DictReader(lines, dialect=dialect)
    out = []
    try:
        for row in reader:
            out.append((f"{path}:{numbered[reader.line_num - 1][0]}", row))
    except csv.Error as exc:
        raise FormatError(f"{path}:{numbered[max(0, reader.line_num - 1)][0]}: {exc}") from None
    if reader.fieldnames is None and not out:
        return []
    if "url" not in {str(k).strip().lower() for k in reader.fieldnames or ()}:
        raise FormatError(
            f"{path}: URL manifest needs a 'url' column (found {list(reader.fieldnames or [])})"
        )
    return out


def _json_rows(path: Path) -> list[tuple[str, dict]]:
    import json

    try:
        data = json.loads(_read_text(path))
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{path}: invalid JSON ({str(exc)[:200]})") from None
    data = data.get("urls", data) if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise FormatError(f"{path}: JSON URL manifest must be a list (of URLs or of row objects)")
    out = []
    for i, d in enumerate(data, start=1):
        if isinstance(d, str):
            out.append((f"{path}: row {i}", {"url": d}))
        elif isinstance(d, dict):
            out.append((f"{path}: row {i}", d))
        else:
            raise FormatError(
                f"{path}: row {i}: expected a URL string or an object with a 'url' key, "
                f"got {type(d).__name__}"
            )
    return out


def _parquet_rows(path: Path) -> list[tuple[str, dict]]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise FormatError(f"{path}: cannot read Parquet ({first[:200]})") from None
    if rows and "url" not in {str(k).strip().lower() for k in rows[0]}:
        raise FormatError(f"{path}: URL manifest needs a 'url' column (found {sorted(rows[0])})")
    return [(f"{path}: row {i}", r) for i, r in enumerate(rows, start=1)]


def _rows(path: Path) -> list[tuple[str, dict]]:
    """``(where, row)`` pairs; ``where`` names the file and the line or row for messages."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_rows(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return _csv_rows(path, "excel-tab" if suffix == ".tsv" else "excel")
    if suffix == ".json":
        return _json_rows(path)
    raise FormatError(f"{path}: URL manifest must be .csv, .tsv, .txt, .json or .parquet")


_SCHEME_RE = re.compile(r"^https?://", re.IGNORECASE)


def read_url_manifest(path: str | Path) -> list[UrlEntry]:
    """Parse and validate a URL manifest (see the module docstring for row identity and duplicates)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: URL manifest not found")
    entries: list[UrlEntry] = []
    seen: dict[str, str] = {}
    for where, raw in _rows(path):
        row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        written = _opt_str(row.get("url"))
        if written is None:
            raise FormatError(f"{where}: empty url")
        url = redact_url(written)
        if not _SCHEME_RE.match(url):
            raise FormatError(f"{where}: url must start with http:// or https://, got {url!r}"[:300])
        if not urlsplit(url).hostname:
            raise FormatError(f"{where}: url has no host: {url!r}"[:300])
        start = _opt_float(row.get("start"), "start", where)
        end = _opt_float(row.get("end"), "end", where)
        if start is not None and end is not None and end <= start:
            raise FormatError(f"{where}: end ({end}) must be after start ({start})")
        try:
            key = row_key(url, start, end)
        except FormatError as exc:
            raise FormatError(f"{where}: {exc}") from None
        if key in seen:
            log.warning("%s: %s repeats the row at %s; read once", where, url, seen[key])
            continue
        seen[key] = where
        entries.append(
            UrlEntry(
                url=url,
                key=key,
                url_key=url_key(url),
                start=start,
                end=end,
                genre=_opt_str(row.get("genre")),
                license=_opt_str(row.get("license")),
                creator=_opt_str(row.get("creator")),
                fetch_url=written if written != url else None,
            )
        )
    return entries
