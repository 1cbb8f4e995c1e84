"""The two decoupled fine-tuning stages of the MACE-Dance Appearance Expert, on diffusers' Wan-Animate DiT.

Stage 1, "Kinematic" (paper §3.3/§6.2): only the Body Adapter trains. In diffusers' ``WanAnimateTransformer3DModel``
that is ``pose_patch_embedding`` -- the Conv3d patch-embedding the VAE latents of the pose video and adding them
to the video tokens of every latent frame but the reference one. It is also the only part of the stage-1
checkpoint that the official inference keeps. ``train_full_adapter=True`` reproduces the official launch
scripts (``--trainable_models animate_adapter``: pose embedding plus the face motion encoder, face encoder and
face-adapter fusers).

Stage 2, "Aesthetic": the kinematic path is frozen and a peft LoRA (rank 32, alpha = rank so the training
scale is 1, as DiffSynth builds it) is put on every DiT block's self- and cross-attention q/k/v/o and both FFN
linears -- in diffusers' names ``blocks.N.attn{1,2}.{to_q,to_k,to_v,to_out.0}`` and
``blocks.N.ffn.net.{0.proj,2}``. The image-branch projections (``add_k_proj``/``add_v_proj``, DiffSynth's
``k_img``/``v_img``) and the face-adapter fusers are not targeted, matching the official suffix list
``q,k,v,o,ffn.0,ffn.2``.

The official stage-2 scripts never hand the pose (or face) video to the model, so the adapter is skipped and the
LoRA is trained as plain image-to-video. We feed the pose video (the paper's behaviour); :func:`adapter_bypass`
reproduces the scripts (``--no-pose-in-stage2``) by zeroing the pose-embedding and face-fuser contributions,
which is what skipping the adapter amounts to.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from ma_data.core.errors import FormatError, MissingWeightError

BODY_ADAPTER_PREFIX = "pose_patch_embedding."
FULL_ADAPTER_PREFIXES = ("pose_patch_embedding.", "motion_encoder.", "face_encoder.", "face_adapter.")

#: peft regex (full match) for the stage-2 LoRA targets in diffusers' Wan transformer.
LORA_TARGET_REGEX = (
    r"blocks\.\d+\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)|blocks\.\d+\.ffn\.net\.(0\.proj|2)"
)
LORA_ADAPTER_NAME = "mace_aesthetic"
DEFAULT_LORA_RANK = 32
#: LoRA strength of the official inference entry point (``appearance_infer.py``); the older scripts used 1.0.
OFFICIAL_LORA_STRENGTH = 0.5

# Prefixes under which official/DiffSynth stage-1 checkpoints store the adapter tensors.
_FOREIGN_PREFIXES = ("pipe.animate_adapter.", "animate_adapter.", "pipe.dit.", "dit.", "transformer.")


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)


def trainable_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    return {n: p for n, p in _unwrap(model).named_parameters() if p.requires_grad}


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in trainable_parameters(model).values())


def freeze_all(model: nn.Module) -> None:
    for p in model.parameters():
        p.requires_grad_(False)


def _cast_floats(obj, dtype: torch.dtype):
    if torch.is_tensor(obj) and obj.is_floating_point():
        return obj.to(dtype)
    if isinstance(obj, tuple):
        return tuple(_cast_floats(o, dtype) for o in obj)
    return obj


def _upcast_trainable(model: nn.Module, modules: list[nn.Module] | None = None) -> None:
    """Keep trainable weights in fp32 inside a bf16/fp16 model.

    Adam updates at lr 1e-5 vanish in bf16 rounding otherwise. ``modules`` (the top-level trainable modules)
    get hooks that run them in fp32 and hand their output back in the model's dtype; peft LoRA layers cast
    by themselves.
    """
    for p in model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            model_dtype = p.dtype
            p.data = p.data.float()
            for module in modules or []:
                if getattr(module, "_mace_fp32_hooks", False):
                    continue
                module.register_forward_pre_hook(lambda _m, args: _cast_floats(args, torch.float32))
                module.register_forward_hook(
                    lambda _m, _args, out, dt=model_dtype: (
                        _cast_floats(out, dt) if torch.is_tensor(out) else out
                    )
                )
                module._mace_fp32_hooks = True


def configure_kinematic_stage(transformer: nn.Module, train_full_adapter: bool = False) -> list[str]:
    """Freeze everything but the Body Adapter; returns the names of the trainable parameters."""
    freeze_all(transformer)
    prefixes = FULL_ADAPTER_PREFIXES if train_full_adapter else (BODY_ADAPTER_PREFIX,)
    names = []
    for name, p in transformer.named_parameters():
        if name.startswith(prefixes):
            p.requires_grad_(True)
            names.append(name)
    if not names:
        raise FormatError("transformer has no pose_patch_embedding: not a Wan-Animate transformer")
    modules = [transformer.pose_patch_embedding]
    if train_full_adapter:
        modules += [transformer.motion_encoder, transformer.face_encoder, *transformer.face_adapter]
    _upcast_trainable(transformer, modules)
    return names


def lora_target_modules(transformer: nn.Module) -> list[str]:
    """Names of the Linear modules the stage-2 LoRA adapts (10 per DiT block)."""
    pattern = re.compile(LORA_TARGET_REGEX)
    return [n for n, m in transformer.named_modules() if isinstance(m, nn.Linear) and pattern.fullmatch(n)]


def configure_aesthetic_stage(
    transformer: nn.Module,
    rank: int = DEFAULT_LORA_RANK,
    alpha: float | None = None,
    adapter_name: str = LORA_ADAPTER_NAME,
) -> list[str]:
    """Freeze the whole DiT (kinematic path included) and add a trainable LoRA; returns its parameter names."""
    from peft import LoraConfig

    freeze_all(transformer)
    config = LoraConfig(
        r=rank,
        lora_alpha=rank if alpha is None else alpha,
        init_lora_weights=True,
        target_modules=LORA_TARGET_REGEX,
    )
    transformer.add_adapter(config, adapter_name=adapter_name)
    names = []
    for name, p in transformer.named_parameters():
        is_lora = ".lora_A." in name or ".lora_B." in name
        p.requires_grad_(is_lora)
        if is_lora:
            names.append(name)
    _upcast_trainable(transformer)
    return names


# --------------------------------------------------------------------------- stage-1 checkpoints


def body_adapter_state_dict(transformer: nn.Module, full: bool = False) -> dict[str, torch.Tensor]:
    prefixes = FULL_ADAPTER_PREFIXES if full else (BODY_ADAPTER_PREFIX,)
    return {
        k: v.detach().cpu().contiguous()
        for k, v in _unwrap(transformer).state_dict().items()
        if k.startswith(prefixes)
    }


def save_body_adapter(transformer: nn.Module, path: str | os.PathLike, full: bool = False) -> Path:
    from safetensors.torch import save_file

    from ma_data.core.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(
            body_adapter_state_dict(transformer, full), str(tmp), metadata={"format": "mace-body-adapter"}
        )
    return path


def load_body_adapter(transformer: nn.Module, path: str | os.PathLike, full: bool = False) -> list[str]:
    """Load a stage-1 checkpoint (ours, or an official DiffSynth ``animate_adapter`` one).

    Like the official inference, only ``pose_patch_embedding.*`` is taken unless ``full``; returns loaded keys.
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise MissingWeightError(f"{path}: body-adapter checkpoint not found")
    raw = load_file(str(path))
    prefixes = FULL_ADAPTER_PREFIXES if full else (BODY_ADAPTER_PREFIX,)
    state = {}
    for key, value in raw.items():
        for foreign in _FOREIGN_PREFIXES:
            if key.startswith(foreign):
                key = key[len(foreign) :]
                break
        if key.startswith(prefixes):
            state[key] = value
    if not any(k.startswith(BODY_ADAPTER_PREFIX) for k in state):
        raise FormatError(f"{path}: no pose_patch_embedding tensors in this checkpoint")
    own = _unwrap(transformer).state_dict()
    for key, value in state.items():
        if key not in own:
            raise FormatError(f"{path}: unexpected key {key!r} for this transformer")
        if own[key].shape != value.shape:
            raise FormatError(
                f"{path}: {key} has shape {tuple(value.shape)}, model expects {tuple(own[key].shape)}"
            )
    _unwrap(transformer).load_state_dict(state, strict=False)
    return sorted(state)


# --------------------------------------------------------------------------- stage-2 LoRA


def lora_state_dict(transformer: nn.Module, adapter_name: str = LORA_ADAPTER_NAME) -> dict[str, torch.Tensor]:
    """The LoRA weights in diffusers' file format (``transformer.<module>.lora_{A,B}.weight``).

    When alpha != rank the scale alpha/rank is folded into ``lora_B`` so the file loads with alpha = rank
    (the default diffusers assumes) and reproduces the trained model exactly.
    """
    from peft.utils import get_peft_model_state_dict

    model = _unwrap(transformer)
    config = model.peft_config[adapter_name]
    scale = float(config.lora_alpha) / float(config.r)
    raw = get_peft_model_state_dict(model, adapter_name=adapter_name)
    out = {}
    for key, value in raw.items():
        value = value.detach().float().cpu()
        if ".lora_B." in key and scale != 1.0:
            value = value * scale
        out[f"transformer.{key}"] = value.contiguous()
    return out


def save_lora(transformer: nn.Module, path: str | os.PathLike, adapter_name: str = LORA_ADAPTER_NAME) -> Path:
    from safetensors.torch import save_file

    from ma_data.core.io.atomic import atomic_path

    path = Path(path)
    config = _unwrap(transformer).peft_config[adapter_name]
    meta = {"format": "mace-aesthetic-lora", "rank": str(config.r), "target_modules": LORA_TARGET_REGEX}
    with atomic_path(path) as tmp:
        save_file(
            lora_state_dict(transformer, adapter_name), str(tmp), metadata={**meta, "info": json.dumps(meta)}
        )
    return path


def load_lora(
    transformer: nn.Module,
    path: str | os.PathLike,
    strength: float = OFFICIAL_LORA_STRENGTH,
    adapter_name: str = LORA_ADAPTER_NAME,
) -> None:
    """Inject a saved stage-2 LoRA into ``transformer`` and activate it at ``strength`` (official: 0.5).

    The file is read through diffusers' Wan LoRA reader, which also converts non-diffusers (original Wan /
    DiffSynth) key layouts.
    """
    from diffusers import WanAnimatePipeline
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise MissingWeightError(f"{path}: LoRA file not found")
    state = WanAnimatePipeline.lora_state_dict(_as_original_wan_lora(load_file(str(path))))
    if isinstance(state, tuple):
        state = state[0]
    if not state:
        raise FormatError(f"{path}: no LoRA tensors")
    transformer.load_lora_adapter(state, prefix="transformer", adapter_name=adapter_name)
    set_lora_strength(transformer, strength, adapter_name)


def _as_original_wan_lora(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Give DiffSynth/official LoRA files (``blocks.N.self_attn.q.lora_A[.default].weight``, optionally under
    ``pipe.dit.``/``dit.``) the ``diffusion_model.`` prefix that diffusers' original-Wan converter expects.

    Files already in diffusers (``transformer.``), original-Wan or musubi layouts pass through unchanged.
    """
    if not state or any(k.startswith(("transformer.", "diffusion_model.", "lora_unet_")) for k in state):
        return state
    out = {}
    for key, value in state.items():
        for prefix in ("pipe.dit.", "dit.", "model."):
            if key.startswith(prefix):
                key = key[len(prefix) :]
                break
        out["diffusion_model." + key.replace(".default.", ".")] = value
    return out


def set_lora_strength(transformer: nn.Module, strength: float, adapter_name: str = LORA_ADAPTER_NAME) -> None:
    transformer.set_adapters([adapter_name], weights=[float(strength)])


# --------------------------------------------------------------------------- reproducing the official stage 2


@contextlib.contextmanager
def adapter_bypass(transformer: nn.Module, pose: bool = True, face: bool = True) -> Iterator[None]:
    """Within the block the pose embedding and/or face fusers add nothing (DiffSynth's skipped adapter)."""

    def _zero(_module, _inputs, output):
        return torch.zeros_like(output)

    model = _unwrap(transformer)
    handles = []
    if pose:
        handles.append(model.pose_patch_embedding.register_forward_hook(_zero))
    if face:
        handles.extend(block.register_forward_hook(_zero) for block in model.face_adapter)
    try:
        yield
    finally:
        for h in handles:
            h.remove()
