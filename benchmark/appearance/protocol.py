"""The ``vbench-appearance`` protocol: every parameter that moves an appearance number, typed.

Most of it is documentation (:func:`~benchmark.protocol_base.doc_field`): VBench's recipe for each dimension
is fixed, and the record says what it is. The numbers (SSIM window and constants, PSNR cap, FVD clip length)
are the constants the implementation reads (:mod:`benchmark.appearance.params`), so the record cannot drift
from the code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from benchmark.appearance.dimensions import DIMENSIONS
from benchmark.appearance.params import (
    DATA_RANGE,
    DEFAULT_FVD_CLIP_POLICY,
    FVD_CLIP_LEN,
    FVD_CLIP_POLICIES,
    PSNR_MAX_DB,
    SSIM_K1,
    SSIM_K2,
    SSIM_SIGMA,
    SSIM_WINDOW,
)
from benchmark.protocol_base import MetricSpec, Protocol, doc_field, optional_field
from ma_data.core.errors import check_choice

__all__ = [
    "AppearanceProtocol",
    "FvdSettings",
    "PsnrSettings",
    "SsimSettings",
    "VBENCH_APPEARANCE",
    "appearance_protocol",
]


@dataclass(frozen=True)
class SsimSettings:
    window: int = SSIM_WINDOW
    sigma: float = SSIM_SIGMA
    k1: float = SSIM_K1
    k2: float = SSIM_K2
    data_range: float = DATA_RANGE
    filter: str = doc_field("valid")
    channels: str = doc_field("RGB, mean over channels")
    per_video: str = doc_field("mean over paired frames")


@dataclass(frozen=True)
class PsnrSettings:
    data_range: float = DATA_RANGE
    max_db: float = PSNR_MAX_DB
    per_video: str = doc_field("mean of per-frame PSNR")


@dataclass(frozen=True)
class FvdSettings:
    detector: str = doc_field("StyleGAN-V I3D TorchScript (rescale=True, resize=True, return_features=True)")
    clip_len: int = FVD_CLIP_LEN
    clips: str = doc_field("non-overlapping 16-frame runs of the paired frame range")
    stats: str = doc_field("mean and population covariance in float64; scipy sqrtm, real part")
    #: which clips feed the statistics (:data:`FVD_CLIP_POLICIES`); None is the default ``all-runs``, left out
    #: of the record so that 1.0's parameters (which test sets pin) stay byte-identical
    clip_policy: str | None = optional_field()

    def policy(self) -> str:
        return self.clip_policy or DEFAULT_FVD_CLIP_POLICY


def _recipe(**steps: str) -> Mapping[str, str]:
    return field(default_factory=lambda: dict(steps), metadata={"doc": True}, hash=False)


@dataclass(frozen=True, kw_only=True)
class AppearanceProtocol(Protocol):
    """VBench ``custom_input`` semantics for the six VBench dimensions and the full-reference metrics."""

    kind: ClassVar[str] = "appearance"

    resize_semantics: str = doc_field(
        "torchvision<0.16 Resize on float tensors: F.interpolate, no antialias, no rounding"
    )
    video_selection: str = doc_field("custom_input: files with suffix .mp4/.gif/.jpg/.png (case-insensitive)")
    decoder: str = doc_field(
        "cv2.VideoCapture, every frame, BGR uint8, native size, stop at first failed read"
    )
    temporal_flickering: Mapping[str, str] = _recipe(
        pair_mae="float32 mean of |a-b| over HxWx3 (numpy pairwise sum)",
        video_mae="float32 mean over consecutive pairs",
        score="(255 - mae) / 255 in float64",
        aggregate="mean over videos",
        skip="videos with no decodable frame or fewer than 2 frames",
    )
    background_consistency: Mapping[str, str] = _recipe(
        model="CLIP ViT-B/32 image embeddings (transformers)",
        preprocess="shorter side 224 bicubic (no antialias), center crop 224, /255, CLIP norm",
        per_frame="(max(0,cos(prev)) + max(0,cos(first))) / 2 for frames 1..T-1",
        aggregate="sum over videos of frame sums / number of frame pairs",
    )
    subject_consistency: Mapping[str, str] = _recipe(
        model="DINO ViT-B/16 CLS features (transformers ViTModel)",
        preprocess="resize shorter side 224 bilinear (no antialias), /255, ImageNet norm, no crop",
        per_frame="(max(0,cos(prev)) + max(0,cos(first))) / 2 for frames 1..T-1",
        aggregate="sum over videos of frame sums / number of frame pairs",
    )
    aesthetic_quality: Mapping[str, str] = _recipe(
        model="LAION aesthetic linear head on L2-normalised CLIP ViT-L/14 image embeddings",
        preprocess="shorter side 224 bicubic (no antialias), center crop 224, /255, CLIP norm",
        per_video="mean over frames of head(x) / 10",
        aggregate="mean over videos",
    )
    imaging_quality: Mapping[str, str] = _recipe(
        model="MUSIQ (SPAQ weights, pyiqa 0.1.10 checkpoint) re-implemented; scales 224, 384, original",
        preprocess="longer side capped at 512 (bilinear, no antialias), /255",
        per_video="mean over frames of MOS / 100 (VBench stores MOS 0-100 per video)",
        aggregate="mean over videos",
    )
    motion_smoothness: Mapping[str, str] = _recipe(
        model="AMT-S (VBench's amt-s.pth) re-implemented; midpoint t=0.5",
        frames="all frames RGB; even frames interpolated, compared with the odd frames between",
        padding="replicate to a multiple of int(16/scale); scale 1 unless VBench's VRAM rule shrinks it",
        to_uint8="(x*255).clip(0,255).astype(uint8) (truncation)",
        score="(255 - mean over pairs of mean|pred-odd|) / 255",
        aggregate="mean over videos",
    )
    ssim: SsimSettings = SsimSettings()
    psnr: PsnrSettings = PsnrSettings()
    lpips: Mapping[str, str] = _recipe(
        net="alex",
        version="0.1",
        input="RGB /255 mapped to [-1, 1], native resolution",
        per_video="mean over paired frames",
    )
    fvd: FvdSettings = FvdSettings()
    pairing: str = doc_field("frame i of pred with frame i of GT over min(T_pred, T_gt) frames")
    gt_resize: str = doc_field("cv2.INTER_AREA to the prediction size when sizes differ")

    @property
    def metrics(self) -> tuple[MetricSpec, ...]:
        """One metric per registered dimension (:mod:`benchmark.appearance.dimensions`)."""
        return tuple(spec.metric for spec in DIMENSIONS.values())


VBENCH_APPEARANCE = AppearanceProtocol(
    name="vbench-appearance",
    version="1.0",
    description=(
        "VBench custom_input semantics for IQ/AQ/SC/BC/MS/TF (raw VBench scale, IQ as VBench's aggregate "
        "= MUSIQ/100) and the full-reference animation metrics SSIM/PSNR/LPIPS/FVD of Table 3"
    ),
)


def appearance_protocol(fvd_clip_policy: str | None = None, base: AppearanceProtocol = VBENCH_APPEARANCE):
    """``base`` with the FVD clip policy actually used, so results record it.

    The default (``all-runs``) is ``base`` itself, parameters unchanged; any other policy gives the same name
    and version with ``fvd.clip_policy`` and ``fvd.clips`` set, so its parameters (and their sha256, which
    test sets pin) differ from the default's and a board cannot mistake one for the other.
    """
    policy = fvd_clip_policy or DEFAULT_FVD_CLIP_POLICY
    if check_choice("FVD clip policy", policy, FVD_CLIP_POLICIES) == base.fvd.policy():
        return base
    fvd = dataclasses.replace(
        base.fvd,
        clip_policy=None if policy == DEFAULT_FVD_CLIP_POLICY else policy,
        clips=FVD_CLIP_POLICIES[policy] if policy != DEFAULT_FVD_CLIP_POLICY else FvdSettings().clips,
    )
    return dataclasses.replace(base, fvd=fvd)
