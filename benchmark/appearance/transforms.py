"""Image preprocessing of the VBench dimensions, re-derived without torchvision.

VBench builds its inputs from ``load_video``: a float32 tensor (T, C, H, W) with values 0..255 (it calls
``torch.Tensor(frames)``), then applies torchvision transforms *to that float tensor*. VBench pins
``torchvision<0.16``, where ``Resize`` on tensors does **not** antialias (``antialias=None`` means off for
tensors) and, on float input, neither rounds nor clamps (bicubic may overshoot 0..255). The re-derivation:

* ``Resize(n)`` (int): the shorter side becomes ``n`` and the longer ``int(n * long / short)``; when the size
  is unchanged the input is returned as is; otherwise ``F.interpolate(mode, align_corners=False,
  antialias=False)``.
* ``Resize((h, w))``: the same interpolation to an explicit size.
* ``CenterCrop(n)``: top = ``int(round((H - n) / 2))``, left = ``int(round((W - n) / 2))`` (Python's round).
* ``Lambda(x.float().div(255))`` and ``Normalize(mean, std)``: ``(x / 255 - mean) / std`` per channel.

Per dimension: background consistency and aesthetic quality use ``clip_transform(224)`` (bicubic resize of
the shorter side, center crop 224, CLIP mean/std); subject consistency uses ``dino_transform(224)``
(bilinear resize of the shorter side, no crop, ImageNet mean/std); imaging quality resizes so that the
longer side is at most 512 (bilinear, explicit size, 'longer' mode) and divides by 255.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def frames_to_tensor(frames_bgr: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) BGR uint8 -> (N, 3, H, W) float32 RGB 0..255, as VBench's ``torch.Tensor(frames)``."""
    rgb = np.ascontiguousarray(np.asarray(frames_bgr)[..., ::-1])
    return torch.from_numpy(rgb).to(torch.float32).permute(0, 3, 1, 2)


def shorter_side_size(h: int, w: int, size: int) -> tuple[int, int]:
    """torchvision's output size for ``Resize(size)`` with an int size (shorter side -> size)."""
    if w <= h:
        return int(size * h / w), size
    return size, int(size * w / h)


def resize(x: torch.Tensor, size: int | tuple[int, int], mode: str, antialias: bool = False) -> torch.Tensor:
    """torchvision ``Resize`` on a float (N, C, H, W) tensor (see module docstring)."""
    h, w = x.shape[-2:]
    out = shorter_side_size(h, w, size) if isinstance(size, int) else tuple(size)
    if tuple(out) == (h, w):
        return x
    return F.interpolate(x, size=out, mode=mode, align_corners=False, antialias=antialias)


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision ``CenterCrop`` for images at least ``size`` on both sides."""
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise ValueError(f"frame {h}x{w} smaller than the {size}x{size} crop")
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return x[..., top : top + size, left : left + size]


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``div(255)`` then torchvision ``Normalize``: ``(x - mean) / std`` per channel."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x.div(255.0) - m) / s


def clip_transform(x: torch.Tensor, n_px: int = 224, antialias: bool = False) -> torch.Tensor:
    """VBench ``clip_transform(n_px)`` on a float 0..255 (N, 3, H, W) tensor."""
    return normalize(center_crop(resize(x, n_px, "bicubic", antialias), n_px), CLIP_MEAN, CLIP_STD)


def dino_transform(x: torch.Tensor, n_px: int = 224, antialias: bool = False) -> torch.Tensor:
    """VBench ``dino_transform(n_px)`` on a float 0..255 (N, 3, H, W) tensor (no crop)."""
    return normalize(resize(x, n_px, "bilinear", antialias), IMAGENET_MEAN, IMAGENET_STD)


def musiq_transform(x: torch.Tensor, longer: int = 512, antialias: bool = False) -> torch.Tensor:
    """VBench imaging-quality preprocessing ('longer' mode): cap the longer side at 512, then /255."""
    h, w = x.shape[-2:]
    if max(h, w) > longer:
        scale = longer / max(h, w)
        x = resize(x, (int(scale * h), int(scale * w)), "bilinear", antialias)
    return x / 255.0
