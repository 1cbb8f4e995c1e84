"""Single-dancer selection across frames from per-frame person detections.

Dance clips usually hold one dancer, but detectors also fire on audience members, mirrors and posters. Two
policies:

- ``"score"`` — each frame independently takes its highest-scoring box. This is what the official MACE-Dance
  extractor does (easy_ViTPose with ``--single_pose``: person id 0 is the first, i.e. most confident, YOLO
  box), so it is the default for the official protocol.
- ``"track"`` — :class:`DancerTracker`: pick the dancer once (score x area, favouring the large central
  figure), then follow that box by overlap and distance; if it is lost for ``max_lost`` frames, pick again.
  This avoids identity switches when a bystander briefly out-scores the dancer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SELECTION_POLICIES = ("score", "track")


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between boxes ``a`` (N, 4) and ``b`` (M, 4) in x1, y1, x2, y2 -> (N, M)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def select_by_score(boxes: np.ndarray) -> int | None:
    """Index of the highest-scoring box in (N, 5) ``boxes`` (x1, y1, x2, y2, score), or None if empty."""
    boxes = np.asarray(boxes).reshape(-1, 5)
    return int(np.argmax(boxes[:, 4])) if len(boxes) else None


@dataclass
class DancerTracker:
    """Online single-target tracker over per-frame detections.

    Args:
        min_iou: a box continues the track if its IoU with the last dancer box is at least this ...
        max_center_shift: ... or its centre moved less than this fraction of the last box's diagonal.
        max_lost: frames without a match before the dancer is chosen afresh.
    """

    min_iou: float = 0.3
    max_center_shift: float = 0.5
    max_lost: int = 8

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.last_box: np.ndarray | None = None
        self.lost = 0

    @staticmethod
    def _initial_choice(boxes: np.ndarray, frame_size: tuple[int, int] | None) -> int:
        area = np.prod(np.clip(boxes[:, 2:4] - boxes[:, :2], 0, None), axis=1)
        weight = boxes[:, 4] * area
        if frame_size is not None:
            w, h = frame_size
            centre = (boxes[:, :2] + boxes[:, 2:4]) / 2
            offset = np.hypot((centre[:, 0] - w / 2) / w, (centre[:, 1] - h / 2) / h)
            weight = weight * (1.0 - 0.5 * np.clip(offset, 0, 1))  # mild preference for the centre
        return int(np.argmax(weight))

    def update(self, boxes: np.ndarray, frame_size: tuple[int, int] | None = None) -> int | None:
        """Pick the dancer among this frame's (N, 5) boxes; returns its index or None (no dancer here)."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 5)
        if len(boxes) == 0:
            self.lost += 1
            if self.lost > self.max_lost:
                self.last_box = None
            return None
        if self.last_box is None:
            idx = self._initial_choice(boxes, frame_size)
        else:
            iou = box_iou(self.last_box[None, :4], boxes[:, :4])[0]
            last_c = (self.last_box[:2] + self.last_box[2:4]) / 2
            diag = max(float(np.hypot(*(self.last_box[2:4] - self.last_box[:2]))), 1e-6)
            shift = np.hypot(*(((boxes[:, :2] + boxes[:, 2:4]) / 2 - last_c).T)) / diag
            ok = (iou >= self.min_iou) | (shift <= self.max_center_shift)
            if not ok.any():
                self.lost += 1
                if self.lost > self.max_lost:
                    self.last_box = None
                    return self.update(boxes, frame_size)
                return None
            # among continuing boxes prefer overlap, then proximity
            cost = np.where(ok, (1.0 - iou) + shift, np.inf)
            idx = int(np.argmin(cost))
        self.last_box = boxes[idx].copy()
        self.lost = 0
        return idx
