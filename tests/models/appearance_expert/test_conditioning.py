"""Conditioning inputs: fps resampling, null face, face crops from keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from ma_data.core.errors import FormatError, MediaError
from models.appearance_expert.conditioning import (
    face_boxes,
    face_video_from_keypoints,
    load_reference_image,
    null_face_video,
    resample_frames,
    resample_indices,
)


def test_resample_30_to_16_fps_keeps_duration_and_time():
    idx = resample_indices(300, 30.0, 16.0)  # 10 s of motion
    assert len(idx) == 160  # 10 s at 16 fps, not the first 160 frames played 1.9x too fast
    # Output frame k shows time k/16 s: source frame round(k * 30 / 16).
    assert idx[0] == 0 and idx[1] == 2 and idx[8] == 15 and idx[-1] == round(159 * 30 / 16)
    frames = np.arange(300)[:, None]
    assert resample_frames(frames, 30.0, 30.0) is frames


def test_null_face_is_black_512():
    face = null_face_video(3)
    assert face.shape == (3, 512, 512, 3) and face.max() == 0


def test_face_crops_follow_keypoints():
    frames = np.zeros((3, 200, 200, 3), np.uint8)
    frames[:, 40:80, 90:130] = 255  # a white "face"
    kp = np.zeros((3, 25, 3), np.float32)
    for t in (0, 2):  # frame 1 has no face detection -> reuses frame 0's box
        kp[t, 0] = (110, 60, 1)  # nose
        kp[t, 1], kp[t, 2] = (118, 55, 1), (102, 55, 1)
        kp[t, 3], kp[t, 4] = (125, 58, 1), (95, 58, 1)
    boxes = face_boxes(kp)
    assert np.isnan(boxes[1]).all() and not np.isnan(boxes[0]).any()
    x0, y0, x1, y1 = boxes[0]
    assert x1 - x0 == pytest.approx(y1 - y0) and x0 < 95 < 125 < x1
    crops = face_video_from_keypoints(frames, kp, size=64)
    assert crops.shape == (3, 64, 64, 3)
    np.testing.assert_array_equal(crops[1], crops[0])
    assert crops[0, 32, 32].min() == 255  # the face is in the middle of the crop
    none = face_video_from_keypoints(frames, np.zeros_like(kp), size=32)
    assert none.max() == 0
    with pytest.raises(FormatError):
        face_boxes(np.zeros((3, 4)))


def test_reference_image_errors_name_the_file(tmp_path):
    with pytest.raises(MediaError, match="nope.png"):
        load_reference_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(MediaError, match="bad.png"):
        load_reference_image(bad)


def test_lazy_pose_video_matches_drawing_everything():
    from ma_data.core.pose_video import motion_to_pose_frames
    from models.appearance_expert.conditioning import PoseVideo

    joints = np.random.default_rng(0).normal(size=(60, 24, 3))  # 2 s at 30 fps, Z-up
    pv = PoseVideo(joints, 30.0, 16.0, 48, 64)
    full = np.stack(list(motion_to_pose_frames(resample_frames(joints, 30.0, 16.0), 48, 64)))
    assert len(pv) == 32 and pv.shape == (32, 64, 48, 3)
    np.testing.assert_array_equal(pv[5:9], full[5:9])  # same canvas fit for every slice
    np.testing.assert_array_equal(pv[-1:], full[-1:])
    np.testing.assert_array_equal(pv[3], full[3])
    np.testing.assert_array_equal(np.stack(list(pv)), full)
