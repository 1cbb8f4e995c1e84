"""Single-performer filter: one person, full body visible, visibly moving.

Two independent checks on frames sampled evenly across a shot:

1. **How many people** — the RT-DETR person detector the motion benchmark uses (``ma_data.core.pose.detector``, score
   >= 0.35 as the official extractor) when its weights are in the cache, else (offline default)
   OpenCV's bundled HOG + linear-SVM people detector (Dalal & Triggs), run with the
   frame scaled to ``HOG_HEIGHT`` px tall (HOG's 64x128 window needs people >= ~128 px). Detections are
   non-maximum suppressed (IoU 0.3) and kept when their SVM score >= ``HOG_MIN_WEIGHT``. A shot is
   *multi-person* when >= 2 people are found in at least ``MULTI_FRACTION`` of the sampled frames. HOG misses
   people in unusual poses (it was trained on upright pedestrians), so it is only trusted to say "several",
   never "none"; counting the dancer is the pose backend's job.
2. **One full body that moves** — a pose backend shared with the motion benchmark (``ma_data.core.pose``; MediaPipe
   BlazePose offline, ViTPose when its weights exist). A frame shows the full body when shoulders, hips,
   knees and ankles all have confidence >= ``JOINT_CONF``; a shot needs that in >= ``FULL_BODY_FRACTION``
   of its samples. Motion is the median, over consecutive samples, of the mean joint displacement after
   removing the hip position, in torso lengths (neck to mid-hip); below ``MIN_ARTICULATION`` the performer
   is essentially still.

Measured on Debian's opencv-doc footage (the tests use the same files):

- HOG at 640 px: ``vtest.avi`` (a plaza with pedestrians) gives 2-6 people per frame with scores 0.5-4.7;
  ``messi5.jpg`` (one player mid-dribble) gives no detection >= 0.5 (one at 0.33), so 0.5 separates.
- Articulation: the messi5 photo panned by a camera (one still person) scores 0.03 (estimator jitter); the
  same frames with every other one mirrored (a pose change) 0.97. ``MIN_ARTICULATION = 0.1`` leaves a
  factor of three above jitter; real dance moves between samples (2.5 s apart at the default rate) are far above it.

The pose models live in the base layer (``ma_data.core.pose``), shared with the benchmark; they are imported lazily (heavy dependencies).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ma_data.core.joint_names import LEG_JOINTS

__all__ = [
    "FULL_BODY_FRACTION",
    "HOG_HEIGHT",
    "HOG_MIN_WEIGHT",
    "JOINT_CONF",
    "MIN_ARTICULATION",
    "MULTI_FRACTION",
    "PersonDecision",
    "count_people_detector",
    "count_people_hog",
    "multi_person_vote",
    "person_check",
    "pose_check",
]

HOG_HEIGHT = 640  # px the frame is scaled to before HOG
HOG_MIN_WEIGHT = 0.5  # SVM score of a kept detection (OpenCV's sample keeps > 0; 0.5 drops most clutter)
MULTI_FRACTION = 0.5  # share of sampled frames with >= 2 people that makes a shot multi-person
JOINT_CONF = 0.5  # BlazePose visibility / ViTPose score of a visible joint
FULL_BODY_FRACTION = 0.5  # share of sampled frames that must show the full body
MIN_ARTICULATION = 0.1  # torso lengths of mean joint displacement between samples
_FULL_BODY_JOINTS = ("left_shoulder", "right_shoulder", *LEG_JOINTS)


@dataclass(frozen=True)
class PersonDecision:
    keep: bool
    reason: str | None
    numbers: dict

    def to_dict(self) -> dict:
        return {"keep": self.keep, "reason": self.reason, **self.numbers}


def _hog():
    import cv2

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def count_people_hog(frame_rgb: np.ndarray, hog=None, min_weight: float = HOG_MIN_WEIGHT) -> int:
    """Number of people HOG finds in one RGB frame (after NMS and the score threshold)."""
    import cv2

    hog = hog or _hog()
    h, w = frame_rgb.shape[:2]
    scale = HOG_HEIGHT / h
    img = cv2.resize(frame_rgb, (max(64, round(w * scale)), HOG_HEIGHT), interpolation=cv2.INTER_LINEAR)
    rects, weights = hog.detectMultiScale(img, winStride=(8, 8), padding=(8, 8), scale=1.05)
    if len(rects) == 0:
        return 0
    weights = np.ravel(weights).astype(float)
    keep = cv2.dnn.NMSBoxes([[int(v) for v in r] for r in rects], weights.tolist(), min_weight, 0.3)
    return len(np.ravel(keep)) if len(keep) else 0


@functools.lru_cache(maxsize=2)
def _pose_backend(name: str):
    """One pose backend per worker process and name, reused across shots and sources (model loading
    costs more than a shot's handful of frames). Sampled frames are independent stills, so MediaPipe
    runs in static-image mode (no tracking between unrelated frames)."""
    from ma_data.core.pose.registry import (
        get_backend,  # lazy: the backends pull heavy dependencies
    )

    kwargs = {"static_image_mode": True} if name == "mediapipe" else {}
    return get_backend(name, **kwargs)


def pose_check(frames: Sequence[np.ndarray], backend: str = "mediapipe") -> dict:
    """Full-body visibility and articulation from a pose backend on sampled RGB frames (same size)."""
    from ma_data.core.formats.keypoints import JOINT_INDEX

    if not frames:
        return {"full_body_fraction": 0.0, "articulation": 0.0, "pose_backend": backend}
    h, w = frames[0].shape[:2]
    track = _pose_backend(backend).estimate(list(frames), fps=1.0, width=w, height=h, n_frames=len(frames))
    kp = track.data  # (T, 25, 3)
    idx = [JOINT_INDEX[j] for j in _FULL_BODY_JOINTS]
    full = track.mask & np.all(kp[:, idx, 2] >= JOINT_CONF, axis=1)
    neck, hip = kp[:, JOINT_INDEX["neck"], :2], kp[:, JOINT_INDEX["hip"], :2]
    torso = np.linalg.norm(neck - hip, axis=1)
    centred = kp[:, :, :2] - hip[:, None, :]
    moves = []
    for a in range(len(kp) - 1):
        b = a + 1
        if full[a] and full[b] and torso[a] > 1 and torso[b] > 1:
            d = np.linalg.norm(centred[b] - centred[a], axis=1).mean()
            moves.append(d / (0.5 * (torso[a] + torso[b])))
    return {
        "full_body_fraction": float(full.mean()),
        "articulation": float(np.median(moves)) if moves else 0.0,
        "pose_backend": backend,
    }


@functools.lru_cache(maxsize=1)
def _learned_detector():
    """The benchmark's RT-DETR person detector when its weights are present, else ``None`` (use HOG)."""
    try:
        from ma_data.core.pose.detector import RTDetrPersonDetector  # lazy: torch + transformers

        return RTDetrPersonDetector()
    except Exception:  # noqa: BLE001 - missing weights / transformers: the offline HOG path is used
        return None


def count_people_detector(frame_rgb: np.ndarray, detector) -> int:
    """People a learned detector (``detect(frame) -> (N, 5)`` boxes with scores) finds in one frame."""
    return int(len(detector.detect(frame_rgb)))


def multi_person_vote(counts, n: int, fraction: float = MULTI_FRACTION) -> bool | None:
    """The multi-person vote over ``n`` sampled frames once ``counts`` (people per frame, in sample order)
    are known for some of them: True / False when the remaining frames can no longer change it, None
    while they can. The vote is "multi" when >= ``fraction`` of the ``n`` frames show >= 2 people."""
    need = math.ceil(fraction * n - 1e-9)  # frames with >= 2 people that make the shot multi-person
    hits = sum(c >= 2 for c in counts)
    if hits >= need:
        return True
    if hits + (n - len(counts)) < need:
        return False
    return None


def person_check(
    frames: Sequence[np.ndarray],
    backend: str = "mediapipe",
    use_pose: bool = True,
    min_articulation: float = MIN_ARTICULATION,
    detector: str | object = "auto",
) -> PersonDecision:
    """Decide whether sampled frames of one shot show a single moving performer.

    detector: ``"auto"`` (RT-DETR when its weights exist, else HOG), ``"hog"``, or an object with
    ``detect(frame) -> (N, 5)``.

    People are counted frame by frame, in sample order, only until the multi-person vote is decided (the
    counter is most of the filter's cost: HOG takes ~0.25 s a frame at 640 px): a shot whose first frames
    show one person stops counting once the rest cannot make it multi-person. ``people_counts`` lists the
    frames counted; the decision is the one counting every sample would give.
    """
    det = _learned_detector() if detector == "auto" else (None if detector == "hog" else detector)
    if det is not None:
        counter = getattr(det, "name", type(det).__name__)

        def count(f):
            return count_people_detector(f, det)
    else:
        hog = _hog()
        counter = "hog"

        def count(f):
            return count_people_hog(f, hog)

    counts: list[int] = []
    multi = multi_person_vote(counts, len(frames)) if frames else False
    for f in frames:
        if multi is not None:
            break
        counts.append(count(f))
        multi = multi_person_vote(counts, len(frames))
    numbers: dict = {
        "people_counter": counter,
        "people_counts": counts,
        "people_frames": len(frames),
        "multi_fraction": float(np.mean([c >= 2 for c in counts])) if counts else 0.0,
    }
    if multi:
        return PersonDecision(False, "multi_person", numbers)
    if use_pose:
        numbers.update(pose_check(frames, backend))
        if numbers["full_body_fraction"] < FULL_BODY_FRACTION:
            return PersonDecision(False, "no_full_body", numbers)
        if numbers["articulation"] < min_articulation:
            return PersonDecision(False, "no_human_motion", numbers)
    return PersonDecision(True, None, numbers)
