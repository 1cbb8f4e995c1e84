"""The appearance dimensions: one :class:`DimensionSpec` per metric key, registered explicitly.

A dimension is a :class:`~benchmark.appearance.base.VideoDimension` (it sees each video once, in chunks of
frames) plus a spec naming its metric (label, direction, meaning), whether it needs the GT video, and the
factory that builds it (``"module:Class"``, imported only when the dimension runs: most load a model; or
the class itself).
Keys whose specs name the same factory share one instance (SSIM and PSNR, one decode of the GT frames).

Adding a dimension is one module (the ``VideoDimension``) plus one line in :data:`DIMENSIONS` (or a call
to :func:`register_dimension` from a plugin or test). The ``vbench-appearance`` protocol reports every
registered dimension (:attr:`benchmark.appearance.protocol.AppearanceProtocol.metrics`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmark.protocol_base import MetricSpec

__all__ = ["DIMENSIONS", "DimensionSpec", "dimension_keys", "register_dimension"]


@dataclass(frozen=True)
class DimensionSpec:
    metric: MetricSpec
    #: ``"module:factory"`` (imported when the dimension runs) or the factory itself; called as
    #: ``factory(keys, device=..., batch_size=...)`` and returns a ``VideoDimension``
    factory: str | Callable[..., Any]
    needs_gt: bool = False
    #: one of the six VBench dimensions of Table 1 (scored by default and by ``selfcheck``)
    vbench: bool = False
    #: names in the weights registry (``manifests/weights.yaml``) the dimension loads: checked for presence
    #: before any work, so a missing one is reported first (:func:`benchmark.appearance.api.unavailable_dims`)
    weights: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.metric.key


def _spec(
    key, label, higher, description, factory, needs_gt=False, vbench=False, weights=()
) -> DimensionSpec:
    return DimensionSpec(
        MetricSpec(key, label, higher, description), factory, needs_gt, vbench, tuple(weights)
    )


_A = "benchmark.appearance."

#: Every dimension the toolkit ships, in reporting order.
DIMENSIONS: dict[str, DimensionSpec] = {
    s.key: s
    for s in (
        _spec("imaging_quality", "IQ", True, "VBench imaging quality (MUSIQ-SPAQ / 100)",
              _A + "musiq:ImagingQuality", vbench=True, weights=["musiq-spaq"]),
        _spec("aesthetic_quality", "AQ", True, "VBench aesthetic quality (LAION head on CLIP ViT-L/14)",
              _A + "clip_dims:AestheticQuality", vbench=True,
              weights=["clip-vit-l-14", "laion-aesthetic-vit-l-14"]),
        _spec("subject_consistency", "SC", True, "VBench subject consistency (DINO ViT-B/16)",
              _A + "dino:SubjectConsistency", vbench=True, weights=["dino-vitb16"]),
        _spec("background_consistency", "BC", True, "VBench background consistency (CLIP ViT-B/32)",
              _A + "clip_dims:BackgroundConsistency", vbench=True, weights=["clip-vit-b-32"]),
        _spec("motion_smoothness", "MS", True, "VBench motion smoothness (AMT-S frame interpolation)",
              _A + "amt:MotionSmoothness", vbench=True, weights=["amt-s"]),
        _spec("temporal_flickering", "TF", True, "VBench temporal flickering",
              _A + "simple_dims:TemporalFlickering", vbench=True),
        _spec("fvd", "FVD", False, "Frechet video distance (I3D)", _A + "fvd:FvdDimension", needs_gt=True,
              weights=["i3d-stylegan-v"]),
        _spec("ssim", "SSIM", True, "structural similarity to the GT video", _A + "simple_dims:SsimPsnr",
              needs_gt=True),
        _spec("lpips", "LPIPS", False, "LPIPS distance to the GT video (AlexNet)", _A + "lpips:LpipsDimension",
              needs_gt=True, weights=["alexnet-imagenet", "lpips-alex-v0.1"]),
        _spec("psnr", "PSNR", True, "peak signal-to-noise ratio to the GT video (dB)",
              _A + "simple_dims:SsimPsnr", needs_gt=True),
    )
}  # fmt: skip


def register_dimension(spec: DimensionSpec) -> DimensionSpec:
    """Add a dimension (its key must be new, or the same spec again)."""
    existing = DIMENSIONS.get(spec.key)
    if existing is not None and existing != spec:
        raise ValueError(f"appearance dimension {spec.key!r} registered twice with different definitions")
    DIMENSIONS[spec.key] = spec
    return spec


def dimension_keys(*, vbench: bool | None = None, needs_gt: bool | None = None) -> tuple[str, ...]:
    """Registered metric keys in reporting order, optionally only the VBench ones / the full-reference ones."""
    return tuple(
        k
        for k, s in DIMENSIONS.items()
        if (vbench is None or s.vbench == vbench) and (needs_gt is None or s.needs_gt == needs_gt)
    )
