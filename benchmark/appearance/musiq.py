"""VBench imaging quality: MUSIQ (Ke et al. 2021) with the SPAQ weights, re-implemented without pyiqa.

VBench (pyiqa 0.1.10) scores every frame with ``MUSIQ(pretrained_model_path=musiq_spaq_ckpt-358bb6af.pth)``
after its 'longer' preprocessing (transforms.musiq_transform: longer side capped at 512, values /255) and
averages the per-frame MOS (0..100) over the video; the dimension is the mean over videos / 100. We report
the per-video value / 100 as well, so per-video and set values share the scale.

The model, as defined by the checkpoint's tensors (parameter names are the checkpoint's own keys, so the
file loads with ``strict=True`` and no renaming):

* input in [0, 1] -> ``(x - 0.5) * 2``; a multi-scale patch sequence: the image resized (bicubic,
  align_corners False, no antialias, size ``round(side * L / longer)``) to longer side L = 224 and 384, plus
  the original resolution; each cut into 32x32 patches with TF 'SAME' zero padding (``F.unfold`` order
  c, kh, kw); per patch a hashed spatial index (nearest-neighbour map of the patch grid onto 10x10,
  ``row * 10 + col``), a scale index (0, 1, 2) and a mask; the 224/384 scales are zero-padded or cut to
  ``ceil(L / 32) ** 2`` patches (padding has mask 0), the original scale keeps all its patches;
* patch stem: weight-standardised 7x7/2 conv (TF 'SAME' padding, unbiased std + 1e-5), GroupNorm(32, eps
  1e-6), ReLU, 'SAME' zero pad + 3x3/2 max-pool, one bottleneck (64 -> 256, GroupNorm eps 1e-4, projection
  shortcut), channels-last flatten, linear embedding to 384;
* encoder: + hashed spatial embedding + scale embedding, a zero-initialised CLS token, 14 pre-LN blocks
  (6 heads, MLP 1152, exact GELU, LayerNorm eps 1e-6; masked attention logits *replaced* by -1000), final
  LayerNorm, linear head on the CLS token (1 output for SPAQ: the MOS itself).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.transforms import frames_to_tensor, musiq_transform
from ma_data.core.errors import FormatError, MediaError
from ma_data.core.io.torch_files import load_torch_file
from ma_data.core.weights import resolve_weight


def same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow 'SAME' zero padding (the extra pixel goes right/bottom)."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / stride) - 1) * stride + kernel - h, 0)
    pw = max((math.ceil(w / stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class WSConv(nn.Conv2d):
    """Weight-standardised convolution with TF 'SAME' padding."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        w = (w - w.mean((1, 2, 3), keepdim=True)) / (w.std((1, 2, 3), keepdim=True) + 1e-5)
        return F.conv2d(same_pad(x, self.kernel_size[0], self.stride[0]), w, self.bias, self.stride)


class Bottleneck(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = WSConv(cin, cin, 1, bias=False)
        self.gn1 = nn.GroupNorm(32, cin, eps=1e-4)
        self.conv2 = WSConv(cin, cin, 3, bias=False)
        self.gn2 = nn.GroupNorm(32, cin, eps=1e-4)
        self.conv3 = WSConv(cin, cout, 1, bias=False)
        self.gn3 = nn.GroupNorm(32, cout, eps=1e-4)
        self.conv_proj = WSConv(cin, cout, 1, bias=False)
        self.gn_proj = nn.GroupNorm(32, cout, eps=1e-4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.gn_proj(self.conv_proj(x))
        y = F.relu(self.gn1(self.conv1(x)))
        y = F.relu(self.gn2(self.conv2(y)))
        return F.relu(self.gn3(self.conv3(y)) + shortcut)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        logits = (q @ k.transpose(-1, -2)) * (d // self.heads) ** -0.5
        pair = (mask[:, None, :, None] * mask[:, None, None, :]) == 0
        logits = logits.masked_fill(pair, -1e3)
        y = (logits.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        return self.out(y)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, mlp_dim: int, heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attention = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class _PosEmb(nn.Module):
    def __init__(self, grid: int, dim: int):
        super().__init__()
        self.position_emb = nn.Parameter(torch.zeros(1, grid * grid, dim))


class _ScaleEmb(nn.Module):
    def __init__(self, n: int, dim: int):
        super().__init__()
        self.scale_emb = nn.Parameter(torch.zeros(n, dim))


class Encoder(nn.Module):
    def __init__(self, dim: int, mlp_dim: int, heads: int, layers: int, scales: int, grid: int):
        super().__init__()
        self.posembed_input = _PosEmb(grid, dim)
        self.scaleembed_input = _ScaleEmb(scales, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.encoder_norm = nn.LayerNorm(dim, eps=1e-6)
        self.transformer = nn.ModuleDict(
            {f"encoderblock_{i}": Block(dim, mlp_dim, heads) for i in range(layers)}
        )

    def forward(self, x, spatial, scale, mask):
        x = x + self.posembed_input.position_emb[0][spatial]
        x = x + self.scaleembed_input.scale_emb[scale]
        x = torch.cat([self.cls.expand(len(x), -1, -1), x], dim=1)
        mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        for block in self.transformer.values():
            x = block(x, mask)
        return self.encoder_norm(x)


class Musiq(nn.Module):
    """MUSIQ with parameter names equal to the pyiqa checkpoint keys."""

    def __init__(
        self,
        hidden: int = 384,
        mlp_dim: int = 1152,
        heads: int = 6,
        layers: int = 14,
        num_class: int = 1,
        patch: int = 32,
        grid: int = 10,
        longer_sides: tuple[int, ...] = (224, 384),
    ):
        super().__init__()
        self.patch, self.grid, self.longer_sides = patch, grid, tuple(sorted(longer_sides))
        stem = 64
        self.conv_root = WSConv(3, stem, 7, stride=2, bias=False)
        self.gn_root = nn.GroupNorm(32, stem, eps=1e-6)
        self.block1 = Bottleneck(stem, stem * 4)
        self.embedding = nn.Linear(stem * 4 * (patch // 4) ** 2, hidden)
        self.transformer_encoder = Encoder(hidden, mlp_dim, heads, layers, len(self.longer_sides) + 1, grid)
        self.head = nn.Linear(hidden, num_class)

    # -- multi-scale patch sequence ---------------------------------------------------------------
    def _hash_index(self, count_h: int, count_w: int) -> torch.Tensor:
        """Nearest-neighbour map of the patch grid onto grid x grid (torch 'nearest' index rule)."""
        base = torch.arange(self.grid, dtype=torch.float32).reshape(1, 1, -1)
        row = F.interpolate(base, size=count_h, mode="nearest").reshape(-1).long()
        col = F.interpolate(base, size=count_w, mode="nearest").reshape(-1).long()
        return (row[:, None] * self.grid + col[None, :]).reshape(-1)

    def _patches(self, img: torch.Tensor, scale_id: int, max_len: int | None):
        n, c, h, w = img.shape
        p = F.unfold(same_pad(img, self.patch, self.patch), self.patch, stride=self.patch)  # (n, c*k*k, L)
        p = p.transpose(1, 2)
        spatial = self._hash_index(math.ceil(h / self.patch), math.ceil(w / self.patch)).expand(n, -1)
        scale = torch.full_like(spatial, scale_id)
        mask = torch.ones(spatial.shape, dtype=img.dtype)
        if max_len is not None:
            length = p.shape[1]
            if length >= max_len:
                p, spatial, scale, mask = (
                    p[:, :max_len],
                    spatial[:, :max_len],
                    scale[:, :max_len],
                    mask[:, :max_len],
                )
            else:
                pad = max_len - length
                p = F.pad(p, (0, 0, 0, pad))
                spatial = F.pad(spatial, (0, pad))  # padded patches carry index 0 everywhere, mask 0
                scale = F.pad(scale, (0, pad))
                mask = F.pad(mask, (0, pad))
        return p, spatial, scale, mask

    def sequence(self, x: torch.Tensor):
        """(N, 3, H, W) in [-1, 1] -> patches (N, L, 3*P*P), spatial, scale, mask (N, L)."""
        h, w = x.shape[-2:]
        parts = []
        for scale_id, side in enumerate(self.longer_sides):
            ratio = side / max(h, w)
            img = F.interpolate(x, (round(h * ratio), round(w * ratio)), mode="bicubic", align_corners=False)
            parts.append(self._patches(img, scale_id, math.ceil(side / self.patch) ** 2))
        parts.append(self._patches(x, len(self.longer_sides), None))
        p, s, sc, m = (torch.cat([part[i].to(x.device) for part in parts], dim=1) for i in range(4))
        return p, s, sc, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """MOS per image for (N, 3, H, W) inputs in [0, 1]."""
        patches, spatial, scale, mask = self.sequence((x - 0.5) * 2)
        n, length, _ = patches.shape
        t = patches.reshape(n * length, 3, self.patch, self.patch)
        t = self.gn_root(self.conv_root(t))
        t = F.max_pool2d(same_pad(F.relu(t), 3, 2), 3, 2)
        t = self.block1(t).permute(0, 2, 3, 1).reshape(n, length, -1)  # channels-last, as TF
        t = self.transformer_encoder(self.embedding(t), spatial, scale, mask)
        q = self.head(t[:, 0])
        if q.shape[-1] > 1:  # distribution over scores 1..K -> expected score
            q = (q.softmax(-1) * torch.arange(1, q.shape[-1] + 1, device=q.device)).sum(-1, keepdim=True)
        return q.reshape(-1)


def musiq_config_from_state_dict(sd: dict[str, torch.Tensor]) -> dict:
    prefix = "transformer_encoder.transformer.encoderblock_"
    layers = len({k[len(prefix) :].split(".")[0] for k in sd if k.startswith(prefix)})
    hidden = sd["embedding.weight"].shape[0]
    grid = round(math.sqrt(sd["transformer_encoder.posembed_input.position_emb"].shape[1]))
    return {
        "hidden": hidden,
        "mlp_dim": sd[prefix + "0.mlp.fc1.weight"].shape[0],
        "heads": max(1, hidden // 64),
        "layers": layers,
        "num_class": sd["head.weight"].shape[0],
        "grid": grid,
    }


def build_musiq(sd: dict[str, torch.Tensor]) -> Musiq:
    if "params" in sd and isinstance(sd["params"], dict):  # pyiqa training checkpoints wrap the weights
        sd = sd["params"]
    if "embedding.weight" not in sd or "head.weight" not in sd:
        raise FormatError("not a MUSIQ checkpoint (no embedding/head tensors)")
    model = Musiq(**musiq_config_from_state_dict(sd))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise FormatError(f"MUSIQ key mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def load_musiq(path: str | Path) -> Musiq:
    try:
        return build_musiq(load_torch_file(path))
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc


class ImagingQuality(VideoDimension):
    keys = ("imaging_quality",)

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, model: Musiq | None = None):
        self.model = (
            (model if model is not None else load_musiq(resolve_weight("musiq-spaq"))).to(device).eval()
        )
        self.device = device
        self.batch_size = batch_size

    def start(self, source: str) -> None:
        self._source = source
        self._sum = 0.0
        self._n = 0

    @torch.no_grad()
    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        for i in range(0, len(frames_bgr), self.batch_size):
            x = musiq_transform(frames_to_tensor(frames_bgr[i : i + self.batch_size])).to(self.device)
            for score in self.model(x).tolist():  # VBench: acc += float(score), frame by frame
                self._sum += score
                self._n += 1

    def finish(self) -> dict[str, VideoValue]:
        if self._n == 0:
            raise MediaError(f"{self._source}: no frames for imaging quality")
        return {"imaging_quality": VideoValue.mean_of_videos(self._sum / self._n / 100.0)}
