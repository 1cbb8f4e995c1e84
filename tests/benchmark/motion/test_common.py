"""Protocol-agnostic numerics: Frechet distance, diversity, normalisation, beats."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg

from benchmark.motion.common import (
    beat_align_score,
    diversity,
    feature_stats,
    frechet_distance,
    kinetic_velocity,
    motion_beats,
    normalize_by_gt,
    normalize_own_stats,
    sqrtm_legacy,
    torch_sum_dim0,
)


def test_frechet_identical_sets_is_zero():
    x = np.random.default_rng(0).standard_normal((50, 8))
    mu, sigma = feature_stats(x)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-9


def test_frechet_closed_form_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_sqrtm_legacy_matches_scipy_on_psd_products():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((40, 12)), rng.standard_normal((30, 12))
    m = np.cov(a, rowvar=False) @ np.cov(b, rowvar=False)
    ours = sqrtm_legacy(m)
    np.testing.assert_allclose(ours @ ours, m, atol=1e-10)
    np.testing.assert_allclose(ours.real, np.real(scipy.linalg.sqrtm(m)), atol=1e-9)


def test_no_square_root_gives_nan_and_frechet_retries_with_eps():
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])  # has no square root
    assert np.isnan(sqrtm_legacy(nilpotent)).all()
    info: dict = {}
    value = frechet_distance(np.zeros(2), nilpotent, np.zeros(2), np.eye(2), info=info)
    assert info["offset_applied"] is True and math.isfinite(value)


def test_complex_modes():
    # A covariance product with a negative eigenvalue forces a complex square root.
    s1 = np.diag([1.0, -1e-2])
    s2 = np.eye(2)
    real = frechet_distance(np.zeros(2), s1, np.zeros(2), s2, complex_mode="real")
    assert isinstance(real, float)
    bailando = frechet_distance(np.zeros(2), s1, np.zeros(2), s2, complex_mode="bailando")
    assert isinstance(bailando, float)  # diag imaginary part 0.1 > 1e-3: the real part is used
    tiny = frechet_distance(np.zeros(2), np.diag([1.0, -1e-10]), np.zeros(2), s2, complex_mode="bailando")
    assert isinstance(tiny, complex) and abs(tiny.imag) < 1e-3


def float32_pair_loop(x: np.ndarray) -> float:
    x = x.astype(np.float32)
    total = np.float32(0)
    pairs = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        total = np.float32(total + np.float32(np.sqrt(np.sum((x[i] - x[j]) ** 2))))
        pairs += 1
    return float(total) / pairs


def test_diversity_hand_computed_points():
    pts = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])  # distances 5, 10, 5
    assert diversity(pts) == pytest.approx(20 / 3, rel=1e-7)
    assert diversity(pts, mode="full") == pytest.approx(20 / 3, rel=1e-7)
    assert math.isnan(diversity(pts[:1]))


def test_diversity_equals_float32_pair_loop():
    x = np.random.default_rng(2).standard_normal((40, 75)).astype(np.float32) * 3
    assert diversity(x) == pytest.approx(float32_pair_loop(x), rel=1e-6)


def test_diversity_blocking_does_not_change_bits():
    from benchmark.motion.common import _pairwise_distances

    x = np.random.default_rng(3).standard_normal((37, 11)).astype(np.float32)
    dense = np.sqrt(np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=2))
    assert np.array_equal(_pairwise_distances(x, block_bytes=1), dense)


def test_normalize_own_stats_constant_columns_and_scale():
    x = np.column_stack([np.full(10, 3.5), np.arange(10.0)]).astype(np.float32)
    z = normalize_own_stats(x)
    assert z.dtype == np.float32 and np.all(z[:, 0] == 0)
    np.testing.assert_allclose(np.std(z[:, 1].astype(np.float64), ddof=1), 1.0, atol=1e-4)


def test_normalize_by_gt_defaults_are_population_std():
    gt = np.array([[0.0], [2.0]])
    g, p = normalize_by_gt(gt, np.array([[4.0]]))
    np.testing.assert_allclose(g[:, 0], [-1.0, 1.0])
    np.testing.assert_allclose(p[:, 0], [3.0])


@pytest.mark.slow  # imports torch
def test_torch_emulation_is_bit_exact():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    width = 16 if torch.backends.cpu.get_cpu_capability() == "AVX512" else 8
    for n, d in [(5, 75), (20, 32), (64, 75), (200, 32), (3, 5), (300, 17)]:
        x = (rng.standard_normal((n, d)) * rng.uniform(0.1, 50, d)).astype(np.float32)
        t = torch.from_numpy(x)
        assert np.array_equal(torch_sum_dim0(x, width), t.sum(0).numpy())
        ref = ((t - t.mean(0)) / (t.std(0) + 1e-4)).numpy()
        assert np.array_equal(normalize_own_stats(x, width=width), ref)


def test_motion_beats_are_strict_interior_minima():
    t = np.arange(64)
    speed = 1.0 - np.cos(2 * np.pi * t / 16)  # minima at 0, 16, 32, 48 (0 is an end point)
    np.testing.assert_array_equal(motion_beats(speed, 1.0), [16, 32, 48])
    assert motion_beats(np.ones(10), 3.5).size == 0  # a plateau has no strict minimum


def test_kinetic_velocity_mean_displacement():
    p = np.zeros((3, 2, 2))
    p[1, 0] = (3.0, 4.0)  # joint 0 jumps 5 px and back; joint 1 still
    np.testing.assert_allclose(kinetic_velocity(p), [2.5, 2.5])


def test_beat_align_score():
    assert beat_align_score([10, 20], [10, 23]) == pytest.approx((1 + math.exp(-9 / 18)) / 2)
    assert beat_align_score([], [1, 2]) == 0.0
    assert beat_align_score([5], []) == 0.0
    # motion beats off the music beats are not penalised
    assert beat_align_score([10], [10, 40, 50]) == 1.0
