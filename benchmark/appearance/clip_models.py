"""OpenAI CLIP image encoders rebuilt as transformers ``CLIPVisionModelWithProjection``.

VBench loads the original OpenAI checkpoints (``ViT-B-32.pt``, ``ViT-L-14.pt``: TorchScript archives) with
the ``clip`` package. We read the same files' ``visual.*`` tensors and map them onto transformers' CLIP
vision tower, whose computation is the same (pre-LN transformer, quick-GELU, CLS token through
``ln_post`` and the projection): ``encode_image(x) == CLIPVisionModelWithProjection(x).image_embeds``.

Key mapping (OpenAI -> transformers, ``vision_model.`` prefix omitted on the right):

    visual.conv1.weight                         embeddings.patch_embedding.weight
    visual.class_embedding                      embeddings.class_embedding
    visual.positional_embedding                 embeddings.position_embedding.weight
    visual.ln_pre.*                             pre_layrnorm.*
    visual.transformer.resblocks.i.ln_1.*       encoder.layers.i.layer_norm1.*
    visual.transformer.resblocks.i.attn.in_proj_{weight,bias}   split in 3 -> self_attn.{q,k,v}_proj.*
    visual.transformer.resblocks.i.attn.out_proj.*               self_attn.out_proj.*
    visual.transformer.resblocks.i.ln_2.*       encoder.layers.i.layer_norm2.*
    visual.transformer.resblocks.i.mlp.c_fc.*   encoder.layers.i.mlp.fc1.*
    visual.transformer.resblocks.i.mlp.c_proj.* encoder.layers.i.mlp.fc2.*
    visual.ln_post.*                            post_layernorm.*
    visual.proj  (width x embed, x @ proj)      visual_projection.weight (transposed; at top level)
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from ma_data.core.errors import FormatError
from ma_data.core.io.torch_files import load_torch_file

_BLOCK = re.compile(r"^visual\.transformer\.resblocks\.(\d+)\.(.+)$")
_BLOCK_MAP = {
    "ln_1": "layer_norm1",
    "ln_2": "layer_norm2",
    "mlp.c_fc": "mlp.fc1",
    "mlp.c_proj": "mlp.fc2",
    "attn.out_proj": "self_attn.out_proj",
}


def load_openai_clip_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of an OpenAI CLIP checkpoint: a TorchScript archive (the released files) or a state dict."""
    path = Path(path)
    try:
        with (
            warnings.catch_warnings()
        ):  # torch 2.x flags TorchScript as deprecated; the files are TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            sd = torch.jit.load(str(path), map_location="cpu").state_dict()
    except RuntimeError:
        sd = load_torch_file(path)
    if not isinstance(sd, dict) or "visual.proj" not in sd:
        raise FormatError(f"{path}: not an OpenAI CLIP checkpoint (no 'visual.proj' tensor)")
    return {k: v.float() for k, v in sd.items() if k.startswith("visual.")}


def clip_vision_config_from_state_dict(sd: dict[str, torch.Tensor]):
    """Infer the transformers CLIPVisionConfig of an OpenAI ``visual.*`` state dict (as clip.build_model)."""
    from transformers import CLIPVisionConfig

    width, _, patch, _ = sd["visual.conv1.weight"].shape
    n_layers = len({int(m.group(1)) for k in sd if (m := _BLOCK.match(k))})
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    return CLIPVisionConfig(
        hidden_size=width,
        intermediate_size=sd["visual.transformer.resblocks.0.mlp.c_fc.weight"].shape[0],
        num_hidden_layers=n_layers,
        num_attention_heads=max(1, width // 64),  # clip.build_model: heads = width // 64
        patch_size=patch,
        image_size=patch * grid,
        projection_dim=sd["visual.proj"].shape[1],
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
    )


def openai_to_hf_clip_vision(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename/split an OpenAI ``visual.*`` state dict into CLIPVisionModelWithProjection keys."""
    out: dict[str, torch.Tensor] = {}
    vm = "vision_model."
    for key, t in sd.items():
        if key == "visual.conv1.weight":
            out[vm + "embeddings.patch_embedding.weight"] = t
        elif key == "visual.class_embedding":
            out[vm + "embeddings.class_embedding"] = t
        elif key == "visual.positional_embedding":
            out[vm + "embeddings.position_embedding.weight"] = t
        elif key.startswith("visual.ln_pre."):
            out[vm + "pre_layrnorm." + key.rsplit(".", 1)[1]] = t
        elif key.startswith("visual.ln_post."):
            out[vm + "post_layernorm." + key.rsplit(".", 1)[1]] = t
        elif key == "visual.proj":
            out["visual_projection.weight"] = t.t().contiguous()
        elif m := _BLOCK.match(key):
            i, rest = m.group(1), m.group(2)
            prefix = f"{vm}encoder.layers.{i}."
            if rest.startswith("attn.in_proj_"):
                kind = rest.rsplit("_", 1)[1]  # weight | bias
                for name, part in zip(("q_proj", "k_proj", "v_proj"), t.chunk(3, dim=0), strict=True):
                    out[f"{prefix}self_attn.{name}.{kind}"] = part.contiguous()
                continue
            module, param = rest.rsplit(".", 1)
            if module not in _BLOCK_MAP:
                raise FormatError(f"unexpected CLIP tensor {key!r}")
            out[f"{prefix}{_BLOCK_MAP[module]}.{param}"] = t
        else:
            raise FormatError(f"unexpected CLIP tensor {key!r}")
    return out


def build_clip_vision(sd: dict[str, torch.Tensor]):
    """A CLIPVisionModelWithProjection holding an OpenAI ``visual.*`` state dict (strict load)."""
    from transformers import CLIPVisionModelWithProjection

    config = clip_vision_config_from_state_dict(sd)
    model = CLIPVisionModelWithProjection(config)
    hf = openai_to_hf_clip_vision(sd)
    expected = set(model.state_dict())
    missing = expected - set(hf)
    unexpected = set(hf) - expected
    # position_ids is a non-persistent/derived buffer in some transformers versions
    missing = {k for k in missing if not k.endswith("position_ids")}
    if missing or unexpected:
        raise FormatError(
            f"CLIP key mapping mismatch: missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
        )
    model.load_state_dict(hf, strict=False)
    return model.eval()


def load_clip_vision(path: str | Path):
    """Build the vision tower of an OpenAI CLIP checkpoint file."""
    return build_clip_vision(load_openai_clip_state_dict(path))
