import numpy as np

from benchmark.motion.physical import (
    foot_skating_ratio,
    foot_skating_sequence,
    ground_height,
    pfc_score,
    pfc_sequence,
)
from ma_data.core.body import rest_joints, y_up_to_z_up
from ma_data.core.synthetic import synthetic_dance_3d as make_dance
from tests.benchmark.motion3d.motion3d_reference_loops import pfc_loop


def test_pfc_matches_loop(metric_tester):
    seqs = [y_up_to_z_up(make_dance(40, s)) for s in range(3)]
    metric_tester.sample_function(pfc_sequence, seqs, reference=pfc_loop, rtol=1e-12)
    np.testing.assert_allclose(pfc_score(seqs), np.mean([pfc_loop(s) for s in seqs]) * 1e4, rtol=1e-12)


def test_pfc_planted_foot_scores_zero_and_static_root_is_nan():
    j = y_up_to_z_up(make_dance(30, 5))
    j[:, [7, 10]] = j[:1, [7, 10]]  # left foot planted: its min speed is 0 every frame
    assert pfc_sequence(j) == 0
    still = np.repeat(j[:1], 10, axis=0)
    assert np.isnan(pfc_sequence(still))
    assert np.isnan(pfc_score([still]))


def _standing(T):
    """Rest pose with the toes on the floor (y = 0), repeated T frames."""
    j = rest_joints()
    j = j - [0, j[[10, 11], 1].mean(), 0]
    return np.repeat(j[None], T, axis=0)


def test_fsr_closed_forms():
    T = 11
    j = _standing(T)
    assert abs(ground_height(j)) < 1e-12
    assert j[0, 7, 1] <= 0.08 and j[0, 10, 1] <= 0.05  # both feet in contact
    left = j.copy()
    left[:6, [7, 10], 0] += 0.03 * np.arange(6)[:, None]  # slides 3 cm/frame over 5 frame steps, then stops
    left[6:, [7, 10], 0] += 0.15
    assert foot_skating_sequence(left) == (5 / 11, 0.0)
    # 1.5 cm/frame along x only: |mean(vx, vz)| = 0.75 cm stays under the 1 cm threshold (reference quirk),
    # while the horizontal speed norm does not
    slow = j.copy()
    slow[:, [7, 10], 0] += 0.015 * np.arange(T)[:, None]
    assert foot_skating_sequence(slow) == (0.0, 0.0)
    assert foot_skating_sequence(slow, tangent="norm") == (10 / 11, 0.0)
    assert foot_skating_ratio([left, j]) == ((5 / 11 + 0) / 2 + 0) / 2


def test_fsr_grounding_and_feet_in_the_air():
    j = _standing(5) + [0, 0.5, 0]  # floating: grounding from frame-0 toes brings it down
    assert foot_skating_sequence(j) == (0.0, 0.0)
    lifted = _standing(5)
    lifted[:, [7, 10], 1] += 0.3  # left foot up from frame 0: the floor is the lower (right) toe
    assert abs(ground_height(lifted) - lifted[0, 11, 1]) < 1e-12
    left, right = foot_skating_sequence(lifted)
    assert np.isnan(left) and right == 0.0
    assert np.isnan(foot_skating_ratio([lifted]))  # a side that never touches the ground has no ratio
    assert foot_skating_ratio([lifted, _standing(5)]) == 0.0  # NaN sides are left out of their mean
