"""Cut long sequences into clips: sliding windows of seeded random length with random offsets.

For each source sequence of ``n_frames`` frames at ``fps``:

1. the first window starts at a random offset in ``[0, max_offset_s]``;
2. each window's length is drawn uniformly in ``[min_len_s, max_len_s]`` (rounded to whole frames, and kept
   inside that range after rounding);
3. the next window starts ``stride`` later, with ``stride`` drawn uniformly in ``[min_stride_s, max_stride_s]``
   (a stride shorter than the window gives overlapping clips, the paper's augmentation);
4. a window that would run past the end is shortened to the end if it is still at least ``min_len_s`` long,
   otherwise slicing stops.

The random stream is seeded by ``(seed, source_id)`` through SHA-256, so a source's clips do not depend on
which other sources are present, the platform, or the order of processing. Clip ids are
``<subset>-<source_id>-<start_frame:06d>-<n_frames:04d>``: stable, sortable, unique per source window.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import numpy as np

from ma_data.core.errors import ConfigError

__all__ = ["ClipSpec", "SlicingConfig", "slice_source", "source_rng"]


@dataclass(frozen=True)
class SlicingConfig:
    min_len_s: float = 5.0
    max_len_s: float = 10.0
    min_stride_s: float = 2.5
    max_stride_s: float = 5.0
    max_offset_s: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (0 < self.min_len_s <= self.max_len_s):
            raise ConfigError(f"need 0 < min_len_s <= max_len_s, got {self.min_len_s}, {self.max_len_s}")
        if not (0 < self.min_stride_s <= self.max_stride_s):
            raise ConfigError("need 0 < min_stride_s <= max_stride_s")
        if self.max_offset_s < 0:
            raise ConfigError("max_offset_s must be >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ClipSpec:
    """One clip: frames ``[start_frame, end_frame)`` of source ``source_id`` at ``fps``."""

    subset: str
    source_id: str
    start_frame: int
    end_frame: int
    fps: float

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def start_s(self) -> float:
        return self.start_frame / self.fps

    @property
    def end_s(self) -> float:
        return self.end_frame / self.fps

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def clip_id(self) -> str:
        return f"{self.subset}-{self.source_id}-{self.start_frame:06d}-{self.n_frames:04d}"


def source_rng(seed: int, source_id: str) -> np.random.Generator:
    """A generator seeded by SHA-256 of ``"<seed>:<source_id>"`` (stable across runs and platforms)."""
    digest = hashlib.sha256(f"{seed}:{source_id}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))


def slice_source(
    source_id: str, n_frames: int, fps: float, config: SlicingConfig, subset: str = "render"
) -> list[ClipSpec]:
    """The clips of one source sequence (see the module docstring for the rule)."""
    rng = source_rng(config.seed, source_id)
    min_len = math.ceil(config.min_len_s * fps - 1e-9)
    max_len = math.floor(config.max_len_s * fps + 1e-9)
    if max_len < min_len:
        raise ConfigError(f"no whole number of frames lies in [{config.min_len_s}, {config.max_len_s}] s")
    clips: list[ClipSpec] = []
    start = int(round(rng.uniform(0.0, config.max_offset_s) * fps))
    while True:
        length = int(np.clip(round(rng.uniform(config.min_len_s, config.max_len_s) * fps), min_len, max_len))
        stride = max(1, int(round(rng.uniform(config.min_stride_s, config.max_stride_s) * fps)))
        if start + length > n_frames:
            length = n_frames - start
            if length < min_len:
                break
        clips.append(ClipSpec(subset, source_id, start, start + length, fps))
        start += stride
    return clips
