import numpy as np
import torch

from ma_data.core.body import (
    PARENTS,
    axis_angle_to_matrix,
    convert_motion,
    forward_kinematics,
    rest_joints,
    rest_offsets,
    y_up_to_z_up,
    z_up_to_y_up,
)
from ma_data.core.body.skeleton import JOINT_NAMES, NUM_JOINTS, joint_index


def test_skeleton_constants():
    assert len(PARENTS) == len(JOINT_NAMES) == NUM_JOINTS == 24
    assert all(p < j for j, p in enumerate(PARENTS))
    assert joint_index("lwrist") == 20 and joint_index("right_elbow") == 19
    off = rest_offsets()
    assert off.shape == (24, 3)
    # public SMPL template: lhip offset about (0.0586, -0.0823, -0.0177), knee->ankle about 0.43 m
    np.testing.assert_allclose(off[1], [0.0586, -0.0823, -0.0177], atol=1e-4)
    assert 0.42 < np.linalg.norm(off[7]) < 0.44


def test_rest_pose_is_summed_offsets():
    trans = np.array([0.3, 0.9, -0.2])
    j = forward_kinematics(np.zeros((24, 3)), trans)
    off = rest_offsets()
    # left wrist = root + lhip? no: root -> belly -> spine -> chest -> linshoulder -> lshoulder -> lelbow -> lwrist
    chain = [0, 3, 6, 9, 13, 16, 18, 20]
    np.testing.assert_allclose(j[20], trans + off[chain].sum(0), atol=1e-12)
    np.testing.assert_allclose(j, rest_joints() + trans, atol=1e-12)


def test_elbow_rotation_moves_wrist_as_expected():
    poses = np.zeros((24, 3))
    poses[18] = [0.0, 0.0, np.pi / 2]  # left elbow: +90 degrees about z
    j = forward_kinematics(poses, np.zeros(3))
    off = rest_offsets()
    rest = rest_joints()
    np.testing.assert_allclose(j[18], rest[18], atol=1e-12)  # the elbow itself does not move
    ox, oy, oz = off[20]
    np.testing.assert_allclose(j[20], rest[18] + np.array([-oy, ox, oz]), atol=1e-12)
    # distance elbow -> wrist is preserved
    assert abs(np.linalg.norm(j[20] - j[18]) - np.linalg.norm(off[20])) < 1e-12


def test_root_rotation_rotates_everything():
    aa = np.array([0.2, -0.7, 0.4])
    poses = np.zeros((24, 3))
    poses[0] = aa
    j = forward_kinematics(poses, np.zeros(3))
    np.testing.assert_allclose(j, rest_joints() @ axis_angle_to_matrix(aa).T, atol=1e-12)


def _loop_fk(poses, trans):
    """Per-joint recursion with explicit matrices, frame by frame."""
    out = np.zeros(poses.shape)
    off = rest_offsets()
    for t in range(len(poses)):
        rots = [None] * 24
        for i, p in enumerate(PARENTS):
            local = axis_angle_to_matrix(poses[t, i])
            if p < 0:
                rots[i], out[t, i] = local, trans[t]
            else:
                out[t, i] = rots[p] @ off[i] + out[t, p]
                rots[i] = rots[p] @ local
    return out


def test_batched_numpy_and_torch_agree_with_loop():
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(6, 24, 3)) * 0.6
    trans = rng.normal(size=(6, 3))
    ref = _loop_fk(poses, trans)
    np.testing.assert_allclose(forward_kinematics(poses, trans), ref, atol=1e-12)
    jt = forward_kinematics(torch.tensor(poses), torch.tensor(trans))
    np.testing.assert_allclose(jt.numpy(), ref, atol=1e-12)
    # matrices in, batched over two leading dims
    m = axis_angle_to_matrix(poses).reshape(2, 3, 24, 3, 3)
    np.testing.assert_allclose(
        forward_kinematics(m, trans.reshape(2, 3, 3)).reshape(6, 24, 3), ref, atol=1e-12
    )
    j, rots = forward_kinematics(poses, trans, return_rotations=True)
    assert rots.shape == (6, 24, 3, 3)


def test_up_axis_conversion():
    np.testing.assert_allclose(y_up_to_z_up(np.array([1.0, 2.0, 3.0])), [1.0, -3.0, 2.0])
    np.testing.assert_allclose(z_up_to_y_up(np.array([1.0, -3.0, 2.0])), [1.0, 2.0, 3.0])
    rng = np.random.default_rng(1)
    poses, trans = rng.normal(size=(4, 24, 3)) * 0.5, rng.normal(size=(4, 3))
    pz, tz = convert_motion(poses, trans, "y", "z")
    np.testing.assert_array_equal(pz[:, 1:], poses[:, 1:])  # only the root changes
    np.testing.assert_allclose(
        forward_kinematics(pz, tz), y_up_to_z_up(forward_kinematics(poses, trans)), atol=1e-12
    )
    py, ty = convert_motion(pz, tz, "z", "y")
    np.testing.assert_allclose(forward_kinematics(py, ty), forward_kinematics(poses, trans), atol=1e-12)
    # standing upright in y-up means the head is above the pelvis along +z after conversion
    jz = forward_kinematics(*convert_motion(np.zeros((1, 24, 3)), np.zeros((1, 3)), "y", "z"))
    assert jz[0, 15, 2] > 0.4 and abs(jz[0, 15, 1]) < 0.1
