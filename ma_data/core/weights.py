"""Registry and cache of model weights.

Known weights are listed in ``manifests/weights.yaml`` (name, file name, source URL, sha256, licence).
They live in one cache directory: ``$MACE_DANCE_CACHE`` or ``~/.cache/mace-dance``, under ``weights/``.
Nothing is downloaded unless the user asks (``mace-bench weights fetch NAME``); a missing file is a
:class:`~ma_data.core.errors.MissingWeightError` that says which file, where it was looked for and how to get it.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from ma_data.core.errors import FormatError, MissingWeightError, WeightMismatchError
from ma_data.core.io.atomic import atomic_path, sha256_file

CACHE_ENV = "MACE_DANCE_CACHE"


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


def cache_dir() -> Path:
    """The toolkit's cache root (weights, keypoint tracks, ...)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "mace-dance")).expanduser()


def weights_dir() -> Path:
    return cache_dir() / "weights"


@lru_cache(maxsize=1)
def registry() -> dict[str, WeightSpec]:
    """All weights listed in ``manifests/weights.yaml``, by name."""
    text = resources.files("manifests").joinpath("weights.yaml").read_text()
    raw = yaml.safe_load(text) or {}
    specs = {}
    for name, entry in (raw.get("weights") or {}).items():
        try:
            specs[name] = WeightSpec(
                name=name,
                filename=entry["filename"],
                url=entry.get("url"),
                sha256=entry.get("sha256"),
                license=entry.get("license"),
                description=entry.get("description", ""),
                used_by=tuple(entry.get("used_by", ())),
                is_dir=bool(entry.get("is_dir", False)),
            )
        except (KeyError, TypeError) as exc:
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


def resolve_weight(name: str, path: str | os.PathLike | None = None) -> Path:
    """Return the path of an available weight, or raise a MissingWeightError telling how to get it.

    ``path`` overrides the cache location (a user-supplied file or directory).
    """
    spec = get_spec(name)
    target = Path(path).expanduser() if path is not None else weight_path(name)
    if target.exists():
        return target
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


def verify_weight(name: str, path: str | os.PathLike | None = None) -> tuple[bool, str]:
    """Check a weight's sha256 against the registry. Returns (ok, message)."""
    spec = get_spec(name)
    target = resolve_weight(name, path)
    if spec.is_dir:
        return True, f"{name}: directory present at {target} (no checksum for directories)"
    actual = sha256_file(target)
    if spec.sha256 is None:
        return True, f"{name}: present, sha256 {actual} (registry has no checksum)"
    if actual != spec.sha256:
        return False, f"{name}: sha256 mismatch for {target}: expected {spec.sha256}, got {actual}"
    return True, f"{name}: ok ({target})"


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
        if spec.sha256 is not None and sha256_file(tmp) != spec.sha256:
            raise WeightMismatchError(f"{name}: downloaded file from {spec.url} fails its sha256 check")
    return target
