"""Pose backends by name, for ``--pose mediapipe|vitpose``. Backends are imported lazily (heavy deps)."""

from __future__ import annotations

import importlib
from typing import Any

from ma_data.core.errors import ConfigError
from ma_data.core.pose.base import PoseBackend

#: name -> (module, class, one-line description)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "mediapipe": (
        "ma_data.core.pose.mediapipe_backend",
        "MediaPipeBackend",
        "BlazePose (model_complexity=1, video mode) mapped to ViTPose-25; offline, weights bundled",
    ),
    "vitpose": (
        "ma_data.core.pose.vitpose_backend",
        "ViTPoseBackend",
        "ViTPose-S coco_25 (easy_ViTPose checkpoint) + a person detector (YOLOv8s, official; or RT-DETR); the official model",
    ),
}
DEFAULT_BACKEND = "mediapipe"
#: Backends whose models run on a GPU when there is one (placed one worker per GPU by the executors).
GPU_BACKENDS = frozenset({"vitpose"})


def available_backends() -> list[str]:
    return list(BACKENDS)


def uses_gpu(name: str, kwargs: dict[str, Any] | None = None) -> bool:
    """Whether backend ``name`` built with ``kwargs`` wants a GPU (its device is not forced to the CPU)."""
    return name in GPU_BACKENDS and str((kwargs or {}).get("device") or "cuda").startswith("cuda")


def get_backend(name: str = DEFAULT_BACKEND, **kwargs: Any) -> PoseBackend:
    """Instantiate backend ``name``; raises ``ValueError`` for unknown names and the backend's own errors
    (e.g. :class:`ma_data.core.errors.MissingWeightError`) when it cannot be built."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown pose backend {name!r}; choose from {', '.join(BACKENDS)}")
    module, cls, _ = BACKENDS[name]
    return getattr(importlib.import_module(module), cls)(**kwargs)
