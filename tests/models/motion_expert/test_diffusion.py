"""Schedule, DDIM spacing, GFT/CFG call counts and gradients, determinism, lengths, masked editing."""

from __future__ import annotations

import math

import pytest
import torch

from models.motion_expert.denoiser import DenoiserConfig, MotionDenoiser
from models.motion_expert.diffusion import (
    EditConstraint,
    MotionDiffusion,
    cosine_alphas_cumprod,
    ddim_timesteps,
)
from models.motion_expert.editing import (
    inbetween_constraint,
    joint_constraint,
    parse_index_list,
    trajectory_constraint,
)

TINY = DenoiserConfig(width=32, ff_size=64, num_heads=4, dance_layers=1, music_layers=1, d_state=4)


def tiny_model(seed=0) -> MotionDenoiser:
    torch.manual_seed(seed)
    return MotionDenoiser(TINY).eval()


def inputs(b=2, t=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, t, 35, generator=g), torch.tensor([3, 7][:b])


def test_cosine_schedule():
    abar = cosine_alphas_cumprod(1000)
    assert abar.shape == (1000,)
    assert (abar[1:] < abar[:-1]).all()
    # alpha-bar(t) = f(t+1)/f(0) with f(t) = cos^2(((t/T + s)/(1 + s)) * pi/2) while betas stay < 0.999
    f = lambda t: math.cos(((t / 1000 + 0.008) / 1.008) * math.pi / 2) ** 2  # noqa: E731
    assert abar[499].item() == pytest.approx(f(500) / f(0), rel=1e-9)
    assert abar[-1] < 1e-4


def test_ddim_timesteps_match_release_spacing():
    pairs = ddim_timesteps(1000, 50)
    assert len(pairs) == 50
    assert pairs[0] == (999, 979) and pairs[1] == (979, 959) and pairs[-1] == (19, -1)
    with pytest.raises(ValueError):
        ddim_timesteps(1000, 0)


@pytest.mark.parametrize("guidance,per_step", [("gft", 1), ("cfg", 2)])
def test_network_calls_per_step(guidance, per_step):
    model = tiny_model()
    diff = MotionDiffusion(model)
    music, genre = inputs()
    before = model.n_calls
    diff.ddim_sample(music, genre, steps=7, guidance=guidance)
    assert model.n_calls - before == 7 * per_step


def test_seed_makes_sampling_deterministic():
    diff = MotionDiffusion(tiny_model())
    music, genre = inputs()
    a = diff.ddim_sample(music, genre, steps=5, generator=torch.Generator().manual_seed(3))
    b = diff.ddim_sample(music, genre, steps=5, generator=torch.Generator().manual_seed(3))
    c = diff.ddim_sample(music, genre, steps=5, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("n_frames", [1, 2, 7, 61, 333])
def test_any_music_length(n_frames):
    diff = MotionDiffusion(tiny_model())
    music, genre = inputs(b=1, t=n_frames)
    x = diff.ddim_sample(music, genre, steps=2)
    assert x.shape == (1, n_frames, 151)
    assert torch.isfinite(x).all() and x.abs().max() <= 1


def test_unconditional_branch_ignores_music_and_genre():
    model = tiny_model()
    x = torch.randn(2, 9, 151)
    t, beta = torch.tensor([10, 500]), torch.tensor([0.3, 0.9])
    uncond = model(x, t, beta)
    music, genre = inputs(t=9)
    dropped = model(x, t, beta, music, genre, keep_music=torch.tensor([False, False]))
    torch.testing.assert_close(dropped, uncond, rtol=1e-5, atol=1e-6)
    kept = model(x, t, beta, music, genre)
    assert not torch.allclose(kept, uncond)


def _spy_betas(model):
    seen = []
    orig = model.forward

    def spy(x, t, beta, *a, **k):
        seen.append((torch.as_tensor(beta).clone(), k.get("music_embed") is not None or bool(a)))
        return orig(x, t, beta, *a, **k)

    model.forward = spy
    return seen


@pytest.mark.parametrize("mode", ["same", "one"])
def test_gft_training_branches(mode, monkeypatch):
    model = tiny_model().train()
    diff = MotionDiffusion(model, gft_uncond_beta=mode)
    seen = _spy_betas(model)
    music, genre = inputs()
    x0 = torch.rand(2, 12, 151) * 2 - 1
    loss, parts = diff.training_loss(x0, music, genre)
    assert set(parts) == {"rec", "vel", "fk", "foot"} and torch.isfinite(loss)
    (beta_c, cond_c), (beta_u, cond_u) = seen
    assert cond_c and not cond_u
    torch.testing.assert_close(beta_u, beta_c if mode == "same" else torch.ones(2))


def test_gft_unconditional_branch_gets_no_gradient(monkeypatch):
    """With beta = 0 the mixture is the stop-gradient branch alone: nothing to differentiate."""
    model = tiny_model().train()
    diff = MotionDiffusion(model)
    music, genre = inputs()
    x0 = torch.rand(2, 12, 151) * 2 - 1
    real_rand = torch.rand
    monkeypatch.setattr(torch, "rand", lambda *a, **k: real_rand(*a, **k) * 0.0)
    loss, _ = diff.training_loss(x0, music, genre)
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all((g == 0).all() for g in grads)


def test_cfg_objective_drops_music_with_its_probability(monkeypatch):
    model = tiny_model().train()
    diff = MotionDiffusion(model, objective="cfg", cfg_drop_prob=1.0)
    seen = []
    orig = model.forward
    model.forward = lambda *a, **k: seen.append(k.get("keep_music")) or orig(*a, **k)
    music, genre = inputs()
    diff.training_loss(torch.rand(2, 12, 151), music, genre)
    assert len(seen) == 1 and not seen[0].any()


def test_editing_constraints_are_imposed():
    diff = MotionDiffusion(tiny_model())
    music, genre = inputs(b=1, t=20)
    value = torch.rand(1, 20, 151) * 2 - 1
    for c in (
        inbetween_constraint(value, keep_frames=[0, 1, 2, 17, 18, 19]),
        joint_constraint(value, joints=[0, 4, 5]),
        trajectory_constraint(value),
    ):
        x = diff.ddim_sample(music, genre, steps=4, constraint=c)
        known = c.mask.bool()
        torch.testing.assert_close(x[known], value[known])
        assert not torch.allclose(x[~known], value[~known])


def test_editing_masks_cover_the_right_channels():
    value = torch.zeros(1, 10, 151)
    tr = trajectory_constraint(value)
    assert tr.mask[0, :, 4:7].all() and tr.mask[0, :, :4].sum() == 0 and tr.mask[0, :, 7:].sum() == 0
    tr_xy = trajectory_constraint(value, axes="xy")
    assert tr_xy.mask[0, :, 4:6].all() and not tr_xy.mask[0, :, 6].any()
    jc = joint_constraint(value, joints=[5])
    assert jc.mask[0, :, 7 + 30 : 7 + 36].all() and jc.mask.sum() == 10 * 6
    ib = inbetween_constraint(value, keep_frames=[0, 9])
    assert ib.mask[0, [0, 9]].all() and not ib.mask[0, 1:9].any()
    assert isinstance(ib, EditConstraint)


def test_parse_index_list():
    assert parse_index_list("0-2, 7,9-9", 10) == [0, 1, 2, 7, 9]
    with pytest.raises(ValueError, match="outside"):
        parse_index_list("5-12", 10)
