"""Motion Expert training losses with the release's weights (EDGE's):
``L = 0.636 L_rec + 2.964 L_vel + 0.646 L_fk + 10.942 L_foot`` (the weights of MACE-Dance ``Expert-Motion`` training).

The release runs FK on the *normalised* root/6D channels (the unnormalise call is commented out in
EDGE); ``fk_space="normalized"`` reproduces that, ``"metric"`` unnormalises first (needs the normaliser).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ma_data.core.errors import ConfigError

from .normalizer import MinMaxNormalizer
from .representation import CONTACT_JOINTS, fk_features


@dataclass(frozen=True)
class LossWeights:
    rec: float = 0.636
    vel: float = 2.964
    fk: float = 0.646  # the paper writes 0.636 for the joint loss; the code uses 0.646
    foot: float = 10.942


def _per_sample_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).square().flatten(1).mean(1)


def motion_losses(
    pred: torch.Tensor,
    target: torch.Tensor,
    weights: LossWeights = LossWeights(),
    fk_space: str = "normalized",
    normalizer: MinMaxNormalizer | None = None,
    contact_threshold: float = 0.95,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted total and the unweighted parts (batch means) for (B, T, 151) normalised tensors."""
    if fk_space not in ("normalized", "metric"):
        raise ConfigError(f"fk_space must be 'normalized' or 'metric', got {fk_space!r}")
    rec = _per_sample_mse(pred, target)
    p_contact, p_body = pred[..., :4], pred[..., 4:]
    t_body = target[..., 4:]
    vel = _per_sample_mse(p_body[:, 1:] - p_body[:, :-1], t_body[:, 1:] - t_body[:, :-1])
    if fk_space == "metric":
        if normalizer is None:
            raise ConfigError("fk_space='metric' needs the normaliser")
        p_body = normalizer.unnormalize(pred)[..., 4:]
        t_body = normalizer.unnormalize(target)[..., 4:]
    p_joints, t_joints = fk_features(p_body), fk_features(t_body)
    fk = _per_sample_mse(p_joints, t_joints)
    # Foot skating: FK foot velocity where the model itself predicts contact; last frame velocity 0.
    feet = p_joints[:, :, list(CONTACT_JOINTS)]
    foot_v = torch.cat([feet[:, 1:] - feet[:, :-1], torch.zeros_like(feet[:, :1])], dim=1)
    foot_v = foot_v * (p_contact > contact_threshold).unsqueeze(-1).to(foot_v.dtype)
    foot = foot_v.square().flatten(1).mean(1)
    parts = {"rec": rec.mean(), "vel": vel.mean(), "fk": fk.mean(), "foot": foot.mean()}
    total = weights.rec * parts["rec"] + weights.vel * parts["vel"] + weights.fk * parts["fk"]
    total = total + weights.foot * parts["foot"]
    return total, parts
