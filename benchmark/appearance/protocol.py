"""The ``vbench-appearance`` protocol: every parameter that moves an appearance number."""

from __future__ import annotations

import copy

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
from benchmark.protocols import Protocol, register_protocol
from ma_data.core.errors import ConfigError

VBENCH_APPEARANCE = register_protocol(
    Protocol(
        name="vbench-appearance",
        version="1.0",
        kind="appearance",
        description=(
            "VBench custom_input semantics for IQ/AQ/SC/BC/MS/TF (raw VBench scale, IQ as VBench's aggregate "
            "= MUSIQ/100) and the full-reference animation metrics SSIM/PSNR/LPIPS/FVD of Table 3"
        ),
        params={
            "resize_semantics": "torchvision<0.16 Resize on float tensors: F.interpolate, no antialias, no rounding",
            "video_selection": "custom_input: files with suffix .mp4/.gif/.jpg/.png (case-insensitive)",
            "decoder": "cv2.VideoCapture, every frame, BGR uint8, native size, stop at first failed read",
            "temporal_flickering": {
                "pair_mae": "float32 mean of |a-b| over HxWx3 (numpy pairwise sum)",
                "video_mae": "float32 mean over consecutive pairs",
                "score": "(255 - mae) / 255 in float64",
                "aggregate": "mean over videos",
                "skip": "videos with no decodable frame or fewer than 2 frames",
            },
            "background_consistency": {
                "model": "CLIP ViT-B/32 image embeddings (transformers)",
                "preprocess": "shorter side 224 bicubic (no antialias), center crop 224, /255, CLIP norm",
                "per_frame": "(max(0,cos(prev)) + max(0,cos(first))) / 2 for frames 1..T-1",
                "aggregate": "sum over videos of frame sums / number of frame pairs",
            },
            "subject_consistency": {
                "model": "DINO ViT-B/16 CLS features (transformers ViTModel)",
                "preprocess": "resize shorter side 224 bilinear (no antialias), /255, ImageNet norm, no crop",
                "per_frame": "(max(0,cos(prev)) + max(0,cos(first))) / 2 for frames 1..T-1",
                "aggregate": "sum over videos of frame sums / number of frame pairs",
            },
            "aesthetic_quality": {
                "model": "LAION aesthetic linear head on L2-normalised CLIP ViT-L/14 image embeddings",
                "preprocess": "shorter side 224 bicubic (no antialias), center crop 224, /255, CLIP norm",
                "per_video": "mean over frames of head(x) / 10",
                "aggregate": "mean over videos",
            },
            "imaging_quality": {
                "model": "MUSIQ (SPAQ weights, pyiqa 0.1.10 checkpoint) re-implemented; scales 224, 384, original",
                "preprocess": "longer side capped at 512 (bilinear, no antialias), /255",
                "per_video": "mean over frames of MOS / 100 (VBench stores MOS 0-100 per video)",
                "aggregate": "mean over videos",
            },
            "motion_smoothness": {
                "model": "AMT-S (VBench's amt-s.pth) re-implemented; midpoint t=0.5",
                "frames": "all frames RGB; even frames interpolated, compared with the odd frames between",
                "padding": "replicate to a multiple of int(16/scale); scale 1 unless VBench's VRAM rule shrinks it",
                "to_uint8": "(x*255).clip(0,255).astype(uint8) (truncation)",
                "score": "(255 - mean over pairs of mean|pred-odd|) / 255",
                "aggregate": "mean over videos",
            },
            "ssim": {
                "window": SSIM_WINDOW,
                "sigma": SSIM_SIGMA,
                "k1": SSIM_K1,
                "k2": SSIM_K2,
                "data_range": DATA_RANGE,
                "filter": "valid",
                "channels": "RGB, mean over channels",
                "per_video": "mean over paired frames",
            },
            "psnr": {"data_range": DATA_RANGE, "max_db": PSNR_MAX_DB, "per_video": "mean of per-frame PSNR"},
            "lpips": {
                "net": "alex",
                "version": "0.1",
                "input": "RGB /255 mapped to [-1, 1], native resolution",
                "per_video": "mean over paired frames",
            },
            "fvd": {
                "detector": "StyleGAN-V I3D TorchScript (rescale=True, resize=True, return_features=True)",
                "clip_len": FVD_CLIP_LEN,
                # the "all-runs" clip policy; these params stay byte-identical to 1.0 (test sets pin their
                # sha256); another policy adds "clip_policy" and its own "clips" (see appearance_protocol)
                "clips": "non-overlapping 16-frame runs of the paired frame range",
                "stats": "mean and population covariance in float64; scipy sqrtm, real part",
            },
            "pairing": "frame i of pred with frame i of GT over min(T_pred, T_gt) frames",
            "gt_resize": "cv2.INTER_AREA to the prediction size when sizes differ",
        },
    )
)


def appearance_protocol(fvd_clip_policy: str | None = None) -> Protocol:
    """``vbench-appearance`` with the FVD clip policy actually used, so results record it.

    The default (``all-runs``) is the registered protocol itself, parameters unchanged; any other policy gives
    the same name and version with ``fvd.clip_policy`` and ``fvd.clips`` set, so its parameters (and their
    sha256, which test sets pin) differ from the default's and a board cannot mistake one for the other.
    """
    policy = fvd_clip_policy or DEFAULT_FVD_CLIP_POLICY
    if policy not in FVD_CLIP_POLICIES:
        raise ConfigError(f"FVD clip policy must be one of {', '.join(FVD_CLIP_POLICIES)}, got {policy!r}")
    if policy == DEFAULT_FVD_CLIP_POLICY:
        return VBENCH_APPEARANCE
    params = copy.deepcopy(VBENCH_APPEARANCE.params)
    params["fvd"].update(clip_policy=policy, clips=FVD_CLIP_POLICIES[policy])
    return Protocol(
        name=VBENCH_APPEARANCE.name,
        version=VBENCH_APPEARANCE.version,
        kind=VBENCH_APPEARANCE.kind,
        description=VBENCH_APPEARANCE.description,
        params=params,
    )
