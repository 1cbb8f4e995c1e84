"""Stage-1 adapter and stage-2 LoRA files round-trip; LoRA strength scales the update; clear missing-file errors."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from ma_data.core.errors import FormatError, MissingWeightError
from models.appearance_expert.stages import (
    configure_aesthetic_stage,
    configure_kinematic_stage,
    load_body_adapter,
    load_lora,
    save_body_adapter,
    save_lora,
    set_lora_strength,
)
from models.appearance_expert.tiny import build_tiny_transformer


def _inputs():
    g = torch.Generator().manual_seed(0)
    return {
        "hidden_states": torch.randn(1, 12, 3, 8, 8, generator=g),
        "timestep": torch.tensor([500.0]),
        "encoder_hidden_states": torch.randn(1, 5, 16, generator=g),
        "encoder_hidden_states_image": torch.randn(1, 5, 16, generator=g),
        "pose_hidden_states": torch.randn(1, 4, 2, 8, 8, generator=g),
        "face_pixel_values": torch.randn(1, 3, 5, 16, 16, generator=g),
        "return_dict": False,
    }


@torch.no_grad()
def _out(model):
    return model(**_inputs())[0]


def _perturb_trainables(model, seed=3):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn(p.shape, generator=g))


def test_lora_save_load_round_trip_with_strength(tmp_path):
    trained = build_tiny_transformer()
    base_out = _out(trained)
    configure_aesthetic_stage(trained, rank=4, alpha=8)  # alpha != rank: scale folded into the file
    _perturb_trainables(trained)
    trained_out = _out(trained)
    assert not torch.allclose(trained_out, base_out)
    path = save_lora(trained, tmp_path / "lora.safetensors")
    keys = load_file(str(path))
    assert all(k.startswith("transformer.blocks.") for k in keys) and len(keys) == 2 * 10 * 2

    fresh = build_tiny_transformer()
    load_lora(fresh, path, strength=1.0)
    assert torch.allclose(_out(fresh), trained_out, atol=1e-5)
    set_lora_strength(fresh, 0.0)
    assert torch.allclose(_out(fresh), base_out, atol=1e-5)
    set_lora_strength(fresh, 0.5)
    half = _out(fresh)
    assert not torch.allclose(half, base_out) and not torch.allclose(half, trained_out)


def test_body_adapter_round_trip_and_official_prefix(tmp_path):
    trained = build_tiny_transformer()
    configure_kinematic_stage(trained)
    _perturb_trainables(trained)
    path = save_body_adapter(trained, tmp_path / "adapter.safetensors")
    assert sorted(load_file(str(path))) == ["pose_patch_embedding.bias", "pose_patch_embedding.weight"]
    fresh = build_tiny_transformer()
    assert load_body_adapter(fresh, path) == ["pose_patch_embedding.bias", "pose_patch_embedding.weight"]
    assert torch.allclose(_out(fresh), _out(trained))

    # An official DiffSynth stage-1 file: whole adapter under "pipe.animate_adapter."; only the pose
    # embedding is kept, as the official inference does.
    official = {f"pipe.animate_adapter.{k}": v for k, v in trained.state_dict().items() if k.startswith(
        ("pose_patch_embedding.", "face_encoder."))}  # fmt: skip
    save_file({k: v.contiguous() for k, v in official.items()}, str(tmp_path / "official.safetensors"))
    other = build_tiny_transformer(seed=5)
    face_before = other.face_encoder.conv1_local.weight.clone()
    loaded = load_body_adapter(other, tmp_path / "official.safetensors")
    assert loaded == ["pose_patch_embedding.bias", "pose_patch_embedding.weight"]
    assert torch.equal(other.face_encoder.conv1_local.weight, face_before)
    assert torch.equal(other.pose_patch_embedding.weight, trained.pose_patch_embedding.weight)


def test_weight_file_errors(tmp_path):
    model = build_tiny_transformer()
    with pytest.raises(MissingWeightError, match="not found"):
        load_lora(model, tmp_path / "nope.safetensors")
    with pytest.raises(MissingWeightError, match="not found"):
        load_body_adapter(model, tmp_path / "nope.safetensors")
    save_file({"something.weight": torch.zeros(2)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(FormatError, match="pose_patch_embedding"):
        load_body_adapter(model, tmp_path / "bad.safetensors")


def test_official_diffsynth_lora_layout_loads(tmp_path):
    """A LoRA in DiffSynth's original-Wan names (self_attn.q, cross_attn.o, ffn.0, pipe.dit. prefix) loads
    into diffusers' module names and gives the same model."""
    trained = build_tiny_transformer()
    configure_aesthetic_stage(trained, rank=4)
    _perturb_trainables(trained)
    ours = load_file(str(save_lora(trained, tmp_path / "ours.safetensors")))
    names = {"attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v",
             "attn1.to_out.0": "self_attn.o", "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k",
             "attn2.to_v": "cross_attn.v", "attn2.to_out.0": "cross_attn.o", "ffn.net.0.proj": "ffn.0",
             "ffn.net.2": "ffn.2"}  # fmt: skip
    official = {}
    for key, value in ours.items():
        key = key[len("transformer.") :]
        for new, old in names.items():
            key = key.replace(f".{new}.", f".{old}.")
        official[
            "pipe.dit." + key.replace(".lora_A.", ".lora_A.default.").replace(".lora_B.", ".lora_B.default.")
        ] = value
    save_file(official, str(tmp_path / "official.safetensors"))
    fresh = build_tiny_transformer()
    load_lora(fresh, tmp_path / "official.safetensors", strength=1.0)
    assert torch.allclose(_out(fresh), _out(trained), atol=1e-5)
