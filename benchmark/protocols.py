"""Named, versioned evaluation protocols.

A protocol is a frozen set of parameters plus an implementation. The same metric name (FID_k, BAS) means
different numbers under different protocols, so every result records the protocol's name, version and every
parameter. Protocol modules call :func:`register_protocol` at import; :func:`get_protocol` imports the known
modules on first use so that looking a protocol up never depends on import order.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from ma_data.core.errors import MaceError

# Modules that register protocols when imported. Add a module here when it defines new protocols.
_PROTOCOL_MODULES = (
    "benchmark.motion.mace2d",
    "benchmark.motion.protocols3d",
    "benchmark.appearance",
)

_REGISTRY: dict[str, Protocol] = {}

#: Frame rates a motion or keypoint file may declare (frames per second, inclusive). Dance video and motion
#: capture run at 8-120 fps (MA-Data 16, FineDance 30, AIST++ 60); 240 leaves room for high-speed capture.
#: A file outside this range is corrupt or mislabelled: its frame times would scale velocities by orders of
#: magnitude, so the item is skipped with this reason instead of being scored.
PLAUSIBLE_FPS: tuple[float, float] = (1.0, 240.0)


def fps_problem(fps: Any, what: str = "frame rate") -> str | None:
    """Why ``fps`` is not a plausible frame rate (see :data:`PLAUSIBLE_FPS`), or None when it is."""
    lo, hi = PLAUSIBLE_FPS
    try:
        value = float(fps)
    except (TypeError, ValueError):
        return f"{what} {fps!r:.40} is not a number"
    if not lo <= value <= hi:  # also false for NaN
        return f"{what} {value:g} fps is outside the plausible range [{lo:g}, {hi:g}]"
    return None


@dataclass(frozen=True)
class Protocol:
    """A named measurement recipe: ``params`` holds every number that moves the result."""

    name: str
    version: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    description: str = ""
    kind: str = "motion2d"  # motion2d | motion3d | appearance

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "description": self.description,
            "params": dict(self.params),
        }


def register_protocol(protocol: Protocol) -> Protocol:
    """Register a protocol; registering the same name twice with different content is an error."""
    existing = _REGISTRY.get(protocol.name)
    if existing is not None and existing != protocol:
        raise ValueError(f"protocol {protocol.name!r} registered twice with different definitions")
    _REGISTRY[protocol.name] = protocol
    return protocol


def _load_all() -> None:
    for module in _PROTOCOL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # A protocol module that is not part of this install (or not written yet) simply adds nothing;
            # a missing dependency *inside* an existing module is a real error and propagates.
            if exc.name is None or not module.startswith(exc.name):
                raise


def get_protocol(name: str) -> Protocol:
    if name not in _REGISTRY:
        _load_all()
    if name not in _REGISTRY:
        raise MaceError(f"unknown protocol {name!r}; known: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[name]


def list_protocols(kind: str | None = None) -> list[Protocol]:
    _load_all()
    return sorted((p for p in _REGISTRY.values() if kind is None or p.kind == kind), key=lambda p: p.name)
