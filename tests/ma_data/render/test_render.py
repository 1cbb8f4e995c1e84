"""Render: projected keypoints land on the body, frames are deterministic, camera and pose-video geometry."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyrender")

from ma_data.core.errors import MissingWeightError  # noqa: E402
from ma_data.core.pose_video import canvas_fit, draw_pose_frames, smpl_to_openpose18  # noqa: E402
from ma_data.render import PRESETS, RenderConfig, front_camera  # noqa: E402
from ma_data.render.renderer import ClipRenderer  # noqa: E402
from ma_data.sample import DEMO_SEQUENCES, dance_motion  # noqa: E402


@pytest.fixture(scope="module")
def clip():
    poses, trans, _ = dance_motion(DEMO_SEQUENCES[0])
    return poses[:240:12], trans[:240:12]  # 20 frames spread over 8 s of dance


@pytest.fixture(scope="module")
def rendered(clip):
    r = ClipRenderer(PRESETS["demo"])
    prep = r.prepare(*clip)
    return prep, list(r.frames(prep, with_depth=True))


def test_keypoints_land_on_body_pixels(rendered):
    prep, frames = rendered
    assert prep.keypoints2d.shape == (20, 25, 3)
    hits = []
    for t, (_, depth) in enumerate(frames):
        xy = np.floor(prep.keypoints2d[t, :, :2]).astype(int)
        assert (prep.keypoints2d[t, :, 2] == 1).all()  # all inside the frame
        _, kp_depth = prep.camera.project(prep.keypoints3d[t])
        d = depth[xy[:, 1], xy[:, 0]]
        # The rendered surface at a keypoint's pixel is the body (at most ~0.3 m in front of/behind the
        # keypoint, which lies inside the body), never the floor or the background behind it.
        hits.append(np.abs(d - kp_depth) < 0.3)
    hits = np.array(hits)
    assert hits.mean() > 0.97, np.argwhere(~hits)


def test_render_is_deterministic(clip):
    r = ClipRenderer(PRESETS["demo"])
    prep = r.prepare(clip[0][:4], clip[1][:4])
    a = np.stack(list(r.frames(prep)))
    b = np.stack(list(r.frames(prep)))
    assert a.shape == (4, 320, 180, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert a.std() > 5  # not a blank frame


def test_camera_frames_all_points():
    rng = np.random.default_rng(0)
    pts = rng.uniform([-1.5, 0, -1], [1.5, 1.8, 1], size=(500, 3))
    cam = front_camera(pts, 720, 1280, yfov_deg=40, margin=0.1)
    xy, depth = cam.project(pts)
    assert (depth > 0).all()
    assert (
        (xy[:, 0] >= 0).all() and (xy[:, 0] < 720).all() and (xy[:, 1] >= 0).all() and (xy[:, 1] < 1280).all()
    )
    # the dancer's left (+X) is on the image's right; up (+Y) is up in the image
    (l, r), _ = cam.project(np.array([[0.5, 1, 0], [-0.5, 1, 0]]))
    assert l[0] > r[0]
    (hi, lo), _ = cam.project(np.array([[0, 1.5, 0], [0, 0.2, 0]]))
    assert hi[1] < lo[1]


def test_openpose18_conventions():
    j = np.zeros((1, 24, 2))
    j[0, 16] = [110, 100]  # left shoulder on the image right (front view)
    j[0, 17] = [90, 100]
    j[0, 15] = [100, 80]  # head above the neck
    op = smpl_to_openpose18(j)[0]
    assert np.allclose(op[1], [100, 100])  # neck = mid-shoulders
    assert op[0][1] < 80  # nose above the head joint (d_h points up)
    assert np.isclose(op[0][1], 80 - 0.10 * 20 * 1.8 * 1.15)
    assert op[15][0] > op[14][0] and op[17][0] > op[16][0]  # left eye / ear towards the left shoulder


def test_canvas_fit_official_numbers():
    j = np.zeros((2, 24, 3))
    j[:, :, 0] = np.linspace(-0.5, 0.5, 24)
    j[:, :, 2] = np.linspace(0.0, 1.8, 24)
    uv = canvas_fit(j, 720, 1280)
    s = min(0.72 * 720 / 1.0, 0.86 * 1280 / 1.8)
    assert np.isclose(uv[..., 0].max() - uv[..., 0].min(), s * 1.0)
    assert np.allclose((uv.reshape(-1, 2).max(0) + uv.reshape(-1, 2).min(0)) / 2, [360, 0.56 * 1280])
    assert uv[0, -1, 1] < uv[0, 0, 1]  # higher z is higher on screen


def test_pose_frames_drawn(rendered):
    prep, _ = rendered
    frames = list(draw_pose_frames(prep.joints2d[:2], 180, 320))
    assert frames[0].shape == (320, 180, 3)
    lit = frames[0].max(-1) > 0
    xy = np.round(prep.joints2d[0, [16, 17, 4, 5]]).astype(int)
    assert lit[xy[:, 1], xy[:, 0]].all()  # joints are drawn where the body is


def test_smpl_mode_needs_model_files(tmp_path):
    with pytest.raises(ValueError):
        RenderConfig(body="smpl")
    with pytest.raises(MissingWeightError, match="SMPL"):
        ClipRenderer(RenderConfig(body="smpl", smpl_model_dir=str(tmp_path / "nope")))
