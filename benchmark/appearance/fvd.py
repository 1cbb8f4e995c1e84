"""Frechet video distance with StyleGAN-V's I3D TorchScript detector.

StyleGAN-V (``src/metrics/frechet_video_distance.py``) feeds uint8 clips (B, 3, T, H, W) to
``i3d_torchscript.pt`` with ``rescale=True, resize=True, return_features=True`` (the detector itself maps
0..255 to [-1, 1] and resizes to 224x224) and takes the 400-d pre-softmax features. Statistics are the
mean and the population covariance (float64), and the distance is
``|mu_g - mu_r|^2 + tr(S_g + S_r - 2 sqrtm(S_g S_r))`` with scipy's ``sqrtm`` and the real part.

Clips here: every non-overlapping run of ``CLIP_LEN`` = 16 consecutive frames of the paired frame range
(frame i of pred with frame i of GT), so pred and GT contribute the same number of clips. A video shorter
than 16 frames contributes none. The value is set-level (no per-video value); with fewer clips than
feature dimensions the covariances are singular and FVD is only indicative (a warning says so).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

from benchmark.appearance.base import VideoDimension, VideoValue
from ma_data.core.weights import resolve_weight

CLIP_LEN = 16
DETECTOR_KWARGS = {"rescale": True, "resize": True, "return_features": True}


def load_i3d(path: str | Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population covariance in float64, as StyleGAN-V's FeatureStats."""
    x = np.asarray(feats, dtype=np.float64)
    mu = x.mean(axis=0)
    cov = x.T @ x / len(x) - np.outer(mu, mu)
    return mu, cov


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    m = np.square(mu1 - mu2).sum()
    root = scipy.linalg.sqrtm(s1 @ s2)
    if isinstance(root, tuple):  # older scipy with disp=False semantics
        root = root[0]
    return float(np.real(m + np.trace(s1 + s2 - 2 * root)))


class FvdDimension(VideoDimension):
    keys = ("fvd",)
    needs_gt = True

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16, detector=None):
        self.detector = (detector if detector is not None else load_i3d(resolve_weight("i3d-stylegan-v"))).to(
            device
        )
        self.device = device
        self.clips_per_batch = max(1, batch_size // CLIP_LEN)
        self._pred_feats: list[np.ndarray] = []
        self._gt_feats: list[np.ndarray] = []

    def start(self, source: str) -> None:
        self._source = source
        self._buf_pred: list[np.ndarray] = []
        self._buf_gt: list[np.ndarray] = []

    @torch.no_grad()
    def _features(self, clips: list[np.ndarray]) -> np.ndarray:
        out = []
        for i in range(0, len(clips), self.clips_per_batch):
            batch = np.stack(clips[i : i + self.clips_per_batch])[..., ::-1]  # (B, T, H, W, 3) RGB
            x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 4, 1, 2, 3).to(self.device)
            out.append(self.detector(x, **DETECTOR_KWARGS).double().cpu().numpy())
        return np.concatenate(out)

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        if gt_bgr is None:
            return
        from benchmark.appearance.simple_dims import match_gt

        gt_bgr = match_gt(gt_bgr, frames_bgr.shape)
        self._buf_pred.extend(frames_bgr)
        self._buf_gt.extend(gt_bgr)
        while len(self._buf_pred) >= CLIP_LEN:
            pred_clip = np.stack(self._buf_pred[:CLIP_LEN])
            gt_clip = np.stack(self._buf_gt[:CLIP_LEN])
            del self._buf_pred[:CLIP_LEN], self._buf_gt[:CLIP_LEN]
            self._pred_feats.append(self._features([pred_clip]))
            self._gt_feats.append(self._features([gt_clip]))

    def finish(self) -> dict[str, VideoValue]:
        self._buf_pred, self._buf_gt = [], []
        return {}  # set-level only

    @property
    def n_clips(self) -> int:
        return sum(len(f) for f in self._pred_feats)

    def set_level(self) -> dict[str, float]:
        if self.n_clips < 2:
            return {}
        pred = np.concatenate(self._pred_feats)
        gt = np.concatenate(self._gt_feats)
        return {"fvd": frechet_distance(*feature_stats(pred), *feature_stats(gt))}
