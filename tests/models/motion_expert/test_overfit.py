"""Overfitting one clip: the GFT loss falls and DDIM (50 steps, beta 0.75) reproduces the clip.

The clip is one pose held still. The release's network has no positional encoding, so reproducing a
clip that changes over time from pure noise needs far more steps than a unit test can afford; a held
pose still exercises normalisation, the GFT objective, the optimiser and the sampler end to end.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ma_data.core.formats.motion import from_finedance_array
from models.motion_expert.denoiser import DenoiserConfig, MotionDenoiser
from models.motion_expert.diffusion import MotionDiffusion
from models.motion_expert.normalizer import MinMaxNormalizer
from models.motion_expert.representation import encode_motion
from models.motion_expert.train import TrainConfig, make_optimizer


@pytest.mark.slow
def test_overfit_one_clip_and_sample_it_back(dance_array):
    torch.manual_seed(0)
    feats = encode_motion(from_finedance_array(dance_array(32, 120)))
    norm = MinMaxNormalizer.fit(feats)  # fitted on the moving dance, so the held pose spans [-1, 1]
    clip = torch.from_numpy(norm.normalize(np.repeat(feats[7:8], 32, 0)))
    x0 = clip[None].repeat(4, 1, 1)
    music, genre = torch.randn(1, 32, 35).repeat(4, 1, 1), torch.full((4,), 5)

    cfg = DenoiserConfig(
        width=32, ff_size=64, num_heads=4, dance_layers=1, music_layers=1, d_state=4, dropout=0.0
    )
    model = MotionDenoiser(cfg)
    diff = MotionDiffusion(model, normalizer=norm)
    opt = make_optimizer(model.parameters(), TrainConfig(lr=3e-3, weight_decay=0.0))

    def sample_error() -> float:
        model.eval()
        s = diff.ddim_sample(
            music[:1], genre[:1], steps=50, beta=0.75, generator=torch.Generator().manual_seed(0)
        )
        model.train()
        return float((s[0] - clip).square().mean())

    before = sample_error()
    losses = []
    for _ in range(120):
        loss, _ = diff.training_loss(x0, music, genre)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.2 * np.mean(losses[:5])
    after = sample_error()
    assert after < 0.1 * before and after < 0.02
