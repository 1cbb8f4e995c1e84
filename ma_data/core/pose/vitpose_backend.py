"""ViTPose-S coco_25 (the official MACE-Dance extractor's model) on transformers, top-down with a detector.

Pipeline per frame, following easy_ViTPose as run by the official ``extract_ViTPose.py --single_pose
--is_video``:

1. person boxes from the detector (:mod:`ma_data.core.pose.detector`: ``yolov8s``, the official one, or
   ``rtdetr``, the permissively licensed alternative; threshold 0.35);
2. one dancer box per frame (:mod:`ma_data.core.pose.tracking`; ``selection="score"`` takes the most confident
   box, which is what the official run does; ``"track"`` follows one dancer through the video);
3. crop/pad/resize/normalise, ViTPose forward, DARK+UDP heatmap decode (:mod:`ma_data.core.pose.topdown`),
   with a named rule for invisible joints (``invisible_joints="easy_vitpose"``, the official behaviour, or
   ``"missing"``), recorded in the backend version and in the track's ``meta["invisible_joints"]``;
4. keypoints back to image pixels as ``(x, y, conf)`` in coco_25 order (the official JSON stores
   ``(y, x, conf)``; :func:`ma_data.core.formats.keypoints.write_official_json` converts).

Weights: ``vitpose-s-coco25`` (easy_ViTPose's ``vitpose-s-coco_25.pth``, converted on load by
:mod:`ma_data.core.pose.vitpose_convert`) and the detector's (``yolov8s``: ultralytics' ``yolov8s.pt``, AGPL-3.0;
``rtdetr-r18vd-coco-o365``: a transformers directory), all from the weights cache (:mod:`ma_data.core.weights`); a missing file raises
:class:`~ma_data.core.errors.MissingWeightError` saying which file, where it was looked for and how to get it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError
from ma_data.core.formats.keypoints import NUM_JOINTS, KeypointTrack
from ma_data.core.pose.base import PoseBackend, check_frame
from ma_data.core.pose.detector import (
    DEFAULT_DETECTOR,
    PersonDetector,
    build_detector,
    detector_weight,
    pick_detector,
    state_fingerprint,
)
from ma_data.core.pose.topdown import (
    DEFAULT_INVISIBLE_RULE,
    check_invisible_rule,
    crop_box,
    decode_heatmaps,
    invisible_joints,
    preprocess,
)
from ma_data.core.pose.tracking import SELECTION_POLICIES, DancerTracker, select_by_score

VITPOSE_WEIGHT = "vitpose-s-coco25"
#: Bump when preprocessing/decoding changes (invalidates cached tracks).
PIPELINE_VERSION = "2"  # 2: easy_ViTPose's float32 DARK-UDP arithmetic and invisible-joint rules


class ViTPoseBackend(PoseBackend):
    """Top-down ViTPose with a person detector.

    Args:
        checkpoint: path of an easy_ViTPose ``.pth`` (default: registry weight ``vitpose-s-coco25``).
        detector: a :class:`~ma_data.core.pose.detector.PersonDetector` (default: built from ``detector_name``).
        model: an already-built transformers ``VitPoseForPoseEstimation`` (tests, custom sizes); when given,
            ``checkpoint`` is only used for the weights hash if present.
        size: ViTPose size of the checkpoint (``s`` for the official protocol).
        selection: ``"score"`` (official behaviour) or ``"track"``; see :mod:`ma_data.core.pose.tracking`.
        device: ``"cuda"`` when available, else ``"cpu"``, unless given.
        detector_name: ``"rtdetr"`` (default), ``"yolov8s"`` (the official detector) or ``"auto"`` (YOLOv8s
            when its weights are cached, else RT-DETR); ignored when ``detector`` is given.
        invisible_joints: rule for joints whose heatmap is <= 0 (:data:`~ma_data.core.pose.topdown.INVISIBLE_JOINT_RULES`):
            ``"easy_vitpose"`` (official, default) or ``"missing"`` (confidence 0).
    """

    name = "vitpose"

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        detector: PersonDetector | None = None,
        model=None,
        size: str = "s",
        selection: str = "score",
        device: str | None = None,
        detector_name: str = DEFAULT_DETECTOR,
        invisible_joints: str = DEFAULT_INVISIBLE_RULE,
    ) -> None:
        import torch

        if selection not in SELECTION_POLICIES:
            raise ConfigError(f"selection must be one of {SELECTION_POLICIES}, got {selection!r}")
        self.invisible_joints = check_invisible_rule(invisible_joints)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.selection = selection
        self._torch = torch
        detector_name = (
            pick_detector(detector_name) if detector is None else getattr(detector, "name", "detector")
        )
        _check_weights(
            need_pose=model is None,
            detector_name=detector_name if detector is None else None,
            checkpoint=checkpoint,
        )
        if model is None:
            from ma_data.core.pose.vitpose_convert import load_vitpose
            from ma_data.core.weights import cached_sha256, resolve_weight

            path = resolve_weight(VITPOSE_WEIGHT, checkpoint)  # checks the registry's sha256 too
            model = load_vitpose(path, size=size, device=self.device)
            pose_hash = cached_sha256(path)
        else:
            model = model.to(self.device).eval()
            pose_hash = state_fingerprint(model)
        if detector is None:
            detector = build_detector(detector_name, device=self.device)
        self.model = model
        self.detector = detector
        self.detector_name = detector_name
        self._weights_hash = hashlib.sha256(f"{pose_hash}\0{detector.weights_hash}".encode()).hexdigest()
        self.version = f"{PIPELINE_VERSION}+{size}+{detector_name}+{selection}+{self.invisible_joints}"

    @property
    def weights_hash(self) -> str:
        return self._weights_hash

    def close(self) -> None:
        self.model = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()

    def describe(self) -> dict:
        return {
            **super().describe(),
            "detector": self.detector_name,
            "invisible_joints": self.invisible_joints,
            "selection": self.selection,
        }

    def pose_from_box(self, frame: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(25, 3) ``(x, y, conf)`` image-pixel keypoints of the person in ``box``."""
        return self._pose_and_hidden(frame, box)[0]

    def _pose_and_hidden(self, frame: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crop, origin = crop_box(frame, box)
        x = self._torch.from_numpy(preprocess(crop))[None].to(self.device)
        with self._torch.no_grad():
            heatmaps = self.model(pixel_values=x).heatmaps.float().cpu().numpy()
        kp = decode_heatmaps(
            heatmaps, np.array([[crop.shape[1], crop.shape[0]]]), invisible=self.invisible_joints
        )
        kp = kp[0]
        kp[:, :2] += origin  # easy_ViTPose adds the integer crop offset to its float32 points
        return kp.astype(np.float32), np.flatnonzero(invisible_joints(heatmaps)[0])

    def estimate(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int, n_frames: int | None = None
    ) -> KeypointTrack:
        tracker = DancerTracker() if self.selection == "track" else None
        rows: list[np.ndarray] = []
        mask: list[bool] = []
        boxes_used: list[list[float] | None] = []
        hidden: list[list[int]] = []
        for i, frame in enumerate(frames):
            frame = check_frame(frame, width, height, i)
            boxes = np.asarray(self.detector.detect(frame), np.float64).reshape(-1, 5)
            idx = tracker.update(boxes, (width, height)) if tracker is not None else select_by_score(boxes)
            if idx is None:
                rows.append(np.zeros((NUM_JOINTS, 3), np.float32))
                mask.append(False)
                boxes_used.append(None)
                continue
            kp, invisible = self._pose_and_hidden(frame, boxes[idx])
            rows.append(kp)
            hidden.extend([i, int(j)] for j in invisible)
            mask.append(True)
            boxes_used.append([round(float(v), 2) for v in boxes[idx]])
        data = np.stack(rows) if rows else np.zeros((0, NUM_JOINTS, 3), np.float32)
        return KeypointTrack(
            data=data,
            mask=np.array(mask, bool),
            fps=fps,
            width=width,
            height=height,
            extractor=self.name,
            extractor_version=self.version,
            weights_hash=self.weights_hash,
            meta={
                "boxes": boxes_used,
                "selection": self.selection,
                "detector": self.detector_name,
                # (frame, joint) pairs whose heatmap was <= 0, and how they were decoded
                "invisible_joints": {"rule": self.invisible_joints, "frame_joint": hidden},
            },
        )


def _check_weights(need_pose: bool, detector_name: str | None, checkpoint=None) -> None:
    """Report every missing weight in one error (rather than one per run), each with its path and source."""
    from ma_data.core.errors import MissingWeightError
    from ma_data.core.weights import get_spec, resolve_weight

    wanted = ([(VITPOSE_WEIGHT, checkpoint)] if need_pose else []) + (
        [(detector_weight(detector_name), None)] if detector_name else []
    )
    problems = []
    for name, override in wanted:
        try:
            resolve_weight(name, override)
        except MissingWeightError as exc:
            spec = get_spec(name)
            # directory weights (transformers layouts) are not fetched by `weights fetch`; say how to get them
            hint = f" [{spec.description}]" if spec.is_dir else ""
            problems.append(f"{exc}{hint}")
    if problems:
        raise MissingWeightError("the vitpose backend needs its weights: " + " | ".join(problems))


def default_checkpoint_path() -> Path:
    """Where the ViTPose checkpoint is expected in the weights cache."""
    from ma_data.core.weights import weight_path

    return weight_path(VITPOSE_WEIGHT)
