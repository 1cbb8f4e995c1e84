"""The MACE-Dance Motion Expert: a BiMamba-Transformer diffusion model trained with Guidance-Free Training.

Music (35-d features at 30 fps) + a FineDance genre -> SMPL-24 motion (Z-up). See
``reference/OFFICIAL_CODE_DIGEST.md`` §1 for the release this follows.

Modules: :mod:`selective_scan` and :mod:`mamba` (Mamba-1 with CPU scans / CUDA dispatch), :mod:`denoiser`,
:mod:`diffusion` (cosine schedule, GFT/CFG, DDIM), :mod:`losses`, :mod:`representation` (151-d frames),
:mod:`normalizer`, :mod:`editing`, :mod:`data` (FineDance windows), :mod:`train`, :mod:`sample`,
:mod:`checkpoint` (ours and the official layout).
"""

from .checkpoint import LoadedExpert, load_expert
from .denoiser import GENRES, DenoiserConfig, MotionDenoiser
from .diffusion import EditConstraint, MotionDiffusion

__all__ = [
    "GENRES",
    "DenoiserConfig",
    "EditConstraint",
    "LoadedExpert",
    "MotionDenoiser",
    "MotionDiffusion",
    "load_expert",
]
