"""Registry and cache of model weights, with every file's sha256 checked on load.

Known weights are listed in ``manifests/weights.yaml`` (name, file name, source URL, sha256, licence).
They live in one cache directory: ``$MACE_DANCE_CACHE`` or ``~/.cache/mace-dance``, under ``weights/``.
Nothing is downloaded unless the user asks (``mace-bench weights fetch NAME``); a missing file is a
:class:`~ma_data.core.errors.MissingWeightError` that says which file, where it was looked for and how to get it.

:func:`resolve_weight` verifies what it returns against the registry:

- a recorded ``sha256`` must match exactly; ``sha256_prefix`` (the hash prefix torchvision / pyiqa put in
  file names, when the publisher states no more) must start the file's sha256; a directory weight checks the
  ``files`` it lists. A mismatch in the cache is a :class:`~ma_data.core.errors.WeightMismatchError` naming
  the file, the expected and the actual hash; a file the user passes explicitly is used with a warning.
- a weight with no published hash on record (``sha256: null``, with ``hash_source`` saying why) loads with a
  warning, once per weight and process.

Hashes are cached by (path, size, mtime, inode), in memory and on disk (:data:`HASH_CACHE`, one small entry per
file state under ``$MACE_DANCE_CACHE/file-sha256/``), so loading a multi-GB weight again does not read it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ma_data.core.cache import CACHE_ENV, ContentCache, cache_dir
from ma_data.core.errors import FormatError, MissingWeightError, WeightMismatchError
from ma_data.core.io.atomic import atomic_path, sha256_file
from ma_data.core.packaged import read_packaged_text

#: On-disk memory of file hashes: entry ``digest`` = sha256 of the file state ``"path|size|mtime_ns|inode"``.
HASH_CACHE = ContentCache("file-sha256", ".json")

log = logging.getLogger(__name__)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX_PREFIX = re.compile(r"^[0-9a-f]{8,63}$")


@dataclass(frozen=True)
class WeightSpec:
    """One known weight file (or directory, for diffusers/transformers layouts)."""

    name: str
    filename: str
    url: str | None = None
    sha256: str | None = None
    license: str | None = None
    description: str = ""
    used_by: tuple[str, ...] = field(default_factory=tuple)
    is_dir: bool = False
    #: First hex digits of the sha256 when that is all the publisher states (torchvision/pyiqa file names).
    sha256_prefix: str | None = None
    #: Directory weights: (path inside the directory, sha256) of the files that are checked.
    files: tuple[tuple[str, str], ...] = ()
    #: Where the recorded hash comes from, or why none is recorded.
    hash_source: str = ""


def weights_dir() -> Path:
    return cache_dir() / "weights"


def _entry_spec(name: str, entry: dict) -> WeightSpec:
    sha = entry.get("sha256")
    prefix = entry.get("sha256_prefix")
    files = entry.get("files") or {}
    if sha is not None and not (isinstance(sha, str) and _HEX64.match(sha)):
        raise FormatError(f"manifests/weights.yaml: {name}: sha256 must be 64 lowercase hex digits or null")
    if prefix is not None and not (isinstance(prefix, str) and _HEX_PREFIX.match(prefix)):
        raise FormatError(f"manifests/weights.yaml: {name}: sha256_prefix must be 8-63 lowercase hex digits")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _HEX64.match(v) for k, v in files.items()
    ):
        raise FormatError(f"manifests/weights.yaml: {name}: files must map relative paths to sha256 digests")
    return WeightSpec(
        name=name,
        filename=entry["filename"],
        url=entry.get("url"),
        sha256=sha,
        license=entry.get("license"),
        description=entry.get("description", ""),
        used_by=tuple(entry.get("used_by", ())),
        is_dir=bool(entry.get("is_dir", False)),
        sha256_prefix=prefix,
        files=tuple(sorted(files.items())),
        hash_source=str(entry.get("hash_source", "")),
    )


@lru_cache(maxsize=1)
def registry() -> dict[str, WeightSpec]:
    """All weights listed in ``manifests/weights.yaml``, by name."""
    text = read_packaged_text("weights.yaml")
    raw = yaml.safe_load(text) or {}
    specs = {}
    for name, entry in (raw.get("weights") or {}).items():
        try:
            specs[name] = _entry_spec(name, entry)
        except (KeyError, TypeError, AttributeError) as exc:
            raise FormatError(f"manifests/weights.yaml: entry {name!r} is malformed ({exc})") from exc
    return specs


def get_spec(name: str) -> WeightSpec:
    specs = registry()
    if name not in specs:
        raise MissingWeightError(f"unknown weight {name!r}; known: {', '.join(sorted(specs))}")
    return specs[name]


def weight_path(name: str) -> Path:
    """Where weight ``name`` is expected in the cache (it may not exist)."""
    return weights_dir() / get_spec(name).filename


def resolve_weight(name: str, path: str | os.PathLike | None = None, verify: bool = True) -> Path:
    """Return the path of an available weight, or raise a MissingWeightError telling how to get it.

    ``path`` overrides the cache location (a user-supplied file or directory). With ``verify`` (the default)
    the file is checked against the registry's hash (see the module docstring).
    """
    spec = get_spec(name)
    target = Path(path).expanduser() if path is not None else weight_path(name)
    if not target.exists():
        source = f" (source: {spec.url})" if spec.url else ""
        if spec.is_dir:
            how = f"download the model folder{source} and place it there"
        elif spec.url:
            how = f"run `mace-bench weights fetch {name}`{source}, or copy the file there"
        else:
            how = "obtain the file from its authors and copy it there"
        raise MissingWeightError(
            f"weight {name!r} not found: looked for {target}; {how} (set ${CACHE_ENV} to move the cache)"
        )
    if verify:
        _verify_on_load(spec, target, explicit=path is not None)
    return target


# ------------------------------------------------------------------------------------------ hashing


_HASHES: dict[tuple[str, int, int, int], str] = {}
_WARNED: set[tuple[str, str]] = set()


def _read_hash_cache(state: str) -> str | None:
    def load(path: Path) -> str | None:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(doc, dict) and isinstance(doc.get("sha256"), str) and _HEX64.match(doc["sha256"])):
            raise ValueError("not a file-hash entry")
        return doc["sha256"] if doc.get("file") == state else None

    return HASH_CACHE.get(_state_digest(state), "", load)


def _write_hash_cache(state: str, digest: str) -> None:
    text = json.dumps({"file": state, "sha256": digest})
    HASH_CACHE.put(_state_digest(state), "", lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def cached_sha256(path: str | os.PathLike, fresh: bool = False) -> str:
    """sha256 of a file, remembered by (path, size, mtime, inode) in memory and on disk.

    ``fresh`` hashes the file again (and updates the caches), for an explicit ``weights verify``.
    """
    path = Path(path).resolve()
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    text_key = "|".join(map(str, key))
    if not fresh:
        if key in _HASHES:
            return _HASHES[key]
        digest = _read_hash_cache(text_key)
        if digest:
            _HASHES[key] = digest
            return digest
    digest = sha256_file(path)
    _HASHES[key] = digest
    _write_hash_cache(text_key, digest)
    return digest


def _check(spec: WeightSpec, target: Path, fresh: bool = False) -> tuple[str, str]:
    """``(status, message)``: status ``ok``, ``unknown`` (no published hash on record) or ``mismatch``."""
    name = spec.name
    why = f" ({spec.hash_source})" if spec.hash_source else ""
    if spec.is_dir:
        if not target.is_dir():
            return "mismatch", f"{target}: weight {name!r} must be a directory"
        if not spec.files:
            return "unknown", f"{name}: directory present at {target}, no published checksum on record{why}"
        for rel, expected in spec.files:
            member = target / rel
            if not member.is_file():
                return "mismatch", f"{member}: file of weight {name!r} missing"
            got = cached_sha256(member, fresh)
            if got != expected:
                return (
                    "mismatch",
                    f"{member}: sha256 mismatch for weight {name!r}: expected {expected}, got {got}",
                )
        return "ok", f"{name}: ok ({target}, {len(spec.files)} file(s) checked)"
    if not target.is_file():
        return "mismatch", f"{target}: weight {name!r} must be a file"
    got = cached_sha256(target, fresh)
    if spec.sha256:
        if got != spec.sha256:
            return (
                "mismatch",
                f"{target}: sha256 mismatch for weight {name!r}: expected {spec.sha256}, got {got}",
            )
        return "ok", f"{name}: ok ({target})"
    if spec.sha256_prefix:
        if not got.startswith(spec.sha256_prefix):
            return (
                "mismatch",
                f"{target}: sha256 mismatch for weight {name!r}: expected {spec.sha256_prefix}... "
                f"(the published prefix), got {got}",
            )
        return "ok", f"{name}: ok ({target}; sha256 {got} has the published prefix {spec.sha256_prefix})"
    return "unknown", f"{name}: present at {target}, sha256 {got}; no published checksum on record{why}"


def _warn_once(name: str, kind: str, message: str) -> None:
    if (name, kind) not in _WARNED:
        _WARNED.add((name, kind))
        log.warning("%s", message)


def _verify_on_load(spec: WeightSpec, target: Path, explicit: bool) -> None:
    status, message = _check(spec, target)
    if status == "unknown":
        _warn_once(spec.name, "unknown", f"warning: {message}; loading it unverified")
    elif status == "mismatch":
        if not explicit:
            raise WeightMismatchError(message)
        # The user named this file: use it, but say it is not the registered weight.
        _warn_once(
            spec.name, str(target), f"warning: {message}; using it as given (not the registered weight)"
        )


def verify_weight(name: str, path: str | os.PathLike | None = None) -> tuple[bool, str]:
    """Check a weight's sha256 against the registry, hashing it afresh. Returns (ok, message).

    A weight without a published hash is ``ok`` with its actual hash in the message.
    """
    spec = get_spec(name)
    target = resolve_weight(name, path, verify=False)
    status, message = _check(spec, target, fresh=True)
    return status != "mismatch", message


def fetch_weight(name: str, force: bool = False) -> Path:
    """Download a weight into the cache (only when the user asks), verifying its checksum."""
    spec = get_spec(name)
    target = weight_path(name)
    if target.exists() and not force:
        return target
    if spec.is_dir or not spec.url:
        raise MissingWeightError(
            f"weight {name!r} cannot be fetched automatically; place it at {target}"
            + (f" (source: {spec.url})" if spec.url else "")
        )
    with atomic_path(target) as tmp:
        with urllib.request.urlopen(spec.url, timeout=60) as response, open(tmp, "wb") as fh:
            shutil.copyfileobj(response, fh)
        got = sha256_file(tmp)
        if (spec.sha256 and got != spec.sha256) or (
            spec.sha256_prefix and not got.startswith(spec.sha256_prefix)
        ):
            expected = spec.sha256 or f"{spec.sha256_prefix}..."
            raise WeightMismatchError(
                f"{name}: downloaded file from {spec.url} fails its sha256 check: expected {expected}, got {got}"
            )
    return target
