"""Person detection for top-down pose: RT-DETR from transformers (no torchvision, no ultralytics).

The official extractor uses ultralytics YOLOv8s (AGPL-3.0) at 320 px and keeps person boxes with confidence
above 0.35. We use RT-DETR (Apache-2.0) through ``transformers.RTDetrForObjectDetection`` with the same 0.35
threshold; boxes differ slightly from YOLO's, which moves keypoints by a few pixels at most because the crop is
padded and the pose model re-localises every joint. Any object with ``detect(frame) -> (N, 5)`` and
``weights_hash`` can stand in (see :class:`PersonDetector`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from ma_data.core.errors import FormatError

DETECTOR_WEIGHT = "rtdetr-r18vd-coco-o365"
PERSON_THRESHOLD = 0.35


class PersonDetector(Protocol):
    """Anything that finds people: ``detect`` returns (N, 5) ``x1, y1, x2, y2, score``, best first."""

    name: str

    @property
    def weights_hash(self) -> str: ...

    def detect(self, frame: np.ndarray) -> np.ndarray: ...


def directory_fingerprint(path: Path) -> str:
    """sha256 over a model directory's config files (content) and weight files (name + size).

    Hashing multi-hundred-MB weights on every run would dominate short jobs; name + size + config content
    changes whenever a different checkpoint is dropped in.
    """
    digest = hashlib.sha256()
    for item in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        rel = item.relative_to(path).as_posix()
        digest.update(rel.encode())
        if item.suffix in (".json", ".txt", ".yaml"):
            digest.update(item.read_bytes())
        else:
            digest.update(str(item.stat().st_size).encode())
    return digest.hexdigest()


def state_fingerprint(model) -> str:
    """sha256 over a model's tensors (for models passed in directly, e.g. in tests)."""
    digest = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class RTDetrPersonDetector:
    """RT-DETR person boxes.

    Args:
        model_dir: a transformers model directory (``config.json`` + weights). Default: the registry weight
            ``rtdetr-r18vd-coco-o365`` in the weights cache.
        threshold: minimum person score (0.35, as the official extractor's YOLO filter).
        input_size: square input side (RT-DETR is trained at 640).
        device: torch device string.
    """

    name = "rtdetr"

    def __init__(
        self,
        model_dir: str | os.PathLike | None = None,
        threshold: float = PERSON_THRESHOLD,
        input_size: int = 640,
        device: str = "cpu",
    ) -> None:
        import torch
        from transformers import RTDetrForObjectDetection

        from ma_data.core.weights import resolve_weight

        path = resolve_weight(DETECTOR_WEIGHT, model_dir)
        if not (path / "config.json").exists():
            raise FormatError(f"{path}: not a transformers model directory (no config.json)")
        self.model = RTDetrForObjectDetection.from_pretrained(str(path)).to(device).eval()
        self.device = device
        self.threshold = float(threshold)
        self.input_size = int(input_size)
        label2id = {k.lower(): v for k, v in (self.model.config.label2id or {}).items()}
        self.person_label = int(label2id.get("person", 0))
        self._hash = directory_fingerprint(path)
        self._torch = torch

    @property
    def weights_hash(self) -> str:
        return self._hash

    def detect(self, frame: np.ndarray) -> np.ndarray:
        import cv2

        torch = self._torch
        h, w = frame.shape[:2]
        x = cv2.resize(frame, (self.input_size, self.input_size), interpolation=cv2.INTER_LINEAR)
        x = torch.from_numpy(x).permute(2, 0, 1)[None].float().div_(255.0).to(self.device)
        with torch.no_grad():
            out = self.model(pixel_values=x)
        scores = out.logits[0, :, self.person_label].sigmoid().cpu().numpy()
        boxes = out.pred_boxes[0].cpu().numpy()  # (Q, 4) normalised cx, cy, w, h
        return boxes_from_detr(boxes, scores, w, h, self.threshold)


def boxes_from_detr(cxcywh: np.ndarray, scores: np.ndarray, width: int, height: int, threshold: float):
    """Normalised (cx, cy, w, h) + scores -> (N, 5) pixel ``x1, y1, x2, y2, score`` above ``threshold``, best
    first, clipped to the image."""
    cxcywh = np.asarray(cxcywh, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    keep = scores > threshold
    c, s = cxcywh[keep], scores[keep]
    xyxy = np.concatenate([c[:, :2] - c[:, 2:] / 2, c[:, :2] + c[:, 2:] / 2], axis=1)
    xyxy *= np.array([width, height, width, height], np.float64)
    xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, width)
    xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, height)
    order = np.argsort(-s, kind="stable")
    return np.concatenate([xyxy, s[:, None]], axis=1)[order]
