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

The steps run on batches (``batch_size`` frames through the detector in one forward, their dancer crops
through ViTPose in one forward) with the per-frame CPU work (detector input resizing, crops, heatmap
decoding) on a thread pool, overlapping the models; step 2 still visits the frames one after another in
order, so a tracker sees what it would frame by frame. Each frame's arithmetic is the frame-by-frame
pipeline's: float32 results equal it to float32 rounding (bit for bit on the CPUs tried), whatever the batch
size. ``dtype="bfloat16"`` (ViTPose under autocast) is a recorded non-default.

Weights: ``vitpose-s-coco25`` (easy_ViTPose's ``vitpose-s-coco_25.pth``, converted on load by
:mod:`ma_data.core.pose.vitpose_convert`) and the detector's (``yolov8s``: ultralytics' ``yolov8s.pt``, AGPL-3.0;
``rtdetr-r18vd-coco-o365``: a transformers directory), all from the weights cache (:mod:`ma_data.core.weights`); a missing file raises
:class:`~ma_data.core.errors.MissingWeightError` saying which file, where it was looked for and how to get it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ma_data.core.errors import check_choice
from ma_data.core.formats.keypoints import NUM_JOINTS, KeypointTrack
from ma_data.core.pose.base import PoseBackend
from ma_data.core.pose.batching import (
    DEFAULT_BATCH_BYTES,
    check_dtype,
    chunked,
    fill_slots,
    frames_per_batch,
    precision,
    wait_all,
)
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
    INPUT_SIZE,
    check_invisible_rule,
    crop_box,
    decode_heatmaps,
    invisible_joints,
    normalise,
    resize_crop,
)
from ma_data.core.pose.tracking import SELECTION_POLICIES, DancerTracker, select_by_score

VITPOSE_WEIGHT = "vitpose-s-coco25"
#: Bump when preprocessing/decoding changes (invalidates cached tracks).
PIPELINE_VERSION = "2"  # 2: easy_ViTPose's float32 DARK-UDP arithmetic and invisible-joint rules


class ViTPoseBackend(PoseBackend):
    """Top-down ViTPose with a person detector, run on batches of frames.

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
        batch_size: frames per batch through the detector and crops per batch through ViTPose (an upper
            bound: lowered so two batches of frames fit in ``max_batch_bytes``). The float32 output does not
            depend on it beyond float32 rounding, so it is not part of the cache key.
        dtype: ``"float32"`` (default: IEEE float32, the reference numbers) or ``"bfloat16"`` (ViTPose under
            autocast, several times faster on recent GPUs; keypoints move by a fraction of a pixel). Recorded
            in :attr:`version`, so bfloat16 tracks never serve a float32 request. The detector always runs in
            float32 (bfloat16 box coordinates would be off by pixels).
        cpu_threads: threads for the per-frame CPU steps (detector input resizing, crops, heatmap decoding).
        max_batch_bytes: host memory bound of a batch of frames (see ``batch_size``).
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
        batch_size: int = 32,
        dtype: str = "float32",
        cpu_threads: int | None = None,
        max_batch_bytes: int = DEFAULT_BATCH_BYTES,
    ) -> None:
        import torch

        check_choice("selection", selection, SELECTION_POLICIES)
        self.invisible_joints = check_invisible_rule(invisible_joints)
        self.dtype = check_dtype(dtype)
        self.batch_size = frames_per_batch(batch_size, 1, 1)  # validates it
        self.max_batch_bytes = int(max_batch_bytes)
        self.cpu_threads = max(1, cpu_threads or min(8, os.cpu_count() or 1))
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
        self.version = f"{PIPELINE_VERSION}+{size}+{detector_name}+{selection}+{self.invisible_joints}" + (
            "+bf16" if self.dtype == "bfloat16" else ""
        )

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
            "dtype": self.dtype,
        }

    def decode_options(self, width: int, height: int) -> dict:
        # frames converted to RGB on several threads, read ahead by two batches
        batch = frames_per_batch(self.batch_size, width, height, self.max_batch_bytes)
        return {"threads": self.cpu_threads, "prefetch": 2 * batch}

    # -- the model steps ---------------------------------------------------------------------------------

    def _detect(self, chunk: list[np.ndarray], prepared: np.ndarray | None) -> list[np.ndarray]:
        """(N, 5) boxes per frame: one batched forward, or frame by frame for a detector without batches."""
        torch = self._torch
        with precision(torch, self.device, "float32"):
            if prepared is None:
                boxes = [self.detector.detect(frame) for frame in chunk]
            else:
                sizes = [(f.shape[1], f.shape[0]) for f in chunk]
                boxes = self.detector.detect_prepared(prepared, sizes)
        return [np.asarray(b, np.float64).reshape(-1, 5) for b in boxes]

    def _heatmaps(self, crops: np.ndarray) -> np.ndarray:
        """(N, 25, 64, 48) float32 heatmaps of (N, 256, 192, 3) uint8 resized crops."""
        torch = self._torch
        with torch.no_grad():
            x = normalise(torch.from_numpy(crops).to(self.device))
            with precision(torch, self.device, self.dtype):
                heatmaps = self.model(pixel_values=x).heatmaps
            return heatmaps.float().cpu().numpy()

    def _decode(self, heatmaps: np.ndarray, sizes: np.ndarray, origins: np.ndarray):
        """Image-pixel ``(x, y, conf)`` (N, 25, 3) float32 and the (N, 25) invisible-joint flags."""
        kp = decode_heatmaps(heatmaps, sizes, invisible=self.invisible_joints)
        kp[..., :2] += origins[:, None, :]  # easy_ViTPose adds the integer crop offset to its float32 points
        return kp.astype(np.float32), invisible_joints(heatmaps)

    def _crop(self, frame: np.ndarray, box: np.ndarray, sizes: np.ndarray, origins: np.ndarray, j: int):
        crop, origin = crop_box(frame, box)
        sizes[j] = crop.shape[1], crop.shape[0]
        origins[j] = origin
        return resize_crop(crop)

    def _start_crops(self, pool: ThreadPoolExecutor, frames: list[np.ndarray], boxes: list[np.ndarray]):
        """Crops of ``boxes`` in ``frames`` on ``pool``: (uint8 batch, crop sizes, origins, futures)."""
        n = len(boxes)
        out = np.empty((n, INPUT_SIZE[1], INPUT_SIZE[0], 3), np.uint8)
        sizes, origins = np.zeros((n, 2), np.int64), np.zeros((n, 2), np.float64)
        items = [(f, b, sizes, origins, j) for j, (f, b) in enumerate(zip(frames, boxes, strict=True))]
        return out, sizes, origins, fill_slots(pool, out, self._crop, items)

    def pose_from_box(self, frame: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(25, 3) ``(x, y, conf)`` image-pixel keypoints of the person in ``box``."""
        with ThreadPoolExecutor(1) as pool:
            crops, sizes, origins, futures = self._start_crops(pool, [frame], [np.asarray(box)])
            wait_all(futures)
        return self._decode(self._heatmaps(crops), sizes, origins)[0][0]

    # -- the pipeline ------------------------------------------------------------------------------------

    def _start_detector_inputs(self, pool: ThreadPoolExecutor, chunk: list[np.ndarray] | None):
        """The detector's batched input for ``chunk``, being filled on ``pool``: (array or None, futures)."""
        prepare = getattr(self.detector, "prepare", None)
        if chunk is None or prepare is None or not hasattr(self.detector, "detect_prepared"):
            return None, []
        first = prepare(chunk[0])
        out = np.empty((len(chunk), *first.shape), first.dtype)
        out[0] = first
        return out, fill_slots(pool, out[1:], prepare, [(f,) for f in chunk[1:]])

    def estimate(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int, n_frames: int | None = None
    ) -> KeypointTrack:
        """Batches of frames through the detector, one dancer box per frame chosen in frame order, batches of
        crops through ViTPose. The CPU steps of the next batch (detector input) and of the previous one
        (heatmap decoding) run on a thread pool while the models run."""
        batch = frames_per_batch(self.batch_size, width, height, self.max_batch_bytes)
        tracker = DancerTracker() if self.selection == "track" else None
        chosen: list[np.ndarray | None] = []  # per frame, the dancer box
        decoded: list[Future] = []  # per batch with crops, its decoding
        with ThreadPoolExecutor(self.cpu_threads, thread_name_prefix="pose") as pool:
            chunks = chunked(frames, batch, width, height)
            chunk = next(chunks, None)
            prepared, pending = self._start_detector_inputs(pool, chunk)
            while chunk is not None:
                wait_all(pending)
                boxes = self._detect(chunk, prepared)
                picks = []
                for frame, frame_boxes in zip(
                    chunk, boxes, strict=True
                ):  # sequential: the tracker sees frames in order
                    idx = (
                        tracker.update(frame_boxes, (width, height))
                        if tracker
                        else select_by_score(frame_boxes)
                    )
                    chosen.append(None if idx is None else frame_boxes[idx])
                    if idx is not None:
                        picks.append((frame, frame_boxes[idx]))
                if picks:
                    crops, sizes, origins, crop_jobs = self._start_crops(
                        pool, *map(list, zip(*picks, strict=True))
                    )
                # the next batch's detector input is prepared while this batch's crops go through ViTPose
                chunk = next(chunks, None)
                prepared, pending = self._start_detector_inputs(pool, chunk)
                if picks:
                    wait_all(crop_jobs)
                    decoded.append(pool.submit(self._decode, self._heatmaps(crops), sizes, origins))
            results = [fut.result() for fut in decoded]
        return self._track(chosen, results, fps, width, height, batch)

    def _track(self, chosen, results, fps, width, height, batch) -> KeypointTrack:
        n = len(chosen)
        data = np.zeros((n, NUM_JOINTS, 3), np.float32)
        mask = np.array([box is not None for box in chosen], bool)
        hidden_rows: list[np.ndarray] = []
        if results:
            data[mask] = np.concatenate([kp for kp, _ in results])
            hidden_rows = list(np.concatenate([h for _, h in results]))
        hidden = []
        for i, flags in zip(np.flatnonzero(mask), hidden_rows, strict=True):
            hidden.extend([int(i), int(j)] for j in np.flatnonzero(flags))
        meta = {
            "boxes": [None if b is None else [round(float(v), 2) for v in b] for b in chosen],
            "selection": self.selection,
            "detector": self.detector_name,
            # (frame, joint) pairs whose heatmap was <= 0, and how they were decoded
            "invisible_joints": {"rule": self.invisible_joints, "frame_joint": hidden},
            "dtype": self.dtype,
            "batch_size": batch,
        }
        return self.make_track(data, mask, fps, width, height, meta)


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
