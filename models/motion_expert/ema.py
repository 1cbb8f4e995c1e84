"""Exponential moving average of model weights (the release uses decay 0.9999, updated every step)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ma_data.core.errors import ConfigError


class EMA:
    """Keeps ``shadow = decay * shadow + (1 - decay) * weights`` for every parameter and buffer."""

    def __init__(self, model: nn.Module, decay: float = 0.9999):
        if not 0.0 <= decay < 1.0:
            raise ConfigError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.shadow = copy.deepcopy(model).eval()
        self.shadow.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for s, p in zip(self.shadow.state_dict().values(), model.state_dict().values(), strict=True):
            if s.dtype.is_floating_point:
                s.lerp_(p.detach(), 1.0 - self.decay)
            else:
                s.copy_(p)

    def state_dict(self) -> dict:
        return self.shadow.state_dict()

    def load_state_dict(self, sd: dict) -> None:
        self.shadow.load_state_dict(sd)
