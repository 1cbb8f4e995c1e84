"""Stage 1 trains only the Body Adapter, stage 2 only the LoRA; counts checked against the module shapes."""

from __future__ import annotations

import torch
from torch import nn

from models.appearance_expert.stages import (
    configure_aesthetic_stage,
    configure_kinematic_stage,
    count_trainable,
    lora_target_modules,
    trainable_parameters,
)
from models.appearance_expert.tiny import build_tiny_transformer, tiny_transformer_config


def test_kinematic_stage_trains_only_pose_patch_embedding():
    model = build_tiny_transformer()
    names = configure_kinematic_stage(model)
    cfg = tiny_transformer_config()
    inner = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    # Conv3d(latent_channels -> inner, kernel (1, 2, 2)) + bias, computed from the config, not the module.
    expected = inner * cfg["latent_channels"] * 1 * 2 * 2 + inner
    assert sorted(names) == ["pose_patch_embedding.bias", "pose_patch_embedding.weight"]
    assert count_trainable(model) == expected
    assert all(not p.requires_grad for n, p in model.named_parameters() if not n.startswith("pose_patch"))


def test_kinematic_full_adapter_option_matches_official_scripts():
    model = build_tiny_transformer()
    configure_kinematic_stage(model, train_full_adapter=True)
    prefixes = ("pose_patch_embedding.", "motion_encoder.", "face_encoder.", "face_adapter.")
    expected = sum(p.numel() for n, p in model.named_parameters() if n.startswith(prefixes))
    assert count_trainable(model) == expected
    assert not any(n.startswith("blocks.") for n in trainable_parameters(model))


def test_aesthetic_stage_trains_only_lora_on_every_block():
    model = build_tiny_transformer()
    rank = 4
    targets = lora_target_modules(model)
    n_blocks = tiny_transformer_config()["num_layers"]
    # q, k, v, o of self- and cross-attention + two FFN linears, in every block.
    assert len(targets) == 10 * n_blocks
    assert {t.split(".", 2)[2] for t in targets} == {
        "attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0",
        "attn2.to_q", "attn2.to_k", "attn2.to_v", "attn2.to_out.0",
        "ffn.net.0.proj", "ffn.net.2",
    }  # fmt: skip
    shapes = {n: (m.in_features, m.out_features) for n, m in model.named_modules() if n in targets}
    names = configure_aesthetic_stage(model, rank=rank)
    expected = sum(rank * (i + o) for i, o in shapes.values())
    assert count_trainable(model) == expected
    assert all(".lora_A." in n or ".lora_B." in n for n in names)
    assert not model.pose_patch_embedding.weight.requires_grad  # kinematic path frozen
    assert not any(".lora_" in n for n in trainable_parameters(model) if n.startswith("face_adapter"))


def test_bf16_model_keeps_fp32_trainables_and_runs():
    model = build_tiny_transformer().to(torch.bfloat16)
    configure_kinematic_stage(model)
    assert model.pose_patch_embedding.weight.dtype == torch.float32
    assert model.blocks[0].attn1.to_q.weight.dtype == torch.bfloat16
    x = torch.randn(1, 4, 2, 8, 8, dtype=torch.bfloat16)
    out = model.pose_patch_embedding(x)
    assert out.dtype == torch.bfloat16
    out.float().sum().backward()
    assert model.pose_patch_embedding.weight.grad is not None
    assert isinstance(model.pose_patch_embedding, nn.Conv3d)
