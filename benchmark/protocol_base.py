"""Typed evaluation protocols: a protocol is a frozen dataclass whose fields are its parameters.

Every family of protocols (2D keypoints, 3D motion, appearance) subclasses :class:`Protocol` with typed fields
(enums for the choices, numbers, nested frozen dataclasses); behaviour is chosen by those fields, never by
looking up string keys. Each family declares the metrics it reports as :class:`MetricSpec` (key, display
label, direction, description). A protocol serialises to ``{name, version, kind, description, params}``,
``params`` being its fields as JSON values, which is what results files record and what the leaderboard
compares.

Two kinds of field:

- *parameters*: every number or choice that moves a result; each is read by the implementation (a test
  checks that every parameter name is used outside its definition).
- *documentation* fields (:func:`doc_field`): a sentence stating a fixed recipe or where the protocol comes
  from (``reference``, a strict protocol's ``fixes``). They are recorded for the reader, never switched on.

A field declared with ``omit_none=True`` is left out of ``params`` when it is None: it does not apply to
that protocol (e.g. ``n_frames`` for a protocol that windows by seconds). A field declared with
:func:`unrecorded_field` is an option of one kind of input that the results record elsewhere (how keypoints
are extracted from videos: ``inputs.motion.keypoint_extraction``), so ``params`` (which test sets pin) is the
same for every input kind; :meth:`Protocol.from_dict` gives such fields their family default.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ma_data.core.errors import MaceError

__all__ = [
    "PER_FPS",
    "PLAUSIBLE_FPS",
    "MetricSpec",
    "Protocol",
    "doc_field",
    "fps_problem",
    "frame_time",
    "optional_field",
    "to_json_value",
    "unrecorded_field",
]

#: Frame rates a motion or keypoint file may declare (frames per second, inclusive). Dance video and motion
#: capture run at 8-120 fps (MA-Data 16, FineDance 30, AIST++ 60); 240 leaves room for high-speed capture.
#: A file outside this range is corrupt or mislabelled: its frame times would scale velocities by orders of
#: magnitude, so the item is skipped with this reason instead of being scored.
PLAUSIBLE_FPS: tuple[float, float] = (1.0, 240.0)

#: The value of a frame-time parameter meaning "one frame of the data": ``1 / fps`` of each file.
PER_FPS = "1/fps"


def fps_problem(
    fps: Any, what: str = "frame rate", bounds: tuple[float, float] = PLAUSIBLE_FPS
) -> str | None:
    """Why ``fps`` is not a plausible frame rate (see :data:`PLAUSIBLE_FPS`), or None when it is."""
    lo, hi = bounds
    try:
        value = float(fps)
    except (TypeError, ValueError):
        return f"{what} {fps!r:.40} is not a number"
    if not lo <= value <= hi:  # also false for NaN
        return f"{what} {value:g} fps is outside the plausible range [{lo:g}, {hi:g}]"
    return None


def frame_time(value: float | str, fps: float) -> float:
    """Seconds per frame for a frame-time parameter: a number, or :data:`PER_FPS` (``1 / fps``)."""
    return 1.0 / float(fps) if value == PER_FPS else float(value)


def doc_field(default: Any, *, omit_none: bool = False) -> Any:
    """A documentation field: recorded in ``params`` for the reader, never read as a switch."""
    return field(default=default, metadata={"doc": True, "omit_none": omit_none}, hash=False)


def unrecorded_field(default: Any) -> Any:
    """An option that is not a parameter of the measurement (see the module docstring): not in ``params``."""
    return field(default=default, metadata={"record": False}, compare=True, hash=False)


def optional_field(default: Any = None) -> Any:
    """A parameter that does not apply to every protocol of the family: left out of ``params`` when None."""
    return field(default=default, metadata={"omit_none": True})


@dataclass(frozen=True)
class MetricSpec:
    """A metric a protocol reports: its results key, display label, direction and meaning.

    ``higher_is_better`` is None for values with no preferred direction (the ground truth's own diversity
    and beat alignment, which a method should match rather than beat).
    """

    key: str
    label: str
    higher_is_better: bool | None
    description: str


def to_json_value(value: Any) -> Any:
    """A parameter value as JSON sees it: enums by value, tuples as lists, dataclasses and mappings as dicts."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json_value(getattr(value, f.name))
            for f in fields(value)
            if not (getattr(value, f.name) is None and f.metadata.get("omit_none"))
        }
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json_value(v) for v in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Convert a JSON-ish value (str for an enum, dict for a dataclass, list for a tuple) to ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        for option in options:  # enums, dataclasses and tuples first: a plain str/float option takes the rest
            typed = isinstance(option, type) and issubclass(option, enum.Enum)
            if typed or dataclasses.is_dataclass(option) or typing.get_origin(option) is tuple:
                try:
                    return _coerce(option, value, where)
                except (ValueError, TypeError, MaceError):
                    continue
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if isinstance(value, hint):
            return value
        try:
            return hint(value)
        except ValueError:
            known = ", ".join(repr(m.value) for m in hint)
            raise MaceError(f"{where}: {value!r:.60} is not one of {known}") from None
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return _construct(hint, value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise TypeError(f"{where}: {value!r:.60} is not a list")
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return tuple(_coerce(inner, v, where) for v in value)
    if origin in (dict, Mapping) or hint is Mapping:
        return types.MappingProxyType(dict(value)) if isinstance(value, Mapping) else value
    return value


def _construct(cls: type, values: Mapping[str, Any], where: str) -> Any:
    names = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(values) - names)
    if unknown:
        raise MaceError(f"{where}: unknown parameter(s) {', '.join(map(repr, unknown))}")
    return cls(**values)


def _coerce_fields(obj: Any) -> None:
    hints = _hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        new = _coerce(hints.get(f.name, Any), value, f"{type(obj).__name__}.{f.name}")
        if new is not value:
            object.__setattr__(obj, f.name, new)


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """A named, versioned measurement recipe. Subclasses (one per family) add typed parameter fields.

    Fields typed as enums, tuples, mappings or nested dataclasses accept their JSON form (a string, a list,
    a dict) and are converted on construction, so ``dataclasses.replace(p, window="first")`` and
    :meth:`from_dict` both give typed values.
    """

    name: str
    version: str
    description: str = ""

    #: protocol family: ``motion2d`` | ``motion3d`` | ``appearance`` (set by each family)
    kind: ClassVar[str] = ""
    #: the metrics the family reports, in reporting order
    METRICS: ClassVar[tuple[MetricSpec, ...]] = ()

    _IDENTITY: ClassVar[tuple[str, ...]] = ("name", "version", "description")

    def __post_init__(self) -> None:
        _coerce_fields(self)

    @property
    def metrics(self) -> tuple[MetricSpec, ...]:
        return self.METRICS

    def metric_spec(self, key: str) -> MetricSpec | None:
        return next((m for m in self.metrics if m.key == key), None)

    @classmethod
    def parameter_fields(cls) -> list[dataclasses.Field]:
        """Every recorded field except the identity (name, version, description)."""
        return [f for f in fields(cls) if f.name not in cls._IDENTITY and f.metadata.get("record", True)]

    @property
    def params(self) -> dict[str, Any]:
        """The typed fields as JSON values (a fresh dict): what results files record as ``params``."""
        out: dict[str, Any] = {}
        for f in self.parameter_fields():
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = to_json_value(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "description": self.description,
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Protocol:
        """The protocol a results file recorded (``{name, version, description, params}``), typed.

        Raises :class:`MaceError` for a parameter this family does not have or a choice it does not know.
        """
        params = doc.get("params") or {}
        where = f"protocol {str(doc.get('name'))[:60]}"
        return _construct(
            cls,
            {
                "name": doc.get("name"),
                "version": doc.get("version"),
                "description": doc.get("description", ""),
                **params,
            },
            where,
        )
