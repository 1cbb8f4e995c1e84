"""The registry of evaluation protocols: every protocol the toolkit knows, listed explicitly.

A protocol is a typed, frozen dataclass (:class:`~benchmark.protocol_base.Protocol`): one family per kind of
input (:class:`~benchmark.motion.protocols2d.Mace2dProtocol`, :class:`~benchmark.motion.protocols3d.
Motion3dProtocol`, :class:`~benchmark.appearance.protocol.AppearanceProtocol`), one object per named
protocol. :data:`PROTOCOLS` lists them; adding a protocol is defining its object in its family's module and
adding one line here. :func:`register_protocol` adds one at run time (plugins, tests).

The same metric name (FID_k, BAS) means different numbers under different protocols, so every result
records the protocol's name, version and every parameter (:meth:`Protocol.to_dict`).
"""

from __future__ import annotations

from benchmark.appearance.protocol import VBENCH_APPEARANCE
from benchmark.motion.protocols2d import MACE2D_OFFICIAL, MACE2D_STRICT
from benchmark.motion.protocols3d import (
    BAILANDO3D,
    BAILANDO3D_STRICT,
    FINEDANCE3D,
    FINEDANCE3D_STRICT,
    MACE3D,
    MACE3D_STRICT,
)
from benchmark.protocol_base import PLAUSIBLE_FPS, MetricSpec, Protocol, fps_problem
from ma_data.core.errors import MaceError

__all__ = [
    "KINDS",
    "PLAUSIBLE_FPS",
    "PROTOCOLS",
    "MetricSpec",
    "Protocol",
    "fps_problem",
    "get_protocol",
    "list_protocols",
    "metric_specs",
    "register_protocol",
]

#: Every protocol of the toolkit. One line per protocol.
PROTOCOLS: tuple[Protocol, ...] = (
    MACE2D_OFFICIAL,
    MACE2D_STRICT,
    BAILANDO3D,
    FINEDANCE3D,
    MACE3D,
    BAILANDO3D_STRICT,
    FINEDANCE3D_STRICT,
    MACE3D_STRICT,
    VBENCH_APPEARANCE,
)

#: Protocol kinds: what each scores (and the ``mace-bench`` command that runs it).
KINDS = {
    "motion2d": "2D keypoint tracks (evaluate --dims motion)",
    "motion3d": "3D SMPL motion (evaluate-3d)",
    "appearance": "videos, VBench dimensions and full-reference metrics (evaluate --dims appearance)",
}

_REGISTRY: dict[str, Protocol] = {p.name: p for p in PROTOCOLS}


def register_protocol(protocol: Protocol) -> Protocol:
    """Register a protocol at run time; registering the same name twice with different content is an error."""
    if protocol.kind not in KINDS:
        raise ValueError(f"protocol {protocol.name!r}: unknown kind {protocol.kind!r} ({', '.join(KINDS)})")
    existing = _REGISTRY.get(protocol.name)
    if existing is not None and existing != protocol:
        raise ValueError(f"protocol {protocol.name!r} registered twice with different definitions")
    _REGISTRY[protocol.name] = protocol
    return protocol


def unregister_protocol(name: str) -> None:
    """Remove a protocol registered at run time (the built-in ones stay)."""
    if any(p.name == name for p in PROTOCOLS):
        raise ValueError(f"protocol {name!r} is built in")
    _REGISTRY.pop(name, None)


def get_protocol(name: str | Protocol, kind: str | None = None) -> Protocol:
    """The protocol called ``name`` (a protocol object is returned as is); with ``kind``, it must be one.

    Raises a one-line :class:`MaceError` naming the known protocols (of that kind).
    """
    protocol = name if isinstance(name, Protocol) else _REGISTRY.get(name)
    if protocol is None:
        known = ", ".join(p.name for p in list_protocols(kind)) or "none"
        raise MaceError(f"unknown protocol {name!r}; known: {known}")
    if kind is not None and protocol.kind != kind:
        raise MaceError(
            f"protocol {protocol.name} is a {protocol.kind} protocol ({KINDS.get(protocol.kind, '?')}), "
            f"not {kind} ({KINDS.get(kind, '?')})"
        )
    return protocol


def list_protocols(kind: str | None = None) -> list[Protocol]:
    return sorted((p for p in _REGISTRY.values() if kind is None or p.kind == kind), key=lambda p: p.name)


def metric_specs() -> dict[str, MetricSpec]:
    """Every metric key any registered protocol reports, with its label and direction (the same key has the
    same spec in every protocol; a conflict is a bug and raises)."""
    out: dict[str, MetricSpec] = {}
    for p in list_protocols():
        for spec in p.metrics:
            seen = out.setdefault(spec.key, spec)
            if (seen.label, seen.higher_is_better) != (spec.label, spec.higher_is_better):
                raise ValueError(f"metric {spec.key!r} has different labels or directions across protocols")
    return out
