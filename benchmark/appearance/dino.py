"""VBench subject consistency: DINO ViT-B/16 CLS features in transformers' ``ViTModel``.

VBench runs ``torch.hub.load('facebookresearch/dino', 'dino_vitb16')`` on ``dino_transform(224)`` frames
(shorter side 224, no crop, so the token grid is not square) and feeds the CLS token after the final norm
to the consistency recurrence (consistency.py). The set value is frame-weighted.

Re-derivations:

* weights: the original ``dino_vitbase16_pretrain.pth`` keys are mapped onto ``ViTModel`` (below);
  layer-norm eps 1e-6 and exact GELU, as DINO's ``vit_base``;
* positional encoding for non-square inputs: DINO interpolates the 14x14 grid bicubically with
  ``scale_factor = ((H // 16 + 0.1) / 14, (W // 16 + 0.1) / 14)`` (align_corners False). transformers'
  ``interpolate_pos_encoding`` resizes to an explicit size, which samples at slightly different points, so
  the model's embeddings use :func:`dino_interpolate_pos_encoding` instead.

Key mapping (DINO -> transformers ViTModel, 5.x names; 4.x names in ``_HF_LAYOUTS["v4"]``)::

    cls_token, pos_embed                 embeddings.cls_token, embeddings.position_embeddings
    patch_embed.proj.*                   embeddings.patch_embeddings.projection.*
    blocks.i.norm1.*                     layers.i.layernorm_before.*
    blocks.i.attn.qkv.{weight,bias}      split in 3 -> layers.i.attention.{q,k,v}_proj.*
    blocks.i.attn.proj.*                 layers.i.attention.o_proj.*
    blocks.i.norm2.*                     layers.i.layernorm_after.*
    blocks.i.mlp.fc1.*, mlp.fc2.*        layers.i.mlp.fc1.*, layers.i.mlp.fc2.*
    norm.*                               layernorm.*
"""

from __future__ import annotations

import math
import re
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.consistency import ConsistencyAccumulator
from benchmark.appearance.transforms import dino_transform, frames_to_tensor
from ma_data.core.errors import FormatError
from ma_data.core.io.torch_files import load_torch_file
from ma_data.core.weights import resolve_weight

_BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")
# Per-block names in transformers' ViT: 5.x (``layers.i``) and 4.x (``encoder.layer.i``) layouts.
_HF_LAYOUTS = {
    "v5": {
        "prefix": "layers.{i}.",
        "qkv": ("attention.q_proj", "attention.k_proj", "attention.v_proj"),
        "norm1": "layernorm_before",
        "norm2": "layernorm_after",
        "attn.proj": "attention.o_proj",
        "mlp.fc1": "mlp.fc1",
        "mlp.fc2": "mlp.fc2",
    },
    "v4": {
        "prefix": "encoder.layer.{i}.",
        "qkv": ("attention.attention.query", "attention.attention.key", "attention.attention.value"),
        "norm1": "layernorm_before",
        "norm2": "layernorm_after",
        "attn.proj": "attention.output.dense",
        "mlp.fc1": "intermediate.dense",
        "mlp.fc2": "output.dense",
    },
}


def load_dino_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Backbone tensors of a DINO checkpoint (the released backbone file, or a training checkpoint).

    Read with ``torch.load(weights_only=True)``: a training checkpoint that pickles its ``argparse``
    arguments is refused; extract its ``teacher`` state dict first.
    """
    sd = load_torch_file(path)
    if isinstance(sd, dict) and "teacher" in sd:  # full training checkpoint
        sd = sd["teacher"]
    if not isinstance(sd, dict):
        raise FormatError(f"{path}: not a DINO checkpoint")
    sd = {re.sub(r"^(module\.)?(backbone\.)?", "", str(k)): v for k, v in sd.items() if torch.is_tensor(v)}
    sd = {k: v.float() for k, v in sd.items() if not k.startswith("head.")}
    if "pos_embed" not in sd or "patch_embed.proj.weight" not in sd:
        raise FormatError(f"{path}: not a DINO ViT checkpoint (no pos_embed / patch_embed)")
    return sd


def vit_config_from_dino(sd: dict[str, torch.Tensor]):
    from transformers import ViTConfig

    dim, _, patch, _ = sd["patch_embed.proj.weight"].shape
    grid = round((sd["pos_embed"].shape[1] - 1) ** 0.5)
    return ViTConfig(
        hidden_size=dim,
        num_hidden_layers=len({int(m.group(1)) for k in sd if (m := _BLOCK.match(k))}),
        num_attention_heads=max(1, dim // 64),
        intermediate_size=sd["blocks.0.mlp.fc1.weight"].shape[0],
        hidden_act="gelu",
        layer_norm_eps=1e-6,
        image_size=patch * grid,
        patch_size=patch,
        qkv_bias="blocks.0.attn.qkv.bias" in sd,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )


def dino_to_hf_vit(sd: dict[str, torch.Tensor], layout: str = "v5") -> dict[str, torch.Tensor]:
    """Rename/split DINO backbone tensors into transformers ViTModel keys (``layout``: v5 or v4 names)."""
    names = _HF_LAYOUTS[layout]
    out: dict[str, torch.Tensor] = {}
    for key, t in sd.items():
        if key == "cls_token":
            out["embeddings.cls_token"] = t
        elif key == "pos_embed":
            out["embeddings.position_embeddings"] = t
        elif key.startswith("patch_embed.proj."):
            out["embeddings.patch_embeddings.projection." + key.rsplit(".", 1)[1]] = t
        elif key.startswith("norm."):
            out["layernorm." + key.rsplit(".", 1)[1]] = t
        elif m := _BLOCK.match(key):
            prefix = names["prefix"].format(i=m.group(1))
            module, param = m.group(2).rsplit(".", 1)
            if module == "attn.qkv":
                for name, part in zip(names["qkv"], t.chunk(3, dim=0), strict=True):
                    out[f"{prefix}{name}.{param}"] = part.contiguous()
            elif module in names:
                out[f"{prefix}{names[module]}.{param}"] = t
            else:
                raise FormatError(f"unexpected DINO tensor {key!r}")
        else:
            raise FormatError(f"unexpected DINO tensor {key!r}")
    return out


def dino_interpolate_pos_encoding(self, embeddings: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """DINO's positional-encoding interpolation (bound onto transformers' ViTEmbeddings)."""
    pos = self.position_embeddings
    npatch = embeddings.shape[1] - 1
    n = pos.shape[1] - 1
    if npatch == n and height == width:
        return pos
    patch = self.patch_size if isinstance(self.patch_size, int) else self.patch_size[0]
    dim = embeddings.shape[-1]
    h0, w0 = height // patch + 0.1, width // patch + 0.1
    side = int(math.sqrt(n))
    grid = pos[:, 1:].reshape(1, side, side, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, scale_factor=(h0 / math.sqrt(n), w0 / math.sqrt(n)), mode="bicubic")
    if grid.shape[-2] != int(h0) or grid.shape[-1] != int(w0):
        raise RuntimeError("positional-encoding interpolation produced the wrong grid")
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((pos[:, :1], grid), dim=1)


def build_dino_vit(sd: dict[str, torch.Tensor]):
    """ViTModel (no pooler) with DINO weights and DINO's positional interpolation."""
    from transformers import ViTModel

    model = ViTModel(vit_config_from_dino(sd), add_pooling_layer=False)
    layout = "v5" if any(k.startswith("layers.") for k in model.state_dict()) else "v4"
    hf = dino_to_hf_vit(sd, layout)
    missing, unexpected = model.load_state_dict(hf, strict=False)
    if missing or unexpected:
        raise FormatError(f"DINO key mapping mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    emb = model.embeddings
    emb.patch_size = model.config.patch_size
    emb.interpolate_pos_encoding = types.MethodType(dino_interpolate_pos_encoding, emb)
    return model.eval()


class SubjectConsistency(VideoDimension):
    keys = ("subject_consistency",)

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, model=None):
        if model is None:
            model = build_dino_vit(load_dino_state_dict(resolve_weight("dino-vitb16")))
        self.model = model.to(device).float().eval()
        self.device = device
        self.batch_size = batch_size
        self._acc = ConsistencyAccumulator("subject_consistency")

    def start(self, source: str) -> None:
        self._acc.start(source)

    @torch.no_grad()
    def features(self, frames_bgr: np.ndarray) -> torch.Tensor:
        out = []
        for i in range(0, len(frames_bgr), self.batch_size):
            x = dino_transform(frames_to_tensor(frames_bgr[i : i + self.batch_size])).to(self.device)
            hidden = self.model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state
            out.append(hidden[:, 0])
        return torch.cat(out)

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        self._acc.update(self.features(frames_bgr))

    def finish(self) -> dict[str, VideoValue]:
        return self._acc.finish()
