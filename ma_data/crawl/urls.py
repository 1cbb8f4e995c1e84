"""Read the URL manifest (CSV or Parquet) that drives a crawl.

Columns: ``url`` (required), optional ``start`` and ``end`` (seconds; restrict curation to that span of the
source), ``genre``, ``license``, ``creator``. Unknown columns are ignored. A file without a header whose first
line is a URL is read as a plain URL list (one per line). See ``manifests/urls/README.md``.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ma_data.core.errors import FormatError

__all__ = ["UrlEntry", "normalize_url", "read_url_manifest", "url_key"]

OPTIONAL_COLUMNS = ("start", "end", "genre", "license", "creator")


@dataclass(frozen=True)
class UrlEntry:
    """One row of the URL manifest; ``key`` is a stable id derived from the normalised URL."""

    url: str
    key: str
    start: float | None = None
    end: float | None = None
    genre: str | None = None
    license: str | None = None
    creator: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment; the path and query are kept as given."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def url_key(url: str) -> str:
    """A filesystem-safe, stable id for a URL (never built from remote metadata)."""
    return "u" + hashlib.sha256(normalize_url(url).encode()).hexdigest()[:15]


def _opt_float(value: object, col: str, where: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError(f"{where}: column {col!r} must be seconds, got {value!r}") from None
    if math.isnan(f):
        return None
    if f < 0:
        raise FormatError(f"{where}: column {col!r} must be >= 0, got {f}")
    return f


def _opt_str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    s = str(value).strip()
    return s or None


def _rows(path: Path) -> list[dict]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix in (".csv", ".tsv", ".txt"):
        with path.open(newline="", encoding="utf-8") as fh:
            lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        if lines and _SCHEME_RE.match(lines[0].strip()):
            # No header: a plain URL list (optionally with the other columns in their documented order).
            return list(csv.DictReader(lines, fieldnames=["url", *OPTIONAL_COLUMNS], dialect=dialect))
        return list(csv.DictReader(lines, dialect=dialect))
    if suffix == ".json":
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise FormatError(f"{path}: invalid JSON ({exc})") from None
        data = data.get("urls", data) if isinstance(data, dict) else data
        if not isinstance(data, list):
            raise FormatError(f"{path}: JSON URL manifest must be a list (of URLs or of row objects)")
        return [{"url": d} if isinstance(d, str) else dict(d) for d in data]
    raise FormatError(f"{path}: URL manifest must be .csv, .tsv, .txt, .json or .parquet")


_SCHEME_RE = re.compile(r"^https?://", re.IGNORECASE)


def read_url_manifest(path: str | Path) -> list[UrlEntry]:
    """Parse and validate a URL manifest; duplicate URLs (after normalisation) keep their first row."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: URL manifest not found")
    rows = _rows(path)
    if rows and "url" not in {str(k).strip().lower() for k in rows[0]}:
        raise FormatError(f"{path}: URL manifest needs a 'url' column (found {sorted(rows[0])})")
    entries: list[UrlEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(rows, start=2):
        row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        where = f"{path}:{i}"
        url = _opt_str(row.get("url"))
        if url is None:
            raise FormatError(f"{where}: empty url")
        if not _SCHEME_RE.match(url):
            raise FormatError(f"{where}: url must start with http:// or https://, got {url!r}")
        start = _opt_float(row.get("start"), "start", where)
        end = _opt_float(row.get("end"), "end", where)
        if start is not None and end is not None and end <= start:
            raise FormatError(f"{where}: end ({end}) must be after start ({start})")
        key = url_key(url)
        if key in seen:
            continue
        seen.add(key)
        entries.append(
            UrlEntry(
                url=url,
                key=key,
                start=start,
                end=end,
                genre=_opt_str(row.get("genre")),
                license=_opt_str(row.get("license")),
                creator=_opt_str(row.get("creator")),
            )
        )
    return entries
