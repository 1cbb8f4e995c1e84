import pickle

import numpy as np
import pytest

from ma_data.core.body import axis_angle_to_rotation_6d, forward_kinematics
from ma_data.core.errors import FormatError
from ma_data.core.formats.motion import SMPLH_TO_SMPL24, Motion, load_motion
from tests.helpers.errors import one_line_error


@pytest.fixture
def finedance(tmp_path):
    """A synthetic FineDance (T, 315) file and the SMPL-H axis-angle it encodes."""
    rng = np.random.default_rng(0)
    T = 12
    aa52 = rng.normal(size=(T, 52, 3)) * 0.4
    trans = np.cumsum(rng.normal(size=(T, 3)) * 0.01, axis=0) + [0, 0.9, 0]
    arr = np.concatenate([trans, axis_angle_to_rotation_6d(aa52).reshape(T, -1)], axis=1)
    path = tmp_path / "001.npy"
    np.save(path, arr)
    return path, aa52, trans


def test_finedance_to_smpl24(finedance):
    path, aa52, trans = finedance
    m = load_motion(path)
    assert m.up_axis == "y" and m.fps == 30 and m.poses.shape == (12, 24, 3)
    expected = forward_kinematics(aa52[:, list(SMPLH_TO_SMPL24)], trans)
    np.testing.assert_allclose(m.joints(), expected, atol=1e-10)
    np.testing.assert_allclose(m.trans, trans)
    # hands (22, 23) are index1 of each hand: SMPL-H 22 and 37
    assert SMPLH_TO_SMPL24[22] == 22 and SMPLH_TO_SMPL24[23] == 37


def test_lodge_layouts_agree_with_finedance(finedance, tmp_path):
    path, aa52, trans = finedance
    arr = np.load(path)
    np.save(tmp_path / "a319.npy", np.concatenate([np.ones((len(arr), 4)), arr], axis=1))
    np.save(tmp_path / "b135.npy", arr[:, : 3 + 22 * 6])
    ref = load_motion(path).joints()
    np.testing.assert_allclose(load_motion(tmp_path / "a319.npy").joints(), ref, atol=1e-12)
    # body-only: the SMPL hands are leaves, so every other joint matches
    np.testing.assert_allclose(load_motion(tmp_path / "b135.npy").joints()[:, :22], ref[:, :22], atol=1e-12)


def test_motion_expert_pickle_and_other_readers_agree(finedance, tmp_path):
    path, _, _ = finedance
    m = load_motion(path)
    mz = m.to_up_axis("z")
    T = m.n_frames
    with open(tmp_path / "clip.pkl", "wb") as fh:
        pickle.dump(
            {"smpl_poses": mz.poses.reshape(T, 72), "smpl_trans": mz.trans, "full_pose": mz.joints()}, fh
        )
    with open(tmp_path / "slice.pkl", "wb") as fh:
        pickle.dump({"pos": m.trans, "q": m.poses.reshape(T, 72)}, fh)
    np.save(tmp_path / "joints.npy", m.joints().astype(np.float32))
    np.save(tmp_path / "bailando.npy", {"pred_position": m.joints().reshape(T, 72)}, allow_pickle=True)
    m.save_npz(tmp_path / "ours.npz")

    me = load_motion(tmp_path / "clip.pkl")
    assert me.up_axis == "z" and me.has_rotations
    np.testing.assert_allclose(me.to_up_axis("y").joints(recompute=True), m.joints(), atol=1e-10)
    np.testing.assert_allclose(me.to_up_axis("y").joints(), m.joints(), atol=1e-10)  # full_pose rotated back
    np.testing.assert_allclose(load_motion(tmp_path / "slice.pkl").joints(), m.joints(), atol=1e-12)
    j = load_motion(tmp_path / "joints.npy")
    assert not j.has_rotations and j.joints().dtype == np.float32
    np.testing.assert_allclose(j.joints(), m.joints(), atol=1e-6)
    b = load_motion(tmp_path / "bailando.npy")
    assert b.fps == 60 and b.joints().shape == (T, 24, 3)
    ours = load_motion(tmp_path / "ours.npz")
    assert ours.up_axis == "y" and ours.fps == 30
    np.testing.assert_allclose(ours.joints(), m.joints(), atol=1e-12)


def test_aist_pickle_scaling(tmp_path):
    rng = np.random.default_rng(1)
    poses = rng.normal(size=(5, 72)) * 0.3
    trans = rng.normal(size=(5, 3)) * 100
    with open(tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl", "wb") as fh:
        pickle.dump({"smpl_poses": poses, "smpl_trans": trans, "smpl_scaling": np.array([95.0])}, fh)
    m = load_motion(tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl")
    assert m.fps == 60 and m.up_axis == "y"
    np.testing.assert_allclose(m.trans, trans / 95.0)


def test_joint_layouts(tmp_path):
    j = np.random.default_rng(2).normal(size=(7, 22, 3))
    np.save(tmp_path / "a.npy", j)
    np.save(tmp_path / "b.npy", j.reshape(7, 66))
    np.testing.assert_array_equal(
        load_motion(tmp_path / "a.npy").joints(), load_motion(tmp_path / "b.npy").joints()
    )
    assert load_motion(tmp_path / "a.npy", fps=60).fps == 60


@pytest.mark.parametrize(
    "name,content,msg",
    [
        ("bad.npy", np.zeros((4, 5)), "expected joints"),
        ("nan.npy", np.full((4, 24, 3), np.nan), "NaN"),
        ("bad.npz", {"x": np.zeros(3)}, "needs 'poses'"),
        ("bad.pkl", {"hello": 1}, "unknown motion dict"),
        ("bad.txt", "x", "unsupported motion file type"),
    ],
)
def test_errors_name_the_file(tmp_path, name, content, msg):
    path = tmp_path / name
    if name.endswith(".npy"):
        np.save(path, content)
    elif name.endswith(".npz"):
        np.savez(path, **content)
    elif name.endswith(".pkl"):
        with open(path, "wb") as fh:
            pickle.dump(content, fh)
    else:
        path.write_text(content)
    one_line_error(lambda: load_motion(path), path, msg)


def test_missing_file_and_validation(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        load_motion(tmp_path / "missing.npy")
    with pytest.raises(FormatError, match="trans"):
        Motion(np.zeros((3, 24, 3)), np.zeros((2, 3)))
    with pytest.raises(FormatError, match="up_axis"):
        Motion(np.zeros((3, 24, 3)), np.zeros((3, 3)), up_axis="x")


def test_slice_and_up_axis_round_trip():
    rng = np.random.default_rng(3)
    m = Motion(rng.normal(size=(10, 24, 3)) * 0.3, rng.normal(size=(10, 3)), fps=30, up_axis="y")
    s = m.slice(2, 5)
    assert s.n_frames == 3
    np.testing.assert_allclose(s.joints(), m.joints()[2:5])
    back = m.to_up_axis("z").to_up_axis("y")
    np.testing.assert_allclose(back.joints(), m.joints(), atol=1e-12)
