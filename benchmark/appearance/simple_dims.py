"""Model-free dimensions as streaming accumulators: temporal flickering, SSIM, PSNR."""

from __future__ import annotations

import cv2
import numpy as np

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.full_reference import psnr_frames, ssim_frames
from benchmark.appearance.temporal_flickering import score_from_maes
from ma_data.core.errors import MediaError


class TemporalFlickering(VideoDimension):
    """VBench TF: float32 per-pair MAE of consecutive BGR frames (see temporal_flickering.py)."""

    keys = ("temporal_flickering",)

    def __init__(
        self, keys: tuple[str, ...] = ("temporal_flickering",), device: str = "cpu", batch_size: int = 16
    ):
        del keys, device, batch_size  # model-free; same factory signature as the other dimensions

    def start(self, source: str) -> None:
        self._source = source
        self._prev: np.ndarray | None = None
        self._maes: list[np.float32] = []

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        for frame in frames_bgr:
            # np.asarray(..., float32) of one (H, W, 3) frame is a fresh C-contiguous array, exactly as
            # VBench's np.array(frame, dtype=np.float32), so the float32 pairwise mean is bit-identical.
            cur = np.asarray(frame, dtype=np.float32)
            if self._prev is not None:
                if cur.shape != self._prev.shape:
                    raise MediaError(f"{self._source}: frame size changes mid-video")
                self._maes.append(np.mean(np.abs(self._prev - cur)))
            self._prev = cur

    def finish(self) -> dict[str, VideoValue]:
        if self._prev is None:
            raise MediaError(f"{self._source}: OpenCV decoded no frames (unreadable or empty video)")
        if not self._maes:
            raise MediaError(f"{self._source}: only one frame; temporal flickering needs at least two")
        score = score_from_maes(np.array(self._maes))
        self._prev = None
        return {"temporal_flickering": VideoValue.mean_of_videos(score)}


def match_gt(gt_bgr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Resize GT frames to the prediction's (H, W) with INTER_AREA when they differ."""
    if gt_bgr.shape[1:3] == shape[1:3]:
        return gt_bgr
    h, w = shape[1:3]
    return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in gt_bgr])


class SsimPsnr(VideoDimension):
    """Per-frame SSIM and/or PSNR against the paired GT frame, averaged over frames then videos."""

    needs_gt = True

    def __init__(self, keys: tuple[str, ...] = ("ssim", "psnr"), device: str = "cpu", batch_size: int = 16):
        self.keys = tuple(k for k in ("ssim", "psnr") if k in keys)

    def start(self, source: str) -> None:
        self._source = source
        self._vals: dict[str, list[np.ndarray]] = {k: [] for k in self.keys}

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        if gt_bgr is None:
            raise MediaError(f"{self._source}: no GT video to compare with")
        gt = match_gt(gt_bgr, frames_bgr.shape)
        pred_rgb, gt_rgb = frames_bgr[..., ::-1], gt[..., ::-1]
        if "ssim" in self.keys:
            self._vals["ssim"].append(
                ssim_frames(np.ascontiguousarray(pred_rgb), np.ascontiguousarray(gt_rgb))
            )
        if "psnr" in self.keys:
            self._vals["psnr"].append(psnr_frames(pred_rgb, gt_rgb))

    def finish(self) -> dict[str, VideoValue]:
        out = {}
        for key, chunks in self._vals.items():
            if not chunks:
                raise MediaError(f"{self._source}: no frame pairs with the GT video")
            out[key] = VideoValue.mean_of_videos(float(np.concatenate(chunks).mean()))
        return out
