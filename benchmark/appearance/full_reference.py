"""Full-reference frame metrics of pose-driven animation (paper Table 3): SSIM and PSNR.

The paper says only "following Wan-Animate", so the recipe is fixed here and recorded in the protocol:

* frames are paired by index over the first ``min(T_pred, T_gt)`` frames; a GT whose size differs from the
  prediction is resized to it with OpenCV ``INTER_AREA`` (recorded as ``gt_resize``);
* SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, ``valid`` filtering (no padding),
  K1 = 0.01, K2 = 0.03, L = 255, population (not sample) statistics, computed per RGB channel and averaged;
* PSNR: 10 log10(255^2 / MSE) over all pixels and channels of a frame, capped at ``PSNR_MAX_DB`` for
  identical frames (MSE = 0) so that a video mean stays finite;
* the per-video value is the mean over frames, the dimension value the mean over videos.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.appearance.params import (  # noqa: F401  (re-exported)
    DATA_RANGE,
    PSNR_MAX_DB,
    SSIM_K1,
    SSIM_K2,
    SSIM_SIGMA,
    SSIM_WINDOW,
)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """Normalised 1-D Gaussian taps (float64)."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of (N, C, H, W), channels independent."""
    c = x.shape[1]
    k = g.to(x)
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)


def ssim_frames(pred: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor) -> np.ndarray:
    """Per-frame SSIM of (T, H, W, 3) uint8 frame stacks (float64 arithmetic)."""
    p = torch.as_tensor(np.asarray(pred)).permute(0, 3, 1, 2).to(torch.float64)
    t = torch.as_tensor(np.asarray(gt)).permute(0, 3, 1, 2).to(torch.float64)
    if p.shape != t.shape:
        raise ValueError(f"frame stacks differ in shape: {tuple(p.shape)} vs {tuple(t.shape)}")
    if min(p.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"frames smaller than the {SSIM_WINDOW}x{SSIM_WINDOW} SSIM window")
    g = gaussian_window()
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    mu_p, mu_t = _filter(p, g), _filter(t, g)
    var_p = _filter(p * p, g) - mu_p**2
    var_t = _filter(t * t, g) - mu_t**2
    cov = _filter(p * t, g) - mu_p * mu_t
    ssim_map = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / ((mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2))
    return ssim_map.mean(dim=(1, 2, 3)).numpy()


def psnr_frames(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame PSNR in dB of (T, H, W, C) uint8 stacks, capped at PSNR_MAX_DB."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"frame stacks differ in shape: {pred.shape} vs {gt.shape}")
    diff = pred.astype(np.float64) - gt.astype(np.float64)
    mse = (diff**2).reshape(len(diff), -1).mean(axis=1)
    out = np.full(len(mse), PSNR_MAX_DB)
    nz = mse > 0
    out[nz] = np.minimum(10.0 * np.log10(DATA_RANGE**2 / mse[nz]), PSNR_MAX_DB)
    return out


def psnr_value(mse: float) -> float:
    """PSNR of a single MSE with the same cap (helper for tests and docs)."""
    return PSNR_MAX_DB if mse <= 0 else min(10.0 * math.log10(DATA_RANGE**2 / mse), PSNR_MAX_DB)
