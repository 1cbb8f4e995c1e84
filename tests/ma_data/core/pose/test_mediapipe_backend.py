"""MediaPipe backend: the landmark mapping on constructed input, and BlazePose on a real photograph."""

from __future__ import annotations

import numpy as np
import pytest

from ma_data.core.formats.keypoints import JOINT_INDEX as J

pytest.importorskip("mediapipe")

from ma_data.core.pose.mediapipe_backend import (  # noqa: E402
    DERIVED_JOINTS,
    DIRECT_MAP,
    SMALL_TOE_BACK,
    SMALL_TOE_SIDE,
    blazepose_to_coco25,
)


def _standing_landmarks() -> np.ndarray:
    """A hand-made BlazePose frame (normalised x, y, z, visibility) of a person facing the camera."""
    lm = np.zeros((33, 4))
    lm[:, 3] = 0.9
    lm[:, :2] = 0.5
    lm[11, :2], lm[12, :2] = (0.6, 0.3), (0.4, 0.3)  # left shoulder on image right (facing camera)
    lm[23, :2], lm[24, :2] = (0.56, 0.55), (0.44, 0.55)
    lm[25, :2], lm[26, :2] = (0.56, 0.7), (0.44, 0.7)
    lm[27, :2], lm[28, :2] = (0.56, 0.85), (0.44, 0.85)
    # feet pointing at the camera: heel behind the ankle (z > 0 = farther), toe in front (z < 0)
    lm[29, :3], lm[30, :3] = (0.56, 0.87, 0.05), (0.44, 0.87, 0.05)
    lm[31, :3], lm[32, :3] = (0.56, 0.88, -0.15), (0.44, 0.88, -0.15)
    lm[11, 3], lm[12, 3] = 0.8, 0.6
    return lm


def test_direct_mapping_scales_to_pixels_and_keeps_visibility():
    lm = np.random.default_rng(0).uniform(0, 1, (2, 33, 4))
    out = blazepose_to_coco25(lm, width=640, height=480)
    assert out.shape == (2, 25, 3) and out.dtype == np.float32
    for dst, src in DIRECT_MAP.items():
        np.testing.assert_allclose(out[:, dst, 0], lm[:, src, 0] * 640, rtol=1e-6)
        np.testing.assert_allclose(out[:, dst, 1], lm[:, src, 1] * 480, rtol=1e-6)
        np.testing.assert_allclose(out[:, dst, 2], lm[:, src, 3], rtol=1e-6)
    # every coco_25 joint is either mapped directly or derived
    assert set(DIRECT_MAP) | {J[n] for n in DERIVED_JOINTS} == set(range(25))


def test_derived_joints_are_midpoints_with_min_confidence():
    out = blazepose_to_coco25(_standing_landmarks()[None], width=100, height=200)[0]
    np.testing.assert_allclose(out[J["neck"]], [50.0, 60.0, 0.6], rtol=1e-6)  # min(0.8, 0.6)
    np.testing.assert_allclose(out[J["hip"]], [50.0, 110.0, 0.9], rtol=1e-6)


def test_small_toe_lies_beside_the_big_toe_away_from_the_midline():
    out = blazepose_to_coco25(_standing_landmarks()[None], width=100, height=200)[0]
    for side, sign in (("left", +1), ("right", -1)):
        big, small, heel = out[J[f"{side}_big_toe"]], out[J[f"{side}_small_toe"]], out[J[f"{side}_heel"]]
        # foot seen end-on from the front: lateral axis is image-horizontal, pointing away from the body
        assert sign * (small[0] - big[0]) > 0
        # foot length in the (x, y, z*width) space: heel-toe = (0, -1*200/100..., 0.2*100)
        foot = np.linalg.norm([0.0, (0.87 - 0.88) * 200, (0.05 + 0.15) * 100])
        assert abs(small[0] - big[0]) == pytest.approx(SMALL_TOE_SIDE * foot, rel=1e-4)
        assert small[1] == pytest.approx(big[1] + SMALL_TOE_BACK * (heel[1] - big[1]), abs=1e-4)
        assert small[2] == pytest.approx(0.9)


# Independent expectation: joint positions read by eye off messi5.jpg (548x342) with a pixel grid.
MESSI_ANNOTATION = {
    "nose": (243, 115),
    "left_shoulder": (282, 127),
    "right_shoulder": (180, 128),
    "left_wrist": (352, 165),
    "right_wrist": (98, 100),
    "left_knee": (340, 247),
    "right_knee": (230, 285),
    "left_ankle": (412, 264),
    "right_ankle": (285, 310),
}


def test_blazepose_on_a_real_photograph(messi_rgb, mediapipe_backend):
    h, w = messi_rgb.shape[:2]
    track = mediapipe_backend.estimate([messi_rgb], fps=25.0, width=w, height=h)
    assert track.mask.tolist() == [True]
    kp = track.data[0]
    assert ((kp[:, 2] >= 0) & (kp[:, 2] <= 1)).all()
    x, y = kp[:, 0], kp[:, 1]
    # plausible anatomy
    assert max(y[J["left_shoulder"]], y[J["right_shoulder"]]) < min(y[J["left_hip"]], y[J["right_hip"]])
    assert y[J["nose"]] < y[J["neck"]]
    assert y[J["left_ankle"]] > y[J["left_knee"]] and y[J["right_ankle"]] > y[J["right_knee"]]
    # he faces the camera, so his left side is on the image right
    assert x[J["left_shoulder"]] > x[J["right_shoulder"]] and x[J["left_hip"]] > x[J["right_hip"]]
    assert x[J["left_wrist"]] > x[J["neck"]] > x[J["right_wrist"]]
    for name, (ax, ay) in MESSI_ANNOTATION.items():
        err = np.hypot(x[J[name]] - ax, y[J[name]] - ay)
        assert err < 35, f"{name}: {err:.1f}px from the annotation"
    assert (
        track.extractor == "mediapipe"
        and track.weights_hash
        and "mediapipe0.10.21" in track.extractor_version
    )
    assert track.meta["derived_joints"] == list(DERIVED_JOINTS)


def test_blank_frames_are_missed_detections(mediapipe_backend):
    frames = [np.full((120, 160, 3), 127, np.uint8)] * 3
    track = mediapipe_backend.estimate(frames, fps=16.0, width=160, height=120)
    assert track.mask.tolist() == [False] * 3 and (track.data == 0).all()


def test_frame_size_mismatch_is_an_error(mediapipe_backend):
    with pytest.raises(ValueError, match="declared"):
        mediapipe_backend.estimate([np.zeros((10, 12, 3), np.uint8)], fps=16.0, width=20, height=10)
