"""The rectified-flow (flow-matching) training objective of Wan, in diffusers' convention.

A clean latent ``x0`` and Gaussian noise ``eps`` are mixed at noise level ``sigma`` in [0, 1]:
``x_t = (1 - sigma) * x0 + sigma * eps``; the transformer receives ``timestep = 1000 * sigma`` and predicts the
velocity ``eps - x0`` (what diffusers' flow-matching schedulers integrate: ``x_{t'} = x_t + (sigma' - sigma) v``).

Timestep sampling follows DiffSynth-Studio's Wan training, which the official MACE-Dance scripts use: a timestep
index drawn uniformly over a 1000-step *shifted* schedule (``sigma = s*u / (1 + (s-1)*u)``, shift ``s = 5``), and
a bell-shaped per-timestep loss weight centred on t = 500 and normalised to mean 1 over the schedule. Both are
options (``weighting="none"``, ``shift=1``) for plain rectified flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ma_data.core.errors import ConfigError, check_choice

NUM_TRAIN_TIMESTEPS = 1000


@dataclass(frozen=True)
class FlowMatchingConfig:
    shift: float = 5.0
    weighting: str = "bell"  # bell | none
    sigma_min: float = 0.0
    sigma_max: float = 1.0

    def __post_init__(self) -> None:
        check_choice("weighting", self.weighting, ("bell", "none"))
        if self.shift <= 0:
            raise ConfigError("shift must be positive")


def shifted_sigmas(cfg: FlowMatchingConfig, n: int = NUM_TRAIN_TIMESTEPS) -> torch.Tensor:
    """The ``n`` training noise levels, from ``sigma_max`` down to ``sigma_min``, after the time shift."""
    u = torch.linspace(cfg.sigma_max, cfg.sigma_min, n + 1, dtype=torch.float64)[:-1]
    return (cfg.shift * u / (1 + (cfg.shift - 1) * u)).float()


def loss_weights(cfg: FlowMatchingConfig, sigmas: torch.Tensor) -> torch.Tensor:
    """Per-noise-level loss weights (mean 1 over the schedule)."""
    if cfg.weighting == "none":
        return torch.ones_like(sigmas)
    t = sigmas.double() * NUM_TRAIN_TIMESTEPS
    bell = torch.exp(-2 * ((t - NUM_TRAIN_TIMESTEPS / 2) / NUM_TRAIN_TIMESTEPS) ** 2)
    bell = bell - bell.min()
    return (bell * (len(bell) / bell.sum())).float()


def sample_noise_levels(
    cfg: FlowMatchingConfig, batch_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``batch_size`` noise levels uniformly over the shifted schedule; returns (sigmas, weights)."""
    sigmas = shifted_sigmas(cfg)
    idx = torch.randint(0, len(sigmas), (batch_size,), generator=generator)
    return sigmas[idx], loss_weights(cfg, sigmas)[idx]


def add_noise(
    x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy latents at ``sigma`` (one per batch item) and the velocity target ``noise - x0``."""
    s = sigma.view(-1, *([1] * (x0.ndim - 1))).to(x0.dtype)
    return (1 - s) * x0 + s * noise, noise - x0


def flow_matching_loss(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted MSE between predicted and target velocity, averaged per item then over the batch (fp32)."""
    per_item = (pred.float() - target.float()).pow(2).flatten(1).mean(dim=1)
    if weight is not None:
        per_item = per_item * weight.to(per_item.device, per_item.dtype)
    return per_item.mean()
