"""One optimisation step on a fixed batch lowers the flow-matching loss, for both stages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from models.appearance_expert.encoding import Conditioner
from models.appearance_expert.flow_matching import FlowMatchingConfig, loss_weights, shifted_sigmas
from models.appearance_expert.stages import adapter_bypass, trainable_parameters
from models.appearance_expert.training import TrainConfig, compute_loss, prepare_stage
from tests.models.appearance_expert.ae_helpers import SEGMENT, H, W


def _fixed_batch(pipe):
    rng = np.random.default_rng(0)
    c = Conditioner(pipe, "cpu", max_sequence_length=16)
    video = rng.integers(0, 255, (SEGMENT, H, W, 3), dtype=np.uint8)
    cond = c.segment(
        reference_image=Image.fromarray(video[0]),
        pose_frames=255 - video,
        face_frames=np.zeros((SEGMENT, 16, 16, 3), np.uint8),
        prompt="the person is dancing",
        height=H,
        width=W,
    )
    x0 = torch.cat([cond.reference_latents[:, 4:, :1], c.video_latents(video, H, W)], dim=2)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    return cond, x0, noise


@pytest.mark.parametrize("stage", ["kinematic", "aesthetic"])
def test_one_step_lowers_loss(tiny_pipe, stage):
    cfg = TrainConfig(stage=stage, manifest="unused", output_dir="unused", lora_rank=4)
    prepare_stage(tiny_pipe.transformer, cfg)
    cond, x0, noise = _fixed_batch(tiny_pipe)
    sigma = torch.tensor([0.6])
    params = list(trainable_parameters(tiny_pipe.transformer).values())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    before = compute_loss(tiny_pipe.transformer, cond, x0, sigma, noise=noise)
    before.backward()
    assert all(p.grad is not None for p in params)
    opt.step()
    with torch.no_grad():
        after = compute_loss(tiny_pipe.transformer, cond, x0, sigma, noise=noise)
    assert float(after) < float(before.detach())
    # Frozen weights received no gradient.
    frozen = [p for p in tiny_pipe.transformer.parameters() if not p.requires_grad]
    assert frozen and all(p.grad is None for p in frozen)


def test_adapter_bypass_removes_pose_and_face_influence(tiny_pipe):
    """--no-pose-in-stage2: with the bypass, the pose latents no longer change the prediction."""
    cond, x0, noise = _fixed_batch(tiny_pipe)
    model = tiny_pipe.transformer
    sigma = torch.tensor([0.5])
    with torch.no_grad():
        a = compute_loss(model, cond, x0, sigma, noise=noise, bypass_adapter=True)
        cond.pose_latents = cond.pose_latents + 3.0
        cond.face_pixels = -cond.face_pixels
        b = compute_loss(model, cond, x0, sigma, noise=noise, bypass_adapter=True)
        c = compute_loss(model, cond, x0, sigma, noise=noise)
    assert torch.allclose(a, b)
    assert not torch.allclose(a, c)
    with adapter_bypass(model):
        pass
    assert not model.pose_patch_embedding._forward_hooks  # hooks removed on exit


def test_shifted_schedule_and_weights():
    cfg = FlowMatchingConfig(shift=5.0)
    s = shifted_sigmas(cfg)
    assert s.shape == (1000,) and float(s[0]) == pytest.approx(1.0) and bool((s[1:] < s[:-1]).all())
    # shift s maps u=0.5 to s/(s+1)
    assert float(shifted_sigmas(cfg, 2)[1]) == pytest.approx(5 * 0.5 / (1 + 4 * 0.5))
    w = loss_weights(cfg, s)
    assert float(w.mean()) == pytest.approx(1.0, rel=1e-5)
    assert float(loss_weights(FlowMatchingConfig(weighting="none"), s).std()) == 0.0


def test_gradient_checkpointing_gives_the_same_gradients(tiny_pipe):
    """The memory option recomputes blocks in backward; gradients must not change."""
    cfg = TrainConfig(stage="aesthetic", manifest="unused", output_dir="unused", lora_rank=4)
    model = tiny_pipe.transformer
    prepare_stage(model, cfg)
    with torch.no_grad():  # make LoRA B non-zero so A gets gradients too
        for n, p in model.named_parameters():
            if ".lora_B." in n:
                p.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    cond, x0, noise = _fixed_batch(tiny_pipe)
    sigma = torch.tensor([0.4])
    params = trainable_parameters(model)
    grads = []
    for checkpointing in (False, True):
        model.zero_grad(set_to_none=True)
        if checkpointing:
            model.enable_gradient_checkpointing()
        compute_loss(model, cond, x0, sigma, noise=noise).backward()
        grads.append({n: p.grad.clone() for n, p in params.items()})
    assert model.gradient_checkpointing
    for n in grads[0]:
        torch.testing.assert_close(grads[0][n], grads[1][n], rtol=1e-4, atol=1e-6)
