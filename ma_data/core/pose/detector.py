"""Person detectors for top-down pose, by name: ``yolov8s`` (the official one) and ``rtdetr``.

The official extractor uses ultralytics YOLOv8s at 320 px and keeps person boxes with confidence above 0.35:
:mod:`ma_data.core.pose.yolov8` re-implements exactly that (no ultralytics, no torchvision), but its weights are
**AGPL-3.0**. RT-DETR (Apache-2.0, ``transformers.RTDetrForObjectDetection``, same 0.35 threshold) is the
permissively licensed alternative; its boxes differ from YOLO's, which moves keypoints through the crop. Any
object with ``name``, ``detect(frame) -> (N, 5)`` and ``weights_hash`` can stand in (:class:`PersonDetector`);
detectors that also have ``prepare(frame)`` (CPU, the network's uint8 input) and ``detect_prepared(batch,
sizes)`` (one batched forward) run in batches (:class:`BatchDetector`): both built-in ones do, and their
``detect`` is ``detect_prepared`` on a batch of one.
"""

from __future__ import annotations

import abc
import hashlib
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from ma_data.core.errors import ConfigError, FormatError

DETECTOR_WEIGHT = "rtdetr-r18vd-coco-o365"
PERSON_THRESHOLD = 0.35

#: detector name -> (module, class, registry weight, licence of the weights)
DETECTORS: dict[str, tuple[str, str, str, str]] = {
    "yolov8s": ("ma_data.core.pose.yolov8", "YoloV8PersonDetector", "yolov8s", "AGPL-3.0"),
    "rtdetr": ("ma_data.core.pose.detector", "RTDetrPersonDetector", DETECTOR_WEIGHT, "Apache-2.0"),
}
DEFAULT_DETECTOR = "rtdetr"


def detector_weight(name: str) -> str:
    """Registry weight name of detector ``name``."""
    if name not in DETECTORS:
        raise ConfigError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")
    return DETECTORS[name][2]


def pick_detector(name: str, preference: tuple[str, ...] = ("yolov8s", "rtdetr")) -> str:
    """``name`` itself, or for ``"auto"`` the first of ``preference`` whose weights are in the cache (else the
    first, so that the missing-weight error names it)."""
    if name != "auto":
        detector_weight(name)
        return name
    from ma_data.core.errors import MissingWeightError
    from ma_data.core.weights import resolve_weight

    for candidate in preference:
        try:
            resolve_weight(detector_weight(candidate), verify=False)  # presence; hashes are checked on load
            return candidate
        except MissingWeightError:
            continue
    return preference[0]


def build_detector(name: str, device: str = "cpu") -> PersonDetector:
    """Instantiate detector ``name`` from its cached weights."""
    import importlib

    detector_weight(name)
    module, cls, _, _ = DETECTORS[name]
    return getattr(importlib.import_module(module), cls)(device=device)


class PersonDetector(Protocol):
    """Anything that finds people: ``detect`` returns (N, 5) ``x1, y1, x2, y2, score``, best first."""

    name: str

    @property
    def weights_hash(self) -> str: ...

    def detect(self, frame: np.ndarray) -> np.ndarray: ...


class BatchDetector(PersonDetector, Protocol):
    """A detector that runs batches: per-frame ``prepare`` (thread-safe, CPU) then one ``detect_prepared``."""

    def prepare(self, frame: np.ndarray) -> np.ndarray: ...

    def detect_prepared(self, batch: np.ndarray, sizes: list[tuple[int, int]]) -> list[np.ndarray]: ...


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


class TorchPersonDetector(abc.ABC):
    """What the built-in detectors share: a torch ``model`` on ``device``, a person-score ``threshold``, the
    weights' fingerprint, and ``detect`` as ``detect_prepared`` on a batch of one. Subclasses set ``name``
    and implement ``prepare`` and ``detect_prepared`` (:class:`BatchDetector`)."""

    name: str

    def __init__(self, model, weights_hash: str, threshold: float, device: str) -> None:
        import torch

        self._torch = torch
        self.model = model
        self.device = device
        self.threshold = float(threshold)
        self._hash = weights_hash

    @property
    def weights_hash(self) -> str:
        return self._hash

    @abc.abstractmethod
    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The network's uint8 input for one RGB frame (CPU, thread-safe)."""

    @abc.abstractmethod
    def detect_prepared(self, batch: np.ndarray, sizes: list[tuple[int, int]]) -> list[np.ndarray]:
        """Boxes per frame for a batch of :meth:`prepare` outputs of frames of ``sizes`` (w, h)."""

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """(N, 5) ``x1 y1 x2 y2 score`` of the person boxes above the threshold, best first."""
        h, w = frame.shape[:2]
        return self.detect_prepared(self.prepare(frame)[None], [(w, h)])[0]


class RTDetrPersonDetector(TorchPersonDetector):
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
        from transformers import RTDetrForObjectDetection

        from ma_data.core.weights import resolve_weight

        path = resolve_weight(DETECTOR_WEIGHT, model_dir)
        if not (path / "config.json").exists():
            raise FormatError(f"{path}: not a transformers model directory (no config.json)")
        model = RTDetrForObjectDetection.from_pretrained(str(path)).to(device).eval()
        super().__init__(model, directory_fingerprint(path), threshold, device)
        self.input_size = int(input_size)
        label2id = {k.lower(): v for k, v in (model.config.label2id or {}).items()}
        self.person_label = int(label2id.get("person", 0))

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The network's uint8 input for one RGB frame: resized to ``input_size`` squared (bilinear)."""
        import cv2

        return cv2.resize(frame, (self.input_size, self.input_size), interpolation=cv2.INTER_LINEAR)

    def detect_prepared(self, batch: np.ndarray, sizes: list[tuple[int, int]]) -> list[np.ndarray]:
        """Boxes for a batch of :meth:`prepare` outputs, (B, S, S, 3) uint8, of frames of ``sizes`` (w, h)."""
        torch = self._torch
        # uint8 to the device, then float: the same values as converting first, a quarter of the transfer
        x = torch.from_numpy(np.asarray(batch)).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
        with torch.no_grad():
            out = self.model(pixel_values=x)
        scores = out.logits[..., self.person_label].float().sigmoid().cpu().numpy()
        boxes = out.pred_boxes.float().cpu().numpy()  # (B, Q, 4) normalised cx, cy, w, h
        return [
            boxes_from_detr(b, s, w, h, self.threshold)
            for b, s, (w, h) in zip(boxes, scores, sizes, strict=True)
        ]


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
