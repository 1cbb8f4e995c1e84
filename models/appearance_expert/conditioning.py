"""Conditioning inputs of the Appearance Expert, made from our data (numpy level, no model needed).

* **Pose video** -- the OpenPose-18 + feet drawing of the official ``motion_to_pose_video`` tool (drawn by
  ``ma_data.core.pose_video``), *resampled* to the target fps. The official tool plays the first 80 frames of 30 fps
  motion at 16 fps (1.9x too fast); we pick, for each output frame time, the nearest source frame.
* **Face video** -- 512x512 crops around the face keypoints (Wan's recipe: face box x 1.3), or the *null face*
  (all-black frames, i.e. pixel value -1 after normalisation, the same input Wan-Animate uses for its
  unconditional branch) when there is no driving face, e.g. for motion generated from music.
* **Reference image** -- an RGB image; for training, the first frame of the clip.
* **Prompt** -- the released data's "视频中的人在跳舞" ("the person in the video is dancing") by default.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ma_data.core.errors import ConfigError, FormatError, MediaError

DEFAULT_PROMPT = "视频中的人在跳舞"
FACE_SIZE = 512
FACE_BOX_SCALE = 1.3
# coco_25 face points: nose, eyes, ears (see TEAM conventions / ma_data.core.formats.keypoints).
FACE_JOINTS = (0, 1, 2, 3, 4)


def resample_indices(n_src: int, src_fps: float, dst_fps: float, n_dst: int | None = None) -> np.ndarray:
    """Source frame index for each output frame when playing ``n_src`` frames at ``src_fps`` as ``dst_fps``.

    Nearest-frame in time (output frame k shows time k/dst_fps); ``n_dst`` defaults to the whole duration.
    """
    if n_src <= 0:
        raise ConfigError("no source frames")
    if src_fps <= 0 or dst_fps <= 0:
        raise ConfigError("fps must be positive")
    if n_dst is None:
        n_dst = max(1, int(np.floor(n_src * dst_fps / src_fps + 1e-6)))
    t = np.arange(n_dst, dtype=np.float64) / dst_fps
    return np.clip(np.round(t * src_fps).astype(np.int64), 0, n_src - 1)


def resample_frames(
    frames: np.ndarray, src_fps: float, dst_fps: float, n_dst: int | None = None
) -> np.ndarray:
    """``frames`` (T, ...) resampled in time from ``src_fps`` to ``dst_fps`` (identity when equal)."""
    if abs(src_fps - dst_fps) < 1e-6 and (n_dst is None or n_dst == len(frames)):
        return frames
    return frames[resample_indices(len(frames), src_fps, dst_fps, n_dst)]


def null_face_video(n_frames: int, size: int = FACE_SIZE) -> np.ndarray:
    """All-black (-1 after normalisation) face frames: the "no face" input of Wan-Animate."""
    return np.zeros((n_frames, size, size, 3), dtype=np.uint8)


def face_boxes(keypoints: np.ndarray, conf_thr: float = 0.3, scale: float = FACE_BOX_SCALE) -> np.ndarray:
    """Square face boxes (T, 4) ``x0, y0, x1, y1`` from coco_25 keypoints (T, 25, 3); NaN rows when unseen.

    With only nose/eyes/ears available the box side is the ear-to-ear (or eye) span times a head factor,
    centred slightly below the eyes, then scaled by ``scale`` as Wan's preprocessing does.
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 3 or kp.shape[1] < 5 or kp.shape[2] < 3:
        raise FormatError(f"keypoints must be (T, 25, 3), got {kp.shape}")
    boxes = np.full((len(kp), 4), np.nan, dtype=np.float32)
    for t, frame in enumerate(kp):
        pts = frame[list(FACE_JOINTS)]
        ok = pts[:, 2] >= conf_thr
        if ok.sum() < 2:
            continue
        xy = pts[ok, :2]
        span = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1.0))
        # Ear-to-ear is about 0.75 of the head height; eye-to-eye alone about 0.35.
        side = span / (0.75 if ok[3] or ok[4] else 0.35) * scale
        cx, cy = float(xy[:, 0].mean()), float(xy[:, 1].mean()) + 0.1 * side
        boxes[t] = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return boxes


def face_video_from_keypoints(
    frames: np.ndarray, keypoints: np.ndarray, size: int = FACE_SIZE, conf_thr: float = 0.3
) -> np.ndarray:
    """512x512 face crops (T, size, size, 3) of ``frames`` following the keypoints.

    Frames without a visible face reuse the nearest earlier box (else the first later one); a clip with no
    face at all gives the null face.
    """
    from PIL import Image

    frames = np.asarray(frames)
    if len(frames) != len(keypoints):
        raise FormatError(f"{len(frames)} frames but {len(keypoints)} keypoint rows")
    boxes = face_boxes(keypoints, conf_thr)
    valid = ~np.isnan(boxes[:, 0])
    if not valid.any():
        return null_face_video(len(frames), size)
    # Forward-fill, then back-fill the leading gap.
    idx = np.where(valid, np.arange(len(boxes)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(valid))
    out = np.empty((len(frames), size, size, 3), dtype=np.uint8)
    for t, frame in enumerate(frames):
        x0, y0, x1, y1 = boxes[idx[t]]
        crop = Image.fromarray(frame).crop((int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))))
        out[t] = np.asarray(crop.resize((size, size), Image.BILINEAR))
    return out


def load_reference_image(path: str | os.PathLike):
    """An RGB PIL image (alpha dropped onto black); MediaError naming the file when unreadable."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: reference image not found")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError(f"{path}: cannot read image ({exc})") from exc


def to_pil_frames(frames: np.ndarray) -> list:
    from PIL import Image

    return [Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)) for f in frames]


def fit_frames(frames: np.ndarray, height: int, width: int, mode: str = "stretch") -> np.ndarray:
    """Resize (T, H, W, 3) uint8 frames to ``height`` x ``width`` (bilinear); no-op at the right size.

    ``mode="cover"`` keeps the aspect ratio: scale to cover the target, then centre-crop (used for training
    clips whose aspect differs from the training resolution; video and pose video get the same transform).
    """
    from PIL import Image

    frames = np.asarray(frames)
    if frames.shape[1:3] == (height, width):
        return frames
    if mode not in ("stretch", "cover"):
        raise ConfigError(f"mode must be stretch|cover, got {mode!r}")
    h0, w0 = frames.shape[1:3]
    box = None
    size = (width, height)
    if mode == "cover":
        s = max(height / h0, width / w0)
        size = (max(width, round(w0 * s)), max(height, round(h0 * s)))
        left, top = (size[0] - width) // 2, (size[1] - height) // 2
        box = (left, top, left + width, top + height)
    out = []
    for f in frames:
        img = Image.fromarray(f).resize(size, Image.BILINEAR)
        out.append(np.asarray(img.crop(box) if box else img))
    return np.stack(out)


class PoseVideo:
    """A pose video drawn lazily from a Z-up motion: frames exist only for the slice asked for.

    A 3-minute song is 2880 frames at 16 fps, 8 GB as 720x1280 RGB; the relay only ever needs one 77-frame
    window, so frames are drawn per slice. The joints are resampled in time to ``fps`` first (the dance keeps its
    real tempo) and projected once with the official front view and canvas fit over the whole clip, so every
    slice uses the same placement. Drawing (OpenPose-18 from SMPL joints, feet, synthetic hands) is
    ``ma_data.core.pose_video``'s.
    """

    def __init__(self, joints_zup: np.ndarray, motion_fps: float, fps: float, width: int, height: int):
        from ma_data.core.pose_video import canvas_fit

        joints = resample_frames(np.asarray(joints_zup, dtype=np.float64), motion_fps, fps)
        self.pixels = canvas_fit(joints, width, height)
        self.fps, self.width, self.height = fps, width, height

    def __len__(self) -> int:
        return len(self.pixels)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self), self.height, self.width, 3)

    def __getitem__(self, key) -> np.ndarray:
        from ma_data.core.pose_video import draw_pose_frames

        if isinstance(key, (int, np.integer)):
            return self[int(key) : int(key) + 1 or None][0]
        if not isinstance(key, slice):
            raise TypeError("PoseVideo supports integer and slice indexing")
        part = self.pixels[key]
        if len(part) == 0:
            return np.zeros((0, self.height, self.width, 3), np.uint8)
        return np.stack(list(draw_pose_frames(part, self.width, self.height)))

    def __iter__(self):
        from ma_data.core.pose_video import draw_pose_frames

        yield from draw_pose_frames(self.pixels, self.width, self.height)


def pose_video_for_motion(
    joints_zup: np.ndarray, motion_fps: float, fps: float, width: int, height: int
) -> np.ndarray:
    """All pose frames (T', H, W, 3) of a Z-up motion, resampled to ``fps`` (see :class:`PoseVideo`)."""
    return PoseVideo(joints_zup, motion_fps, fps, width, height)[:]
