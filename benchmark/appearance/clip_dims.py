"""VBench background consistency (CLIP ViT-B/32) and aesthetic quality (LAION head on CLIP ViT-L/14).

VBench specifics reproduced here:

* frames: every decoded frame, RGB, ``clip_transform(224)`` (see transforms.py);
* precision: the ``clip`` package keeps the model in fp16 on CUDA and fp32 on the CPU; we do the same
  (``encode_image`` casts its input to the model dtype);
* background consistency: the consistency recurrence of consistency.py on ``encode_image`` features;
  the set value is frame-weighted;
* aesthetic quality: ``encode_image(x).float()``, L2-normalised, ``nn.Linear(768, 1)`` LAION head, divided by
  10, mean over the video's frames (float32), then the mean over videos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.clip_models import load_clip_vision
from benchmark.appearance.consistency import ConsistencyAccumulator
from benchmark.appearance.transforms import clip_transform, frames_to_tensor
from ma_data.core.errors import FormatError, MediaError
from ma_data.core.io.torch_files import load_torch_file
from ma_data.core.weights import resolve_weight


def _dtype_for(device: str) -> torch.dtype:
    return torch.float16 if str(device).startswith("cuda") else torch.float32


class ClipImageEncoder:
    """``encode_image`` of an OpenAI CLIP checkpoint, batched and memory-bounded."""

    def __init__(self, model, device: str = "cpu", batch_size: int = 16):
        self.dtype = _dtype_for(device)
        self.model = model.to(device=device, dtype=self.dtype).eval()
        self.device = device
        self.batch_size = batch_size

    @torch.no_grad()
    def __call__(self, frames_bgr: np.ndarray) -> torch.Tensor:
        out = []
        for i in range(0, len(frames_bgr), self.batch_size):
            x = clip_transform(frames_to_tensor(frames_bgr[i : i + self.batch_size]))
            x = x.to(device=self.device, dtype=self.dtype)
            out.append(self.model(pixel_values=x).image_embeds)
        return torch.cat(out)


class BackgroundConsistency(VideoDimension):
    keys = ("background_consistency",)

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, model=None):
        model = model if model is not None else load_clip_vision(resolve_weight("clip-vit-b-32"))
        self.encoder = ClipImageEncoder(model, device, batch_size)
        self._acc = ConsistencyAccumulator("background_consistency")

    def start(self, source: str) -> None:
        self._acc.start(source)

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        self._acc.update(self.encoder(frames_bgr))

    def finish(self) -> dict[str, VideoValue]:
        return self._acc.finish()


def load_aesthetic_head(path: str | Path) -> torch.nn.Linear:
    """The LAION ``sa_0_4_vit_l_14_linear.pth`` head: a state dict with ``weight`` (1, 768) and ``bias``."""
    sd = load_torch_file(path)
    if not isinstance(sd, dict) or set(sd) != {"weight", "bias"} or sd["weight"].ndim != 2:
        raise FormatError(f"{path}: not a LAION aesthetic linear head (expected keys weight, bias)")
    head = torch.nn.Linear(sd["weight"].shape[1], sd["weight"].shape[0])
    head.load_state_dict(sd)
    return head.eval()


class AestheticQuality(VideoDimension):
    keys = ("aesthetic_quality",)

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, model=None, head=None):
        head = head if head is not None else load_aesthetic_head(resolve_weight("laion-aesthetic-vit-l-14"))
        model = model if model is not None else load_clip_vision(resolve_weight("clip-vit-l-14"))
        if head.in_features != model.config.projection_dim:
            raise FormatError(
                f"aesthetic head expects {head.in_features}-d embeddings, CLIP gives {model.config.projection_dim}"
            )
        self.encoder = ClipImageEncoder(model, device, batch_size)
        self.head = head.to(device).float()

    def start(self, source: str) -> None:
        self._source = source
        self._scores: list[torch.Tensor] = []

    @torch.no_grad()
    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        feats = F.normalize(self.encoder(frames_bgr).to(torch.float32), dim=-1, p=2)
        self._scores.append(self.head(feats).reshape(-1).cpu())

    def finish(self) -> dict[str, VideoValue]:
        if not self._scores:
            raise MediaError(f"{self._source}: no frames for aesthetic quality")
        value = torch.mean(torch.cat(self._scores) / 10).item()
        return {"aesthetic_quality": VideoValue.mean_of_videos(value)}
