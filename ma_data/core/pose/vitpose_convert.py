"""easy_ViTPose checkpoints -> transformers ``VitPoseForPoseEstimation``.

The official MACE-Dance protocol uses easy_ViTPose's ``vitpose-s-coco_25.pth``: a plain ViTPose (ViT-S
backbone: 384 wide, 12 layers, 12 heads, MLP ratio 4, qkv bias, 256x192 input, 16x16 patches with padding 2)
and the "classic" top-down head (two 4x4 stride-2 deconvolutions with 256 channels + BN + ReLU, then a 1x1
conv to 25 heatmaps of 64x48). Its state dict uses the original ViTPose names; transformers' model uses its
own. Key mapping (``i`` = layer index):

=============================================  ======================================================
original (easy_ViTPose / ViTPose)              transformers
=============================================  ======================================================
backbone.patch_embed.proj.{weight,bias}        backbone.embeddings.patch_embeddings.projection.*
backbone.pos_embed                             backbone.embeddings.position_embeddings
backbone.blocks.i.norm1.*                      backbone.encoder.layer.i.layernorm_before.*
backbone.blocks.i.attn.qkv.{weight,bias}       split in thirds -> ...attention.attention.{query,key,value}.*
backbone.blocks.i.attn.proj.*                  backbone.encoder.layer.i.attention.output.dense.*
backbone.blocks.i.norm2.*                      backbone.encoder.layer.i.layernorm_after.*
backbone.blocks.i.mlp.fc{1,2}.*                backbone.encoder.layer.i.mlp.fc{1,2}.*
backbone.last_norm.*                           backbone.layernorm.*
keypoint_head.deconv_layers.0.weight           head.deconv1.weight
keypoint_head.deconv_layers.1.*  (BatchNorm)   head.batchnorm1.*
keypoint_head.deconv_layers.3.weight           head.deconv2.weight
keypoint_head.deconv_layers.4.*  (BatchNorm)   head.batchnorm2.*
keypoint_head.final_layer.*                    head.conv.*
=============================================  ======================================================

The qkv split follows the original attention, which reshapes the fused projection as (3, heads, head_dim):
rows ``[0, C)`` are queries, ``[C, 2C)`` keys, ``[2C, 3C)`` values. Conversion is strict: an unexpected or
missing key is an error, never silently dropped.

The attention itself runs in the original's order (:func:`easy_vitpose_attention`, registered with
transformers' attention functions and named in the config): queries are scaled *before* the score product,
``softmax((q*s) @ k^T)``, where transformers' eager attention computes ``(q @ k^T) * s``. ViTPose-S has
32-wide heads, so ``s = 1/sqrt(32)`` is not a power of two and the two orders round differently: ~1e-7 in the
heatmaps, enough to move the argmax between two nearly equal heatmap pixels (measured on random weights:
26 of 200 joints moved, up to 289 px; with the original's order the heatmaps equal easy_ViTPose's bit for bit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ma_data.core.errors import ConfigError, FormatError
from ma_data.core.io.torch_files import load_torch_file

#: Architecture sizes of the ViTPose variants easy_ViTPose ships (``model_name`` s/b/l/h).
VITPOSE_SIZES: dict[str, dict[str, int]] = {
    "s": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 12},
    "b": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12},
    "l": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16},
    "h": {"hidden_size": 1280, "num_hidden_layers": 32, "num_attention_heads": 16},
}

_DIRECT = [
    (r"backbone\.patch_embed\.proj\.(weight|bias)", r"backbone.embeddings.patch_embeddings.projection.\1"),
    (r"backbone\.pos_embed", r"backbone.embeddings.position_embeddings"),
    (r"backbone\.blocks\.(\d+)\.norm1\.(weight|bias)", r"backbone.encoder.layer.\1.layernorm_before.\2"),
    (r"backbone\.blocks\.(\d+)\.norm2\.(weight|bias)", r"backbone.encoder.layer.\1.layernorm_after.\2"),
    (
        r"backbone\.blocks\.(\d+)\.attn\.proj\.(weight|bias)",
        r"backbone.encoder.layer.\1.attention.output.dense.\2",
    ),
    (r"backbone\.blocks\.(\d+)\.mlp\.(fc1|fc2)\.(weight|bias)", r"backbone.encoder.layer.\1.mlp.\2.\3"),
    (r"backbone\.last_norm\.(weight|bias)", r"backbone.layernorm.\1"),
    (r"keypoint_head\.deconv_layers\.0\.weight", r"head.deconv1.weight"),
    (r"keypoint_head\.deconv_layers\.3\.weight", r"head.deconv2.weight"),
    (
        r"keypoint_head\.deconv_layers\.1\.(weight|bias|running_mean|running_var|num_batches_tracked)",
        r"head.batchnorm1.\1",
    ),
    (
        r"keypoint_head\.deconv_layers\.4\.(weight|bias|running_mean|running_var|num_batches_tracked)",
        r"head.batchnorm2.\1",
    ),
    (r"keypoint_head\.final_layer\.(weight|bias)", r"head.conv.\1"),
]
_QKV = re.compile(r"backbone\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)")


#: The name :func:`easy_vitpose_attention` is registered under in transformers' attention functions.
ATTENTION_IMPLEMENTATION = "easy_vitpose"


def easy_vitpose_attention(
    module, query, key, value, attention_mask=None, scaling=None, dropout=0.0, **kwargs
):
    """easy_ViTPose's ``Attention.forward`` on transformers' (batch, heads, tokens, head_dim) tensors:
    ``softmax((q * scale) @ k^T) @ v`` (see the module docstring for why the order matters)."""
    import torch

    if attention_mask is not None:
        raise ValueError("ViTPose attention takes no mask")
    probs = torch.matmul(query * scaling, key.transpose(-2, -1)).softmax(dim=-1)
    if dropout and module.training:
        probs = torch.nn.functional.dropout(probs, p=dropout)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), probs


def _register_attention() -> None:
    try:  # transformers >= 4.51
        from transformers import AttentionInterface

        AttentionInterface.register(ATTENTION_IMPLEMENTATION, easy_vitpose_attention)
    except ImportError:  # 4.50: a plain dict
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

        ALL_ATTENTION_FUNCTIONS[ATTENTION_IMPLEMENTATION] = easy_vitpose_attention


def vitpose_config(size: str = "s", num_keypoints: int = 25, **overrides: Any):
    """transformers ``VitPoseConfig`` matching easy_ViTPose's ``size`` model (``overrides`` for tiny tests)."""
    from transformers import VitPoseBackboneConfig, VitPoseConfig

    if size not in VITPOSE_SIZES:
        raise ConfigError(f"unknown ViTPose size {size!r}; choose from {', '.join(VITPOSE_SIZES)}")
    dims = {**VITPOSE_SIZES[size], **overrides}
    layers = dims["num_hidden_layers"]
    backbone = VitPoseBackboneConfig(
        image_size=[256, 192],
        patch_size=[16, 16],
        num_channels=3,
        hidden_size=dims["hidden_size"],
        num_hidden_layers=layers,
        num_attention_heads=dims["num_attention_heads"],
        mlp_ratio=4,
        intermediate_size=4 * dims["hidden_size"],
        hidden_act="gelu",
        qkv_bias=True,
        layer_norm_eps=1e-6,  # the original uses nn.LayerNorm(eps=1e-6); transformers' default is 1e-12
        out_indices=[layers],
    )
    from ma_data.core.formats.keypoints import JOINT_NAMES

    id2label = dict(enumerate(JOINT_NAMES)) if num_keypoints == len(JOINT_NAMES) else None
    config = VitPoseConfig(
        backbone_config=backbone,
        num_labels=num_keypoints,
        use_simple_decoder=False,  # easy_ViTPose checkpoints carry the classic deconvolution head
        scale_factor=4,
        **({"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}} if id2label else {}),
    )
    _register_attention()
    config.backbone_config._attn_implementation = ATTENTION_IMPLEMENTATION  # after: VitPoseConfig copies it
    return config


def unwrap_checkpoint(obj: Any, source: str = "<checkpoint>") -> dict:
    """The state dict inside a loaded checkpoint (``{"state_dict": ...}`` or bare), ``module.`` stripped."""
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise FormatError(f"{source}: not a state dict (got {type(obj).__name__})")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()}


def convert_easy_vitpose_state_dict(state: Mapping[str, Any], source: str = "<checkpoint>") -> dict:
    """Rename an easy_ViTPose/ViTPose state dict to transformers' ``VitPoseForPoseEstimation`` keys."""
    out: dict[str, Any] = {}
    unknown = []
    for key, value in unwrap_checkpoint(state, source).items():
        m = _QKV.fullmatch(key)
        if m:
            layer, kind = m.groups()
            if value.shape[0] % 3:
                raise FormatError(f"{source}: {key} has {value.shape[0]} rows, not divisible by 3")
            q, k, v = value.chunk(3, dim=0)
            base = f"backbone.encoder.layer.{layer}.attention.attention"
            out[f"{base}.query.{kind}"], out[f"{base}.key.{kind}"], out[f"{base}.value.{kind}"] = q, k, v
            continue
        for pattern, repl in _DIRECT:
            if re.fullmatch(pattern, key):
                out[re.sub(pattern, repl, key)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise FormatError(f"{source}: {len(unknown)} keys are not in the easy_ViTPose layout ({shown})")
    return out


def load_vitpose(
    checkpoint: str | Path, size: str = "s", num_keypoints: int = 25, device: str = "cpu", config=None
):
    """Build transformers' ViTPose and load an easy_ViTPose ``.pth`` strictly; returns the model in eval mode."""
    from transformers import VitPoseForPoseEstimation

    checkpoint = Path(checkpoint)
    raw = load_torch_file(checkpoint)
    state = convert_easy_vitpose_state_dict(raw, str(checkpoint))
    model = VitPoseForPoseEstimation(config or vitpose_config(size, num_keypoints))
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        msg = str(exc).replace("\n", " ")[:300]
        raise FormatError(f"{checkpoint}: does not match ViTPose-{size} ({msg})") from None
    if missing or unexpected:
        raise FormatError(
            f"{checkpoint}: does not match ViTPose-{size} with {num_keypoints} keypoints "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return model.to(device).eval()
