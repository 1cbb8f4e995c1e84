"""Per-channel min-max normaliser to [-1, 1], fitted on training frames and saved with the model.

Same arithmetic as the release's EDGE ``Normalizer``: ``x * scale + min`` clipped to [-1, 1];
near-constant channels get scale 1; unnormalising clips to [-1, 1] first.
"""

from __future__ import annotations

import numpy as np
import torch

from ma_data.core.errors import ConfigError

_EPS = 10 * float(np.finfo(np.float32).eps)  # EDGE uses 10 * eps of the data dtype (float32)


class MinMaxNormalizer:
    def __init__(self, scale: np.ndarray, min_: np.ndarray):
        self.scale = np.asarray(scale, np.float32)
        self.min = np.asarray(min_, np.float32)
        if self.scale.shape != self.min.shape or self.scale.ndim != 1:
            raise ConfigError(
                f"normaliser scale/min must be equal 1-D arrays, got {self.scale.shape}, {self.min.shape}"
            )

    @classmethod
    def fit(cls, frames: np.ndarray) -> MinMaxNormalizer:
        """Fit on (N, C) frames (all training frames stacked)."""
        frames = np.asarray(frames, np.float32).reshape(-1, np.shape(frames)[-1])
        lo, hi = frames.min(0), frames.max(0)
        rng = hi - lo
        rng = np.where(rng < _EPS, 1.0, rng)
        scale = 2.0 / rng
        return cls(scale, -1.0 - lo * scale)

    @property
    def dim(self) -> int:
        return int(self.scale.shape[0])

    def _params(self, x):
        if torch.is_tensor(x):
            return (torch.as_tensor(self.scale, device=x.device, dtype=x.dtype),
                    torch.as_tensor(self.min, device=x.device, dtype=x.dtype))  # fmt: skip
        return self.scale, self.min

    def normalize(self, x):
        s, m = self._params(x)
        y = x * s + m
        return y.clamp(-1, 1) if torch.is_tensor(y) else np.clip(y, -1, 1)

    def unnormalize(self, x):
        s, m = self._params(x)
        x = x.clamp(-1, 1) if torch.is_tensor(x) else np.clip(x, -1, 1)
        return (x - m) / s

    def state_dict(self) -> dict:
        return {"scale": torch.from_numpy(self.scale.copy()), "min": torch.from_numpy(self.min.copy())}

    @classmethod
    def from_state_dict(cls, sd: dict) -> MinMaxNormalizer:
        return cls(np.asarray(sd["scale"]), np.asarray(sd["min"]))

    def save(self, path) -> None:
        np.savez(path, scale=self.scale, min=self.min)

    @classmethod
    def load(cls, path) -> MinMaxNormalizer:
        with np.load(path, allow_pickle=False) as z:
            return cls(z["scale"], z["min"])
