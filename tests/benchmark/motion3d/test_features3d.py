import numpy as np
import pytest

from benchmark.motion.features3d import (
    HIP_WIDTH,
    HUMERUS_LENGTH,
    SHOULDER_WIDTH,
    kinetic_features_aist,
    kinetic_features_mace,
    manual_features_aist,
)
from ma_data.core.synthetic import synthetic_dance_3d as make_dance
from tests.benchmark.motion3d.motion3d_reference_loops import kinetic_loop, manual_loop


def test_template_lengths():
    assert abs(HUMERUS_LENGTH - 0.2568) < 1e-4
    assert abs(SHOULDER_WIDTH - 0.3908) < 1e-4
    assert abs(HIP_WIDTH - 0.1192) < 1e-4


@pytest.mark.parametrize("bug,dt", [(True, 1 / 60), (False, 1 / 30)])
def test_kinetic_matches_loop(bug, dt, metric_tester):
    dances = [make_dance(50, s) for s in range(3)]
    dances = [p - p[:1, :1] for p in dances]
    (got, *_) = metric_tester.sample_function(
        lambda p: kinetic_features_aist(p, frame_time=dt, acceleration_bug=bug),
        dances,
        reference=lambda p: kinetic_loop(p, dt=dt, bug=bug),
        rtol=2e-7,
    )
    assert got.shape == (72,) and got.dtype == np.float32


def test_kinetic_float32_input_close_to_float64(metric_tester):
    """The references compute in the input's dtype: float32 joints stay close to the float64 loop."""
    metric_tester.sample_function(
        lambda p: kinetic_features_aist(p.astype(np.float32)),
        [make_dance(40, 1)],
        reference=kinetic_loop,
        rtol=1e-4,
        atol=1e-3,
    )


def test_kinetic_closed_forms():
    T, dt = 30, 1 / 60
    c = np.array([0.3, -0.4, 1.2])
    static = np.broadcast_to(c, (T, 1, 3)).copy()
    f = kinetic_features_aist(static, frame_time=dt, acceleration_bug=True)
    # no velocity; the buggy "acceleration" of a still joint at c is |c| (1/dt - 1) / dt
    np.testing.assert_allclose(f[:2], 0, atol=1e-9)
    np.testing.assert_allclose(f[2], np.linalg.norm(c) * (1 / dt - 1) / dt, rtol=1e-6)
    assert kinetic_features_aist(static, acceleration_bug=False)[2] == 0
    # constant velocity v per frame: KE_h = |v_xz|^2/dt^2, KE_v = v_y^2/dt^2, true acceleration 0
    v = np.array([0.01, 0.02, -0.005])
    moving = (np.arange(T)[:, None] * v)[:, None, :]
    f = kinetic_features_aist(moving, frame_time=dt, acceleration_bug=False)
    np.testing.assert_allclose(
        f, [(v[0] ** 2 + v[2] ** 2) / dt**2, v[1] ** 2 / dt**2, 0], rtol=1e-5, atol=1e-6
    )
    fz = kinetic_features_aist(moving, frame_time=dt, acceleration_bug=False, up_axis="z")
    np.testing.assert_allclose(fz[:2], [(v[0] ** 2 + v[1] ** 2) / dt**2, v[2] ** 2 / dt**2], rtol=1e-5)


def test_mace_kinetic_closed_form():
    T, dt = 40, 1 / 30
    v = np.array([0.01, 0.02, -0.005])
    moving = (np.arange(T)[:, None] * v)[:, None, :].repeat(2, axis=1)
    f = kinetic_features_mace(moving, frame_time=dt)
    assert f.shape == (6,)
    # zero-padded 5-tap box filter: the first and last two frames keep 3/5 and 4/5 of the velocity
    w = np.ones(T)
    w[[0, -1]], w[[1, -2]] = 3 / 5, 4 / 5
    scale = np.mean(w**2) / dt**2
    np.testing.assert_allclose(f[:2], [(v[0] ** 2 + v[2] ** 2) * scale, v[1] ** 2 * scale], rtol=1e-5)


def test_manual_matches_loop_and_is_translation_invariant(metric_tester):
    p = make_dance(60, 2)
    got, _ = metric_tester.sample_function(
        manual_features_aist, [p, make_dance(45, 7)], reference=manual_loop, atol=1e-6
    )
    assert got.shape == (32,) and got.dtype == np.float32
    np.testing.assert_allclose(manual_features_aist(p + [1.0, 2.0, -3.0]), got, atol=1e-6)
    # velocity thresholds scale with the frame time: at 1/30 s the "fast" predicates fire less often
    slow = manual_features_aist(p, velocity_frame_time=1 / 30)
    assert slow[31] <= got[31] and slow[12] <= got[12]


def test_manual_static_pose_has_no_motion_predicates():
    p = np.repeat(make_dance(1, 3), 10, axis=0)
    f = manual_features_aist(p)
    for col in (0, 1, 4, 5, 9, 10, 11, 12, 13, 21, 22, 31):  # move / nmove / fast families
        assert f[col] == 0


def test_22_joint_input():
    p = make_dance(30, 4)[:, :22]
    assert kinetic_features_aist(p).shape == (66,)
    np.testing.assert_allclose(manual_features_aist(p), manual_loop(p), atol=1e-6)
