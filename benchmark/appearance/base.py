"""The streaming interface every appearance dimension implements.

A video is decoded once, in chunks of frames; every requested dimension sees each chunk (and the paired GT
chunk for full-reference metrics) and keeps only the state it needs, so memory is bounded by the chunk size
and each model's batch, never by the video length.

A dimension's per-video result is a :class:`VideoValue`: the per-video score plus the numerator and
denominator that the dimension's set-level value sums. VBench averages most dimensions over videos
(``num = value, den = 1``) but background/subject consistency over *frames* (``num = video_sim``,
``den = frame pairs``), and this keeps both exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VideoValue:
    value: float
    num: float
    den: float

    @classmethod
    def mean_of_videos(cls, value: float) -> VideoValue:
        return cls(value=value, num=value, den=1.0)


class VideoDimension(ABC):
    """One metric (or a family computed together) accumulated over one video's frame chunks."""

    #: metric keys produced by :meth:`finish`
    keys: tuple[str, ...] = ()
    #: whether :meth:`update` needs the paired GT frames
    needs_gt: bool = False

    @abstractmethod
    def start(self, source: str) -> None:
        """Reset per-video state; ``source`` names the video in error messages."""

    @abstractmethod
    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        """Consume a chunk of consecutive frames (N, H, W, 3) BGR uint8 as OpenCV decodes them."""

    @abstractmethod
    def finish(self) -> dict[str, VideoValue]:
        """Per-video values for :attr:`keys`; raises MediaError when the video cannot be scored."""

    def set_level(self) -> dict[str, float]:
        """Set-level metrics that are not sums over videos (FVD); empty for most dimensions."""
        return {}
