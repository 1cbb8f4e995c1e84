"""The consistency recurrence shared by VBench's subject and background consistency.

For frames 1..T-1 of a video with L2-normalised features f_t::

    sim_t = (max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t))) / 2

``video_sim`` is the sum of sim_t (Python floats, summed in frame order as VBench does), the per-video value
``video_sim / (T - 1)`` and the set value ``sum(video_sim) / sum(T - 1)``: frame-weighted, not a mean of
per-video values.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmark.appearance.base import VideoValue
from ma_data.core.errors import MediaError


class ConsistencyAccumulator:
    """Streams normalised features chunk by chunk, keeping only the first and the previous feature."""

    def __init__(self, key: str):
        self.key = key

    def start(self, source: str) -> None:
        self._source = source
        self._first: torch.Tensor | None = None
        self._prev: torch.Tensor | None = None
        self._sim = 0.0
        self._cnt = 0

    def update(self, feats: torch.Tensor) -> None:
        feats = F.normalize(feats.float(), dim=-1, p=2)
        if self._first is None:
            self._first = feats[:1]
            self._prev = feats[:1]
            feats = feats[1:]
            if len(feats) == 0:
                return
        prev = torch.cat([self._prev, feats[:-1]], dim=0)
        sim_pre = F.cosine_similarity(prev, feats).clamp_min(0.0).tolist()
        sim_fir = F.cosine_similarity(self._first.expand_as(feats), feats).clamp_min(0.0).tolist()
        for a, b in zip(sim_pre, sim_fir, strict=True):
            self._sim += (a + b) / 2
            self._cnt += 1
        self._prev = feats[-1:]

    def finish(self) -> dict[str, VideoValue]:
        if self._cnt == 0:
            raise MediaError(f"{self._source}: {self.key} needs at least two frames")
        return {self.key: VideoValue(value=self._sim / self._cnt, num=self._sim, den=float(self._cnt))}
