"""YOLOv8s person detector as the official MACE-Dance extractor runs it (no ultralytics, no torchvision).

easy_ViTPose (``inference.py``, JunkyByte/easy_ViTPose@4f2ba44, pinned ``ultralytics==8.3.107``) calls
``yolo(img[..., ::-1], imgsz=320, classes=[0])`` per frame and keeps boxes with confidence above 0.35; the
official ``extract_ViTPose.py`` (``--single_pose``) then uses the first of them. Ultralytics 8.3.107 does, for a
``.pt`` model:

1. **letterbox** (``data/augment.py`` LetterBox, ``auto=True`` because ``Model.predict`` sets ``rect=True``,
   stride 32): ``r = min(320 / h, 320 / w)``, resize to ``(round(w r), round(h r))`` with ``cv2.INTER_LINEAR``
   (skipped when the size is unchanged), pad each side to a multiple of 32 (``dw = (320 - w') % 32``) split
   ``round(dw/2 - 0.1)`` left/top and ``round(dw/2 + 0.1)`` right/bottom, colour (114, 114, 114);
2. RGB, float32 / 255, network with Conv+BN fused (``fuse_conv_and_bn``);
3. **NMS** (``utils/ops.py`` non_max_suppression: conf 0.25, IoU 0.7, ``classes=[0]``, max_det 300): boxes
   whose best class score exceeds 0.25, kept only if that class is person, greedy NMS as torchvision's CPU
   kernel (scores sorted descending by a stable sort, so ties keep candidate order; IoU
   ``inter / (area_i + area_j - inter)`` in float32, suppress if ``> 0.7``);
4. **scale_boxes**: subtract ``round((320 - w0 gain)/2 - 0.1)`` (and for y), divide by the gain, clip.

All in float32 torch, as there. Checked against ultralytics 8.3.107 itself (random weights saved by
``YOLO.save``): letterboxed input, head output and ``boxes.data`` bit-identical at the same torch intra-op
thread count (ultralytics sets ``torch.set_num_threads(min(8, cores - 1))`` on CPU; other thread counts change
convolution rounding). :class:`YoloV8PersonDetector` returns the boxes above 0.35 in that order, so the
first row is the official first box. Weights: registry ``yolov8s`` (ultralytics' ``yolov8s.pt``, **AGPL-3.0**),
read by :mod:`ma_data.core.pose.yolo_checkpoint` without executing its pickled classes.
"""

from __future__ import annotations

import os

import numpy as np

from ma_data.core.errors import FormatError
from ma_data.core.pose.detector import TorchPersonDetector, state_fingerprint

YOLO_WEIGHT = "yolov8s"
IMGSZ = 320
STRIDE = 32
PAD_VALUE = 114
NMS_CONF = 0.25  # ultralytics' predict default (easy_ViTPose passes none)
NMS_IOU = 0.7
MAX_DET = 300
MAX_NMS = 30000
MAX_WH = 7680
PERSON_CLASS = 0
PERSON_THRESHOLD = 0.35  # easy_ViTPose: ``if r[4] > 0.35``


def letterbox(image: np.ndarray, imgsz: int = IMGSZ, stride: int = STRIDE, auto: bool = True):
    """ultralytics LetterBox (center=True, scaleup=True). Returns ``(padded image, gain, (left, top))``."""
    import cv2

    h, w = image.shape[:2]
    r = min(imgsz / h, imgsz / w)
    new_unpad = int(round(w * r)), int(round(h * r))
    dw, dh = imgsz - new_unpad[0], imgsz - new_unpad[1]
    if auto:
        dw, dh = np.mod(dw, stride), np.mod(dh, stride)
    dw, dh = dw / 2, dh / 2
    if (w, h) != new_unpad:
        image = cv2.resize(image, new_unpad, interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return image, r, (left, top)


def nms(boxes, scores, iou: float):
    """Greedy NMS exactly as torchvision's CPU kernel (float32 areas/IoU; stable descending score order)."""
    import torch

    x1, y1, x2, y2 = (boxes[:, i].contiguous().numpy() for i in range(4))
    areas = (boxes[:, 2] - boxes[:, 0]).mul(boxes[:, 3] - boxes[:, 1]).numpy()
    order = scores.sort(stable=True, dim=0, descending=True)[1].numpy()
    suppressed = np.zeros(len(order), bool)
    keep = []
    zero = np.float32(0)
    for pos, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[pos + 1 :]
        w = np.maximum(zero, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(zero, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        ovr = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[ovr.astype(np.float64) > iou]] = True
    return torch.as_tensor(np.array(keep, np.int64))


def non_max_suppression(
    pred, conf: float = NMS_CONF, iou: float = NMS_IOU, classes=(PERSON_CLASS,), max_det: int = MAX_DET
):
    """One image's (4 + nc, A) head output -> (n, 6) ``x1 y1 x2 y2 conf cls`` (ultralytics, best class only)."""
    import torch

    x = pred.transpose(0, 1)
    xy, wh = x[:, :2], x[:, 2:4] / 2
    box = torch.cat((xy - wh, xy + wh), 1)
    score, j = x[:, 4:].max(1, keepdim=True)
    keep = score.view(-1) > conf
    det = torch.cat((box, score, j.float()), 1)[keep]
    if classes is not None:
        det = det[(det[:, 5:6] == torch.tensor(classes, dtype=det.dtype)).any(1)]
    if not len(det):
        return det
    if len(det) > MAX_NMS:
        det = det[det[:, 4].argsort(descending=True)[:MAX_NMS]]
    offset = det[:, 5:6] * MAX_WH
    return det[nms(det[:, :4] + offset, det[:, 4], iou)[:max_det]]


def scale_boxes(boxes, letterboxed_hw: tuple[int, int], image_hw: tuple[int, int]):
    """ultralytics ``scale_boxes`` + ``clip_boxes`` (in place on a float32 tensor)."""
    (h1, w1), (h0, w0) = letterboxed_hw, image_hw
    gain = min(h1 / h0, w1 / w0)
    pad_x, pad_y = round((w1 - w0 * gain) / 2 - 0.1), round((h1 - h0 * gain) / 2 - 0.1)
    boxes[:, [0, 2]] -= pad_x
    boxes[:, [1, 3]] -= pad_y
    boxes[:, :4] /= gain
    boxes[:, 0] = boxes[:, 0].clamp(0, w0)
    boxes[:, 1] = boxes[:, 1].clamp(0, h0)
    boxes[:, 2] = boxes[:, 2].clamp(0, w0)
    boxes[:, 3] = boxes[:, 3].clamp(0, h0)
    return boxes


def load_yolov8(path: str | os.PathLike, device: str = "cpu"):
    """Build :class:`~ma_data.core.pose.yolov8_model.YoloV8` from an ultralytics checkpoint: ``ema`` if present,
    else ``model``; half -> float32; BatchNorm eps from the file; Conv+BN fused; eval mode."""
    import torch

    from ma_data.core.pose.yolo_checkpoint import (
        load_ultralytics_checkpoint,
        module_attributes,
        state_dict_of,
    )
    from ma_data.core.pose.yolov8_model import YoloV8, YoloV8Config

    ckpt = load_ultralytics_checkpoint(path)
    net = ckpt.get("ema") or ckpt.get("model")
    if net is None or not hasattr(net, "state"):
        raise FormatError(f"{path}: no pickled 'model' in the checkpoint (keys: {sorted(map(str, ckpt))})")
    sd = {k: v.float() if v.is_floating_point() else v for k, v in state_dict_of(net).items()}
    try:
        cfg = YoloV8Config.from_state_dict(sd)
    except (KeyError, IndexError) as exc:
        raise FormatError(f"{path}: not a YOLOv8 detection model (no {exc})") from None
    model = YoloV8(cfg)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        raise FormatError(
            f"{path}: does not match the YOLOv8 architecture ({exc})".replace("\n", " ")
        ) from None
    modules = dict(model.named_modules())
    for name, eps in module_attributes(net, "eps").items():
        if isinstance(modules.get(name), torch.nn.BatchNorm2d):
            modules[name].eps = float(eps)
    names = net.state.get("names")
    if isinstance(names, dict | list) and len(names) and (names[PERSON_CLASS] != "person"):
        raise FormatError(f"{path}: class {PERSON_CLASS} is {names[PERSON_CLASS]!r}, not 'person'")
    return model.eval().fuse().to(device)


class YoloV8PersonDetector(TorchPersonDetector):
    """Person boxes from YOLOv8 the way easy_ViTPose gets them (see the module docstring).

    Args:
        weights: an ultralytics ``.pt`` (default: registry weight ``yolov8s`` in the weights cache).
        imgsz: letterbox size (320, the official ``yolo_size``).
        threshold: easy_ViTPose's confidence filter (0.35).
        model: an already-built :class:`~ma_data.core.pose.yolov8_model.YoloV8` (tests); ``weights`` unused.
        device: torch device string.
    """

    name = "yolov8s"

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        imgsz: int = IMGSZ,
        threshold: float = PERSON_THRESHOLD,
        model=None,
        device: str = "cpu",
    ) -> None:
        if model is None:
            from ma_data.core.weights import cached_sha256, resolve_weight

            path = resolve_weight(YOLO_WEIGHT, weights)
            model = load_yolov8(path, device=device)
            weights_hash = cached_sha256(path)
        else:
            model = model.to(device).eval()
            weights_hash = state_fingerprint(model)
        super().__init__(model, weights_hash, threshold, device)
        self.imgsz = int(imgsz)

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The letterboxed uint8 network input of one RGB frame (its shape depends only on the frame size)."""
        return letterbox(frame, self.imgsz)[0]

    def raw_prepared(self, batch: np.ndarray, sizes: list[tuple[int, int]]) -> list:
        """Per frame, the (n, 6) float32 tensor ``x1 y1 x2 y2 conf cls`` in image pixels (``boxes.data``),
        from a batch of :meth:`prepare` outputs, (B, h, w, 3) uint8, of frames of ``sizes`` (w, h)."""
        torch = self._torch
        batch = np.asarray(batch)
        # uint8 to the device, then NCHW float / 255: the reference's values and contiguous layout
        x = torch.from_numpy(batch).to(self.device).permute(0, 3, 1, 2).contiguous().float()
        x /= 255
        with torch.no_grad():
            pred = self.model(x).float()  # (B, 4 + nc, anchors) on the device
            # Only an anchor whose person score passes NMS's confidence test can become a person box (its best
            # class must be person, scoring > conf): those columns go to the CPU, in anchor order, and NMS on
            # them gives what it gives on the whole head output, without moving and scanning all of it.
            frame_idx, anchor_idx = (pred[:, 4 + PERSON_CLASS] > NMS_CONF).nonzero(as_tuple=True)
            candidates = pred.permute(0, 2, 1)[frame_idx, anchor_idx].cpu()  # (K, 4 + nc)
            counts = torch.bincount(frame_idx, minlength=len(batch)).tolist()
        return [
            scale_boxes(non_max_suppression(c.T), batch.shape[1:3], (h, w))
            for c, (w, h) in zip(candidates.split(counts), sizes, strict=True)
        ]

    def raw_detections(self, frame: np.ndarray):
        """(n, 6) float32 tensor ``x1 y1 x2 y2 conf cls`` in image pixels: ultralytics' ``boxes.data``."""
        h, w = frame.shape[:2]
        return self.raw_prepared(self.prepare(frame)[None], [(w, h)])[0]

    def detect_prepared(self, batch: np.ndarray, sizes: list[tuple[int, int]]) -> list[np.ndarray]:
        """(N, 5) ``x1 y1 x2 y2 score`` per frame of the batch: the person boxes with score > 0.35, NMS order."""
        out = []
        for det in self.raw_prepared(batch, sizes):
            det = det.numpy().astype(np.float64)
            out.append(det[det[:, 4] > self.threshold, :5].reshape(-1, 5))
        return out
