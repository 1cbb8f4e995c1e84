"""Motion editing by masked denoising (paper §3.2): build the (mask, value) pairs DDIM imposes.

All values are (B, T, 151) *normalised* features (see :mod:`representation`); channels: 0:4 contacts,
4:7 root translation (Z-up, so x/y horizontal and z height), 7 + 6j : 13 + 6j the 6D rotation of joint j.

* temporal in-betweening: keep whole frames (key poses) and fill the rest;
* joint-wise completion: keep the rotations of some joints over time (e.g. the lower body), generate the others;
* root-trajectory guidance: keep the root path (optionally horizontal only) and generate the body.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ma_data.core.errors import ConfigError

from .diffusion import EditConstraint
from .representation import N_JOINTS, ROOT_POS


def _check(value: torch.Tensor) -> None:
    if value.ndim != 3 or value.shape[-1] != 4 + 3 + 6 * N_JOINTS:
        raise ConfigError(f"edit value must be (B, T, 151) normalised features, got {tuple(value.shape)}")


def inbetween_constraint(value: torch.Tensor, keep_frames: Sequence[int]) -> EditConstraint:
    """Impose the frames ``keep_frames`` (all channels)."""
    _check(value)
    mask = torch.zeros_like(value)
    mask[:, list(keep_frames)] = 1
    return EditConstraint(mask, value)


def joint_constraint(
    value: torch.Tensor, joints: Sequence[int], with_root_position: bool = False
) -> EditConstraint:
    """Impose the 6D rotations of ``joints`` on every frame (and the root translation if asked)."""
    _check(value)
    mask = torch.zeros_like(value)
    for j in joints:
        if not 0 <= j < N_JOINTS:
            raise ConfigError(f"joint index {j} out of range 0..{N_JOINTS - 1}")
        mask[..., 7 + 6 * j : 13 + 6 * j] = 1
    if with_root_position:
        mask[..., ROOT_POS] = 1
    return EditConstraint(mask, value)


def trajectory_constraint(value: torch.Tensor, axes: str = "xyz") -> EditConstraint:
    """Impose the root translation; ``axes="xy"`` keeps only the ground-plane path (Z-up)."""
    _check(value)
    if not axes or any(a not in "xyz" for a in axes):
        raise ConfigError(f"axes must be a subset of 'xyz', got {axes!r}")
    mask = torch.zeros_like(value)
    for a in axes:
        mask[..., ROOT_POS.start + "xyz".index(a)] = 1
    return EditConstraint(mask, value)


#: SMPL-24 lower body (pelvis, hips, knees, ankles, toes): the default for joint-wise completion.
LOWER_BODY = (0, 1, 2, 4, 5, 7, 8, 10, 11)


def reference_value(motion, normalizer, n_frames: int) -> torch.Tensor:
    """(1, n_frames, 151) normalised features of a reference ``Motion`` (30 fps, at least n_frames long)."""
    from .representation import encode_motion

    where = motion.source or "reference motion"
    if abs(float(motion.fps) - 30.0) > 1e-6:
        raise ConfigError(f"{where}: editing needs a 30 fps reference, got {motion.fps:g} fps")
    if motion.n_frames < n_frames:
        raise ConfigError(f"{where}: {motion.n_frames} frames, but the music needs {n_frames}")
    feats = encode_motion(motion.slice(0, n_frames))
    return torch.from_numpy(normalizer.normalize(feats))[None]


def parse_index_list(text: str, limit: int) -> list[int]:
    """'0-29,200,210-239' -> sorted indices (ranges inclusive), each checked against ``limit``."""
    out: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi) if hi else int(lo)
        if not 0 <= a <= b < limit:
            raise ConfigError(f"index range {part!r} outside 0..{limit - 1}")
        out.update(range(a, b + 1))
    if not out:
        raise ConfigError(f"empty index list {text!r}")
    return sorted(out)
