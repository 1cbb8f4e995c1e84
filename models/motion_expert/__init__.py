"""The MACE-Dance Motion Expert: a BiMamba-Transformer diffusion model trained with Guidance-Free Training.

Music (35-d features at 30 fps) + a FineDance genre (:data:`ma_data.sources.finedance.FINEDANCE_GENRES`)
-> SMPL-24 motion (Z-up), following the official Expert-Motion release.

Modules: :mod:`selective_scan` and :mod:`mamba` (Mamba-1 with CPU scans / CUDA dispatch), :mod:`denoiser`,
:mod:`diffusion` (cosine schedule, GFT/CFG, DDIM), :mod:`losses`, :mod:`representation` (151-d frames),
:mod:`normalizer`, :mod:`editing`, :mod:`data` (FineDance windows), :mod:`train`, :mod:`sample`,
:mod:`checkpoint` (ours and the official layout).
"""

from .checkpoint import LoadedExpert, load_expert
from .denoiser import DenoiserConfig, MotionDenoiser
from .diffusion import EditConstraint, MotionDiffusion

__all__ = [
    "DenoiserConfig",
    "EditConstraint",
    "LoadedExpert",
    "MotionDenoiser",
    "MotionDiffusion",
    "load_expert",
]
