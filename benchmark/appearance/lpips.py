"""LPIPS v0.1 with the AlexNet backbone (Zhang et al. 2018), without torchvision.

Our module holds the same tensors as the reference implementation and loads the two original files:

* the ImageNet AlexNet ``features`` of torchvision's ``alexnet-owt-7be5be79.pth``
  (keys ``features.{0,3,6,8,10}.{weight,bias}``; the classifier is ignored);
* the LPIPS calibration ``alex.pth`` v0.1 (keys ``lin{0..4}.model.1.weight``: 1x1 convolutions without
  bias, preceded in the original by a dropout that is inactive at evaluation).

Computation per frame pair (RGB in [0, 1] mapped to [-1, 1]): the scaling layer
``(x - shift) / scale``; AlexNet activations after relu1..relu5; each unit-normalised over channels
(``x / (||x|| + 1e-10)``); squared difference; the 1x1 calibration conv; spatial mean; sum over the five
layers. Frames are compared at native resolution; the per-video value is the mean over frames.
Frames go through the network in batches of ``batch_size`` frames, fewer when they are large (at most
:data:`LPIPS_MAX_PIXELS` pixels per batch, which bounds activation memory); uint8 frames are sent to the
device as they are and converted there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.simple_dims import match_gt
from ma_data.core.errors import FormatError, MediaError
from ma_data.core.io.torch_files import load_torch_file
from ma_data.core.weights import resolve_weight

_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
# (out, in, kernel, stride, padding) of AlexNet's conv layers; index = position in torchvision's features
_CONVS = {
    0: (64, 3, 11, 4, 2),
    3: (192, 64, 5, 1, 2),
    6: (384, 192, 3, 1, 1),
    8: (256, 384, 3, 1, 1),
    10: (256, 256, 3, 1, 1),
}
CHANNELS = (64, 192, 384, 256, 256)
#: Frames x height x width per forward pass (about 100 bytes of activations per pixel and image pair).
LPIPS_MAX_PIXELS = 16 * 512 * 512


class AlexLpips(nn.Module):
    """AlexNet relu1..relu5 features plus the five LPIPS calibration layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.ModuleDict(
            {
                str(i): nn.Conv2d(cin, cout, k, stride=s, padding=p)
                for i, (cout, cin, k, s, p) in _CONVS.items()
            }
        )
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        f = self.features
        x = (x - self.shift) / self.scale
        h1 = F.relu(f["0"](x))
        h2 = F.relu(f["3"](F.max_pool2d(h1, 3, 2)))
        h3 = F.relu(f["6"](F.max_pool2d(h2, 3, 2)))
        h4 = F.relu(f["8"](h3))
        h5 = F.relu(f["10"](h4))
        return [h1, h2, h3, h4, h5]

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """LPIPS distance per image; ``a`` and ``b`` are (N, 3, H, W) in [-1, 1]."""
        total = 0
        for lin, fa, fb in zip(self.lins, self.activations(a), self.activations(b), strict=True):
            na = fa / (fa.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            nb = fb / (fb.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            total = total + lin((na - nb) ** 2).mean(dim=(2, 3))
        return total.reshape(-1)


def map_alexnet_features(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision AlexNet keys ``features.i.*`` -> ours; the classifier is dropped."""
    out = {}
    for i in _CONVS:
        for p in ("weight", "bias"):
            key = f"features.{i}.{p}"
            if key not in sd:
                raise FormatError(f"AlexNet checkpoint lacks {key!r}")
            out[f"features.{i}.{p}"] = sd[key]
    return out


def map_lpips_lins(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """LPIPS ``lin{k}.model.1.weight`` -> ``lins.{k}.weight``."""
    out = {}
    for k in range(5):
        key = f"lin{k}.model.1.weight"
        if key not in sd:
            raise FormatError(f"LPIPS checkpoint lacks {key!r}")
        out[f"lins.{k}.weight"] = sd[key]
    return out


def build_lpips(alexnet_sd: dict[str, torch.Tensor], lin_sd: dict[str, torch.Tensor]) -> AlexLpips:
    model = AlexLpips()
    state = {**map_alexnet_features(alexnet_sd), **map_lpips_lins(lin_sd)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in ("shift", "scale")]
    if missing or unexpected:
        raise FormatError(f"LPIPS key mapping mismatch: missing {missing}, unexpected {unexpected}")
    return model.eval()


def load_lpips(alexnet_path: str | Path, lin_path: str | Path) -> AlexLpips:
    return build_lpips(load_torch_file(alexnet_path), load_torch_file(lin_path))


class LpipsDimension(VideoDimension):
    keys = ("lpips",)
    needs_gt = True

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, model: AlexLpips | None = None):
        if model is None:
            model = load_lpips(resolve_weight("alexnet-imagenet"), resolve_weight("lpips-alex-v0.1"))
        self.model = model.to(device).eval()
        self.device = device
        self.batch_size = batch_size

    def start(self, source: str) -> None:
        self._source = source
        self._vals: list[np.ndarray] = []

    @staticmethod
    def _to_input(frames_bgr: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
        """BGR uint8 (N, H, W, 3) -> RGB (N, 3, H, W) in [-1, 1] on ``device`` (the same float ops there)."""
        rgb = torch.from_numpy(np.ascontiguousarray(frames_bgr[..., ::-1])).to(device)
        return rgb.permute(0, 3, 1, 2).float() / 255.0 * 2 - 1

    def frames_per_batch(self, height: int, width: int) -> int:
        return max(1, min(self.batch_size, LPIPS_MAX_PIXELS // max(1, height * width)))

    @torch.no_grad()
    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        if gt_bgr is None:
            raise MediaError(f"{self._source}: no GT video to compare with")
        gt_bgr = match_gt(gt_bgr, frames_bgr.shape)
        step = self.frames_per_batch(*frames_bgr.shape[1:3])
        for i in range(0, len(frames_bgr), step):
            a = self._to_input(frames_bgr[i : i + step], self.device)
            b = self._to_input(gt_bgr[i : i + step], self.device)
            self._vals.append(self.model(a, b).double().cpu().numpy())

    def finish(self) -> dict[str, VideoValue]:
        if not self._vals:
            raise MediaError(f"{self._source}: no frame pairs with the GT video")
        return {"lpips": VideoValue.mean_of_videos(float(np.concatenate(self._vals).mean()))}
