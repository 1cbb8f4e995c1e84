"""Exponential moving average of model weights, shared by both experts.

``shadow = decay * shadow + (1 - decay) * value`` for every floating tensor (integer buffers are copied). The
Motion Expert averages its whole state dict (the release: decay 0.9999, every step); the Appearance Expert
averages only its trainable tensors. Shadows are float32 for lower-precision weights (bf16/fp16 training), so
small updates are not rounded away.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ma_data.core.errors import ConfigError


def _shadow_of(t: torch.Tensor) -> torch.Tensor:
    t = t.detach()
    if t.is_floating_point() and t.dtype in (torch.float16, torch.bfloat16):
        return t.float().clone()
    return t.clone()


def _tensors(source: Mapping[str, torch.Tensor] | nn.Module) -> Mapping[str, torch.Tensor]:
    return source.state_dict() if isinstance(source, nn.Module) else source


class EMA:
    """The moving average of named tensors: a module's state dict, or a dict such as its trainable parameters."""

    def __init__(self, source: Mapping[str, torch.Tensor] | nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ConfigError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.shadow: dict[str, torch.Tensor] = {n: _shadow_of(t) for n, t in _tensors(source).items()}

    @torch.no_grad()
    def update(self, source: Mapping[str, torch.Tensor] | nn.Module) -> None:
        for name, value in _tensors(source).items():
            s = self.shadow[name]
            if s.is_floating_point():
                s.lerp_(value.detach().to(s.dtype), 1.0 - self.decay)
            else:
                s.copy_(value)

    @torch.no_grad()
    def copy_to(self, target: Mapping[str, torch.Tensor] | nn.Module) -> None:
        """Write the averages into ``target``'s tensors (in their own dtypes)."""
        for name, t in _tensors(target).items():
            t.copy_(self.shadow[name].to(t.dtype))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        if set(state) != set(self.shadow):
            missing, extra = sorted(set(self.shadow) - set(state)), sorted(set(state) - set(self.shadow))
            raise ConfigError(
                f"EMA state does not match the model (missing {missing[:3]}, unexpected {extra[:3]})"
            )
        for name, value in state.items():
            self.shadow[name] = value.detach().to(self.shadow[name].dtype).clone()
