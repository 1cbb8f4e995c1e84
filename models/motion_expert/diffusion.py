"""Cosine-schedule x0-prediction diffusion with Guidance-Free Training (GFT), CFG as a baseline, and
DDIM sampling with masked denoising for editing.

GFT (Chen et al. 2025, as released in MACE-Dance ``Expert-Motion``): per sample
``beta ~ U(0, 1)``; the trained prediction is ``beta * f(x_t, c, beta) + (1 - beta) * sg[f(x_t, null, beta_u)]``
with ``beta_u = beta`` (the code, ``gft_uncond_beta="same"``) or ``beta_u = 1`` (the paper's formula,
``"one"``). Sampling then needs a single conditional call per step at ``beta = 0.75``; CFG needs two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ma_data.core.errors import ConfigError, check_choice

from .denoiser import MotionDenoiser
from .losses import LossWeights, motion_losses
from .normalizer import MinMaxNormalizer
from .sampling_step import DenoiseStep

OBJECTIVES = ("gft", "cfg")


def cosine_alphas_cumprod(n_timesteps: int = 1000, s: float = 0.008) -> torch.Tensor:
    """ᾱ_t of the cosine schedule (Nichol & Dhariwal), betas clipped at 0.999, float64."""
    steps = torch.arange(n_timesteps + 1, dtype=torch.float64)
    f = torch.cos(((steps / n_timesteps) + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0)


def ddim_timesteps(n_timesteps: int, steps: int) -> list[tuple[int, int]]:
    """(t, t_next) pairs: 999 -> 979 -> ... -> 19 -> -1 for 50 of 1000 steps (the release's spacing)."""
    if not 1 <= steps <= n_timesteps:
        raise ConfigError(f"DDIM steps must be in [1, {n_timesteps}], got {steps}")
    times = torch.linspace(-1, n_timesteps - 1, steps + 1).int().tolist()[::-1]
    return list(zip(times[:-1], times[1:], strict=True))


def ddim_scalars(a: torch.Tensor, a_next: torch.Tensor, eta: float) -> dict[str, torch.Tensor]:
    """The scalars of a DDIM step from ᾱ_t (``a``) to ᾱ_next (``a_next``): float32 tensors of any shape,
    element-wise arithmetic (one step's 0-d values, or every step's at once)."""
    sigma = eta * ((1 - a / a_next) * (1 - a_next) / (1 - a)).sqrt()
    return {
        "sqrt_a": a.sqrt(),
        "sqrt_recip_a_minus_1": (1 / a - 1).sqrt(),
        "sqrt_a_next": a_next.sqrt(),
        "c": (1 - a_next - sigma**2).clamp(min=0).sqrt(),
        "sigma": sigma,
        "sqrt_1m_a_next": (1 - a_next).sqrt(),
    }


@dataclass
class EditConstraint:
    """Known parts of the sample for masked denoising, both (B, T, 151) in normalised space."""

    mask: torch.Tensor  # 1 where ``value`` is imposed
    value: torch.Tensor


class MotionDiffusion:
    """Training objective and samplers around a :class:`MotionDenoiser`."""

    def __init__(
        self,
        model: MotionDenoiser,
        objective: str = "gft",
        gft_uncond_beta: str = "same",
        cfg_drop_prob: float = 0.1,
        n_timesteps: int = 1000,
        loss_weights: LossWeights = LossWeights(),
        fk_space: str = "normalized",
        normalizer: MinMaxNormalizer | None = None,
    ):
        check_choice("objective", objective, OBJECTIVES)
        if gft_uncond_beta not in ("same", "one"):
            raise ConfigError(
                f"gft_uncond_beta must be 'same' (code) or 'one' (paper), got {gft_uncond_beta!r}"
            )
        self.model = model
        self.objective = objective
        self.gft_uncond_beta = gft_uncond_beta
        self.cfg_drop_prob = cfg_drop_prob
        self.n_timesteps = n_timesteps
        self.loss_weights = loss_weights
        self.fk_space = fk_space
        self.normalizer = normalizer
        self.alphas_cumprod = cosine_alphas_cumprod(n_timesteps).float()

    def _abar(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.alphas_cumprod.to(like.device)[t].view(-1, *([1] * (like.ndim - 1))).to(like.dtype)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        abar = self._abar(t, x0)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    # ------------------------------------------------------------------------------------------ training

    def training_prediction(self, x_t, t, music, genre) -> torch.Tensor:
        """The prediction the losses see: GFT mixture, or a CFG-style conditional with music dropout."""
        b = x_t.shape[0]
        model = self.model
        music_embed = model.encode_music(music, genre)
        if self.objective == "cfg":
            keep = torch.rand(b, device=x_t.device) >= self.cfg_drop_prob
            return model(x_t, t, torch.ones(b, device=x_t.device), music_embed=music_embed, keep_music=keep)
        beta = torch.rand(b, device=x_t.device)
        cond = model(x_t, t, beta, music_embed=music_embed)
        beta_u = beta if self.gft_uncond_beta == "same" else torch.ones_like(beta)
        with torch.no_grad():  # stop-gradient branch: no graph kept
            uncond = model(x_t, t, beta_u)
        w = beta.view(b, 1, 1)
        return w * cond + (1 - w) * uncond

    def training_loss(self, x0, music, genre) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        b = x0.shape[0]
        t = torch.randint(0, self.n_timesteps, (b,), device=x0.device)
        x_t = self.q_sample(x0, t, torch.randn_like(x0))
        pred = self.training_prediction(x_t, t, music, genre)
        return motion_losses(pred, x0, self.loss_weights, self.fk_space, self.normalizer)

    # ------------------------------------------------------------------------------------------ sampling

    def _denoise_fn(self, music, genre, guidance: str, beta: float, cfg_scale: float) -> Callable:
        model = self.model
        music_embed = model.encode_music(music, genre)  # music does not depend on x_t: encode once
        if guidance == "gft":
            return lambda x, t: model(x, t, beta, music_embed=music_embed)
        if guidance == "cfg":

            def cfg(x, t):
                cond = model(x, t, 1.0, music_embed=music_embed)
                uncond = model(x, t, 1.0)
                return uncond + cfg_scale * (cond - uncond)

            return cfg
        raise ConfigError(f"guidance must be 'gft' or 'cfg', got {guidance!r}")

    def ddim_coefficients(self, pairs: list[tuple[int, int]], eta: float, device) -> dict[str, torch.Tensor]:
        """:func:`ddim_scalars` of every step with ``t_next >= 0`` at once, each a (n,) float32 tensor.

        Element-wise the same float32 operations as step by step (so each value has the same bits); computed
        once instead of ~20 tiny launches per step.
        """
        abar_all = self.alphas_cumprod.to(device)
        inner = [(t, t_next) for t, t_next in pairs if t_next >= 0]
        a = abar_all[torch.tensor([p[0] for p in inner], device=device, dtype=torch.long)]
        a_next = abar_all[torch.tensor([p[1] for p in inner], device=device, dtype=torch.long)]
        return ddim_scalars(a, a_next, eta)

    @torch.no_grad()
    def ddim_sample(
        self,
        music: torch.Tensor,
        genre: torch.Tensor,
        n_frames: int | None = None,
        steps: int = 50,
        eta: float = 1.0,
        beta: float = 0.75,
        guidance: str = "gft",
        cfg_scale: float = 2.0,
        generator: torch.Generator | None = None,
        constraint: EditConstraint | None = None,
        progress: Callable | None = None,
        cuda_graph: bool | None = None,
        compile: bool = False,
        literal: bool = False,
    ) -> torch.Tensor:
        """Sample (B, T, nfeats) normalised motion for (B, T, music_dim) music; T defaults to the music's.

        ``eta=1`` is the release's stochastic DDIM; ``constraint`` imposes known channels/frames at
        every step (noised to the current level), which gives in-betweening, joint completion and
        trajectory-guided generation without retraining.

        The music branch, conditioning, temperature embedding and schedule scalars are computed once, not per
        step, and on CUDA each step's network evaluation is a CUDA-graph replay (``cuda_graph``, see
        :class:`~.sampling_step.DenoiseStep`; ``compile`` adds ``torch.compile``). ``literal=True``
        (:meth:`ddim_sample_reference`) runs the literal loop instead: the full network call and the schedule
        arithmetic at every step, the baseline the fast path is tested (bit for bit on the eager path) and
        benchmarked against. The noise is drawn from ``generator`` in the same order either way.
        """
        b, t_music = music.shape[:2]
        n_frames = t_music if n_frames is None else n_frames
        device = music.device
        shape = (b, n_frames, self.model.cfg.nfeats)

        def randn():
            return torch.randn(shape, device=device, generator=generator)

        pairs = ddim_timesteps(self.n_timesteps, steps)
        if literal:
            denoise_fn = self._denoise_fn(music, genre, guidance, beta, cfg_scale)
            abar_all = self.alphas_cumprod.to(device)

            def denoise(x: torch.Tensor, k: int) -> torch.Tensor:
                return denoise_fn(x, torch.full((b,), pairs[k][0], device=device, dtype=torch.long))

            def scalars(k: int) -> dict[str, torch.Tensor]:
                return ddim_scalars(abar_all[pairs[k][0]], abar_all[pairs[k][1]], eta)

        else:
            step = DenoiseStep(self.model, music, genre, guidance, beta, cfg_scale, cuda_graph, compile)
            ts = step.timesteps([t for t, _ in pairs])
            table = self.ddim_coefficients(pairs, eta, device)

            def denoise(x: torch.Tensor, k: int) -> torch.Tensor:
                return step(x, ts[k])

            def scalars(k: int) -> dict[str, torch.Tensor]:
                return {name: values[k] for name, values in table.items()}

        x = randn()
        indices = range(len(pairs))
        for k in progress(indices) if progress else indices:
            x0 = denoise(x, k).clamp(-1, 1)
            if pairs[k][1] < 0:
                x = x0
                if constraint is not None:
                    x = constraint.mask * constraint.value + (1 - constraint.mask) * x
                break
            c = scalars(k)
            eps = (x / c["sqrt_a"] - x0) / c["sqrt_recip_a_minus_1"]
            x = c["sqrt_a_next"] * x0 + c["c"] * eps + c["sigma"] * randn()
            if constraint is not None:
                known = c["sqrt_a_next"] * constraint.value + c["sqrt_1m_a_next"] * randn()
                x = constraint.mask * known + (1 - constraint.mask) * x
        return x

    def ddim_sample_reference(self, music: torch.Tensor, genre: torch.Tensor, **kwargs) -> torch.Tensor:
        """:meth:`ddim_sample` with ``literal=True`` (same arguments): the baseline it is tested and
        benchmarked against."""
        return self.ddim_sample(music, genre, literal=True, **kwargs)
