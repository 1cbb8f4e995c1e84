"""The submitter's metadata (``META.yaml`` -> ``submission.json``): fields, types and text rules.

Every string here ends up on a public page, so the rules are strict: bounded length, no control or
invisible formatting characters (bidirectional overrides can make a name read as another), no leading or
trailing blanks; links are ``http(s)`` URLs or null. The same function checks ``META.yaml`` when packing and
``submission.json`` when validating, so a bundle that packs is a bundle whose metadata validates.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

SUBMISSION_SCHEMA = "mace-dance/submission"
SUBMISSION_SCHEMA_VERSION = "1.0"

#: field -> maximum length; all required in META.yaml
TEXT_FIELDS = {
    "method": 120,
    "method_version": 60,
    "generated_by": 200,
    "evaluated_by": 200,
    "license": 100,
}
URL_FIELDS = ("paper_url", "code_url")
OPTIONAL_TEXT = {"notes": 1000}
META_FIELDS = (*TEXT_FIELDS, *URL_FIELDS, "sampling")
SAMPLING_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
MAX_SAMPLING_KEYS = 32


def text_problem(value: Any, max_len: int) -> str | None:
    """Why ``value`` is not acceptable display text, or None."""
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if not value or value != value.strip():
        return "must be non-empty without leading/trailing blanks"
    if len(value) > max_len:
        return f"longer than {max_len} characters"
    for ch in value:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn") or cat in ("Zl", "Zp"):
            return f"contains the invisible/control character U+{ord(ch):04X}"
    return None


def url_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500:
        return "must be an http(s) URL (at most 500 characters) or null"
    if any(c.isspace() or c in "\"'<>`\\" or ord(c) < 32 or ord(c) > 126 for c in value):
        return "must be a plain ASCII http(s) URL (no spaces, quotes or angle brackets)"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return "must be an http(s) URL with a host"
    return None


def _scalar_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number"
    if isinstance(value, str):
        return text_problem(value, 200)
    return f"must be text, a number, true/false or null, not {type(value).__name__}"


def sampling_problems(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return ["sampling: must be a mapping (e.g. seed, steps, resolution, fps)"]
    out = []
    if len(value) > MAX_SAMPLING_KEYS:
        out.append(f"sampling: more than {MAX_SAMPLING_KEYS} entries")
    for key, item in value.items():
        if not isinstance(key, str) or not SAMPLING_KEY_RE.match(key):
            out.append(f"sampling: key {str(key)[:40]!r} must be a plain name ([A-Za-z0-9_.-], at most 40)")
            continue
        items = item if isinstance(item, list) else [item]
        if isinstance(item, list) and len(item) > 8:
            out.append(f"sampling.{key}: lists hold at most 8 values")
        for v in items[:8]:
            p = _scalar_problem(v)
            if p:
                out.append(f"sampling.{key}: {p}")
                break
    return out


def meta_problems(meta: Any, extra_allowed: tuple[str, ...] = ()) -> list[str]:
    """Every problem with a metadata mapping (``META.yaml`` or the metadata part of ``submission.json``)."""
    if not isinstance(meta, dict):
        return ["metadata must be a mapping"]
    out = []
    for key, max_len in TEXT_FIELDS.items():
        if key not in meta:
            out.append(f"{key}: missing")
        else:
            p = text_problem(meta[key], max_len)
            if p:
                out.append(f"{key}: {p}")
    for key in URL_FIELDS:
        if key not in meta:
            out.append(f"{key}: missing (use null when there is none)")
        else:
            p = url_problem(meta[key])
            if p:
                out.append(f"{key}: {p}")
    if "sampling" not in meta:
        out.append("sampling: missing (seed, steps, resolution, fps, ...)")
    else:
        out.extend(sampling_problems(meta["sampling"]))
    for key, max_len in OPTIONAL_TEXT.items():
        if key in meta and meta[key] is not None:
            p = text_problem(meta[key], max_len)
            if p:
                out.append(f"{key}: {p}")
    allowed = {*META_FIELDS, *OPTIONAL_TEXT, *extra_allowed}
    unknown = sorted(str(k)[:40] for k in meta if k not in allowed)
    if unknown:
        out.append(f"unknown field(s): {', '.join(unknown)}")
    return out


def public_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata fields shown on the board (already validated)."""
    keys = (*TEXT_FIELDS, *URL_FIELDS, "sampling", *OPTIONAL_TEXT)
    return {k: meta[k] for k in keys if k in meta}
