"""Strict JSON for files from others: UTF-8, finite numbers, no duplicate keys, bounded nesting.

Python's ``json`` accepts ``NaN``/``Infinity``, turns ``1e999`` into ``inf`` (and a 400-digit integer into
something no float holds) and keeps the last of two equal keys silently; each of those lets a hand-edited file say two things at once. :func:`loads_strict` refuses all
of them with a :class:`JsonError` whose message says which rule broke.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64


class JsonError(ValueError):
    """A JSON document breaks one of the strict rules; ``code`` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _constant(name: str) -> Any:
    raise JsonError("json.non_finite", f"non-finite number {name}")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError("json.non_finite", f"number {text[:40]} overflows to {value}")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 20:  # beyond any count or seed; would overflow a float downstream
        raise JsonError("json.non_finite", f"integer {text[:40]}... has more than 20 digits")
    return int(text)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonError("json.duplicate_key", f"duplicate key {key[:80]!r}")
        out[key] = value
    return out


def depth(obj: Any) -> int:
    """Nesting depth of a parsed document (iterative: never recurses)."""
    best, stack = 0, [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict | list):
            best = max(best, d)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, d + 1) for c in children if isinstance(c, dict | list))
    return best


def loads_strict(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` (bytes) as strict JSON; raises :class:`JsonError` (``.code`` = ``json.*``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonError("json.invalid", f"not UTF-8 text (byte {exc.start})") from None
    try:
        doc = json.loads(
            text, parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=_pairs
        )
    except JsonError:
        raise
    except RecursionError:
        raise JsonError("json.too_deep", "nested too deeply to parse") from None
    except json.JSONDecodeError as exc:
        raise JsonError("json.invalid", f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except (ValueError, MemoryError) as exc:  # e.g. an integer with more digits than Python converts
        raise JsonError("json.invalid", f"invalid JSON ({str(exc)[:120]})") from None
    if depth(doc) > max_depth:
        raise JsonError("json.too_deep", f"nested deeper than {max_depth} levels")
    return doc


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, ASCII): the same object gives the same bytes anywhere."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()
