"""Synthetic checkpoints in the ORIGINAL layouts (OpenAI CLIP, DINO, timm ViT blocks as in ViTPose) and
reference forwards.

The reference forwards are written from the original architectures' definitions with plain torch ops, so
they check our key mapping and model wiring independently of transformers. The timm ViT block (``blocks.N.``
keys of DINO and easy_ViTPose) is built and run by :func:`timm_block_sd` / :func:`reference_timm_block`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

Init = Callable[..., torch.Tensor]


def normal_init(seed: int) -> Init:
    """``r(*shape, s=0.05)``: seeded N(0, s^2) tensors, drawn in call order."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape: int, s: float = 0.05) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * s

    return r


def timm_block_sd(prefix: str, dim: int, r: Init, s: float = 0.1) -> dict[str, torch.Tensor]:
    """One timm ``Block`` (pre-norm attention with fused qkv, GELU MLP of width 4 * dim) under ``prefix``;
    ``s`` scales the linear weights."""
    return {
        prefix + "norm1.weight": 1 + r(dim),
        prefix + "norm1.bias": r(dim),
        prefix + "attn.qkv.weight": r(3 * dim, dim, s=s),
        prefix + "attn.qkv.bias": r(3 * dim),
        prefix + "attn.proj.weight": r(dim, dim, s=s),
        prefix + "attn.proj.bias": r(dim),
        prefix + "norm2.weight": 1 + r(dim),
        prefix + "norm2.bias": r(dim),
        prefix + "mlp.fc1.weight": r(4 * dim, dim, s=s),
        prefix + "mlp.fc1.bias": r(4 * dim),
        prefix + "mlp.fc2.weight": r(dim, 4 * dim, s=s),
        prefix + "mlp.fc2.bias": r(dim),
    }


def openai_clip_visual_sd(width=64, layers=1, patch=32, grid=7, embed=16, seed=0) -> dict[str, torch.Tensor]:
    r = normal_init(seed)
    sd = {
        "visual.conv1.weight": r(width, 3, patch, patch),
        "visual.class_embedding": r(width),
        "visual.positional_embedding": r(grid * grid + 1, width),
        "visual.ln_pre.weight": 1 + r(width),
        "visual.ln_pre.bias": r(width),
        "visual.ln_post.weight": 1 + r(width),
        "visual.ln_post.bias": r(width),
        "visual.proj": r(width, embed, s=0.2),
    }
    for i in range(layers):
        p = f"visual.transformer.resblocks.{i}."
        sd.update(
            {
                p + "attn.in_proj_weight": r(3 * width, width, s=0.1),
                p + "attn.in_proj_bias": r(3 * width),
                p + "attn.out_proj.weight": r(width, width, s=0.1),
                p + "attn.out_proj.bias": r(width),
                p + "ln_1.weight": 1 + r(width),
                p + "ln_1.bias": r(width),
                p + "mlp.c_fc.weight": r(4 * width, width, s=0.1),
                p + "mlp.c_fc.bias": r(4 * width),
                p + "mlp.c_proj.weight": r(width, 4 * width, s=0.1),
                p + "mlp.c_proj.bias": r(width),
                p + "ln_2.weight": 1 + r(width),
                p + "ln_2.bias": r(width),
            }
        )
    return sd


def _mha(x, w_qkv, b_qkv, w_o, b_o, heads):
    n, t, d = x.shape
    q, k, v = F.linear(x, w_qkv, b_qkv).chunk(3, dim=-1)

    def split(a):
        return a.reshape(n, t, heads, d // heads).transpose(1, 2)

    q, k, v = split(q), split(k), split(v)
    att = (q @ k.transpose(-1, -2) / math.sqrt(d // heads)).softmax(-1)
    return F.linear((att @ v).transpose(1, 2).reshape(n, t, d), w_o, b_o)


def reference_clip_encode_image(sd, x: torch.Tensor) -> torch.Tensor:
    """OpenAI CLIP VisionTransformer.forward written from its definition."""
    width = sd["visual.conv1.weight"].shape[0]
    heads = max(1, width // 64)
    h = F.conv2d(x, sd["visual.conv1.weight"], stride=sd["visual.conv1.weight"].shape[-1])
    h = h.flatten(2).transpose(1, 2)
    cls = sd["visual.class_embedding"].expand(h.shape[0], 1, -1)
    h = torch.cat([cls, h], 1) + sd["visual.positional_embedding"]

    def ln(a, name):
        return F.layer_norm(a, (width,), sd[name + ".weight"], sd[name + ".bias"], 1e-5)

    h = ln(h, "visual.ln_pre")
    i = 0
    while f"visual.transformer.resblocks.{i}.ln_1.weight" in sd:
        p = f"visual.transformer.resblocks.{i}."
        a = ln(h, p + "ln_1")
        h = h + _mha(
            a,
            sd[p + "attn.in_proj_weight"],
            sd[p + "attn.in_proj_bias"],
            sd[p + "attn.out_proj.weight"],
            sd[p + "attn.out_proj.bias"],
            heads,
        )
        m = F.linear(ln(h, p + "ln_2"), sd[p + "mlp.c_fc.weight"], sd[p + "mlp.c_fc.bias"])
        m = m * torch.sigmoid(1.702 * m)
        h = h + F.linear(m, sd[p + "mlp.c_proj.weight"], sd[p + "mlp.c_proj.bias"])
        i += 1
    return ln(h[:, 0], "visual.ln_post") @ sd["visual.proj"]


class _Node(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def save_as_torchscript(sd: dict[str, torch.Tensor], path: Path) -> Path:
    """Write ``sd`` as a TorchScript archive whose state_dict() has exactly these keys (like OpenAI's)."""
    root = _Node()
    for key, tensor in sd.items():
        *mods, leaf = key.split(".")
        node = root
        for m in mods:
            if not hasattr(node, m):
                node.add_module(m, _Node())
            node = getattr(node, m)
        node.register_parameter(leaf, nn.Parameter(tensor.clone(), requires_grad=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.script(root).save(str(path))
    return path


def dino_sd(dim=64, layers=1, patch=16, grid=14, seed=1) -> dict[str, torch.Tensor]:
    r = normal_init(seed)
    sd = {
        "cls_token": r(1, 1, dim),
        "pos_embed": r(1, grid * grid + 1, dim, s=0.5),
        "patch_embed.proj.weight": r(dim, 3, patch, patch),
        "patch_embed.proj.bias": r(dim),
        "norm.weight": 1 + r(dim),
        "norm.bias": r(dim),
    }
    for i in range(layers):
        sd.update(timm_block_sd(f"blocks.{i}.", dim, r))
    return sd


def reference_timm_block(h: torch.Tensor, sd, prefix: str, heads: int, eps: float = 1e-6) -> torch.Tensor:
    """timm ``Block.forward`` (eval mode) written from its definition."""
    dim = h.shape[-1]

    def ln(a, name):
        return F.layer_norm(a, (dim,), sd[prefix + name + ".weight"], sd[prefix + name + ".bias"], eps)

    w = {
        k: sd[prefix + k] for k in ("attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias")
    }
    h = h + _mha(ln(h, "norm1"), *w.values(), heads)
    m = F.gelu(F.linear(ln(h, "norm2"), sd[prefix + "mlp.fc1.weight"], sd[prefix + "mlp.fc1.bias"]))
    return h + F.linear(m, sd[prefix + "mlp.fc2.weight"], sd[prefix + "mlp.fc2.bias"])


def reference_dino_forward(sd, x: torch.Tensor) -> torch.Tensor:
    """DINO VisionTransformer.forward (CLS after the final norm) written from its definition."""
    dim, _, patch, _ = sd["patch_embed.proj.weight"].shape
    heads = max(1, dim // 64)
    n_img, _, hh, ww = x.shape
    h = F.conv2d(x, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=patch)
    h = h.flatten(2).transpose(1, 2)
    h = torch.cat([sd["cls_token"].expand(n_img, -1, -1), h], 1)
    pos = sd["pos_embed"]
    n = pos.shape[1] - 1
    if h.shape[1] - 1 != n or hh != ww:
        side = int(math.sqrt(n))
        a, b = hh // patch + 0.1, ww // patch + 0.1
        grid = pos[:, 1:].reshape(1, side, side, dim).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, scale_factor=(a / side, b / side), mode="bicubic")
        pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, -1, dim)], 1)
    h = h + pos

    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        h = reference_timm_block(h, sd, f"blocks.{i}.", heads)
        i += 1
    return F.layer_norm(h, (dim,), sd["norm.weight"], sd["norm.bias"], 1e-6)[:, 0]
