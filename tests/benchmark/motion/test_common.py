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
    diversity_fast,
    feature_stats,
    frechet_distance,
    frechet_distance_fast,
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


@pytest.mark.parametrize("mode", ["triu", "full", "loop"])
def test_diversity_equals_float32_pair_loop(mode, metric_tester):
    x = np.random.default_rng(2).standard_normal((40, 75)).astype(np.float32) * 3
    metric_tester.set_function(
        lambda f: diversity(f, mode=mode), x, reference=float32_pair_loop, rtol=1e-6, order_rtol=1e-6
    )


def test_bootstrap_diversity_is_the_same_quantity(metric_tester):
    """The bootstrap's float64 Gram-form diversity measures what the reference's float32 loop measures."""
    x = np.random.default_rng(6).standard_normal((30, 32)) * 2
    metric_tester.set_function(diversity_fast, x, reference=float32_pair_loop, rtol=1e-5, order_rtol=1e-12)


def _fid_scipy(a: np.ndarray, b: np.ndarray) -> float:
    """Textbook Frechet distance with SciPy's own sqrtm (float64 statistics)."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    d = a.mean(0) - b.mean(0)
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(np.real(scipy.linalg.sqrtm(s1 @ s2))))


def test_frechet_distance_matches_scipy_and_ignores_sample_order(metric_tester):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((60, 10)), rng.standard_normal((50, 10)) * 1.5 + 0.3

    def fid(x, y):
        return frechet_distance(*feature_stats(x), *feature_stats(y))

    metric_tester.set_function(fid, a, b, reference=_fid_scipy, rtol=1e-9, order_rtol=1e-9)
    # the bootstrap's eigenvalue form is the same distance
    metric_tester.set_function(frechet_distance_fast, a, b, reference=_fid_scipy, rtol=1e-9, order_rtol=1e-9)


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


# sha256 (first 16 hex digits) of torch 2.13's float32 ``x.sum(0)`` and ``(x - x.mean(0)) / (x.std(0) + 1e-4)``
# on these inputs, recorded with the DEFAULT, AVX2 and AVX-512 kernels (ATEN_CPU_CAPABILITY), 1 and 2 threads:
# all six runs gave the same bits. Asserting recorded values keeps the test independent of the local CPU.
TORCH_RECORDED = [
    ((5, 75), "0805cd34f1d78dbd", "ffcf68c87e43e223"),
    ((20, 32), "60eeaa251cc85d24", "046447ff3bd87ab5"),
    ((64, 75), "a979dd2b8442ec0f", "b4fb146e5f9a9af5"),
    ((200, 32), "b61604c36334e2a1", "aaff1eebe50f04e3"),
    ((3, 5), "ecd2dd5e1bae6a9a", "4124882e1084cc82"),
    ((300, 17), "1853117be151c217", "4463ee5beba0ac55"),
    ((1000, 64), "258d252d3f9da432", "eebfd90f6bc28a1a"),
    ((37, 128), "0c7c6100e47776d1", "bc977c261c40c947"),
]


def _digest(a: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def test_torch_emulation_matches_recorded_torch_bits():
    rng = np.random.default_rng(4)
    sixteen_lane_differs = 0
    for (n, d), sum_digest, norm_digest in TORCH_RECORDED:
        x = (rng.standard_normal((n, d)) * rng.uniform(0.1, 50, d)).astype(np.float32)
        assert _digest(torch_sum_dim0(x)) == sum_digest, (n, d)
        assert _digest(normalize_own_stats(x)) == norm_digest, (n, d)
        # A 16-lane (AVX-512 style) order is a different summation: it misses the 32-column cases. torch never
        # runs it, which is why the lane count is a constant and not detected from the CPU.
        sixteen_lane_differs += _digest(torch_sum_dim0(x, width=16)) != sum_digest
    assert sixteen_lane_differs == 2


def test_reduction_order_does_not_read_the_cpu(monkeypatch):
    """The official protocol's arithmetic is the same whatever the machine or environment says."""
    import builtins

    from benchmark.motion import common

    x = (np.random.default_rng(5).standard_normal((40, 32)) * 7).astype(np.float32)
    expected = common.normalize_own_stats(x)
    real_open = builtins.open

    def no_cpuinfo(path, *a, **k):
        assert "cpuinfo" not in str(path), "the reduction order must not depend on /proc/cpuinfo"
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", no_cpuinfo)
    for width in ("8", "16"):
        monkeypatch.setenv("MACE_DANCE_TORCH_VEC_WIDTH", width)  # the old override no longer exists
        assert np.array_equal(common.normalize_own_stats(x), expected)


def test_motion_beats_are_strict_interior_minima():
    t = np.arange(64)
    speed = 1.0 - np.cos(2 * np.pi * t / 16)  # minima at 0, 16, 32, 48 (0 is an end point)
    np.testing.assert_array_equal(motion_beats(speed, 1.0), [16, 32, 48])
    assert motion_beats(np.ones(10), 3.5).size == 0  # a plateau has no strict minimum


def test_kinetic_velocity_mean_displacement():
    p = np.zeros((3, 2, 2))
    p[1, 0] = (3.0, 4.0)  # joint 0 jumps 5 px and back; joint 1 still
    np.testing.assert_allclose(kinetic_velocity(p), [2.5, 2.5])


def _bas_loop(music: list[int], motion: list[int], sigma: float = 3.0) -> float:
    """Beat Align Score as the references' Python loop computes it."""
    if not music or not motion:
        return 0.0
    total = 0.0
    for b in music:
        d = min(abs(b - m) for m in motion)
        total += math.exp(-(d**2) / 2 / sigma**2)
    return total / len(music)


def test_beat_align_score_matches_the_loop(metric_tester):
    rng = np.random.default_rng(8)
    pairs = [
        (np.sort(rng.choice(64, 8, replace=False)), np.sort(rng.choice(64, 12, replace=False)))
        for _ in range(5)
    ]
    metric_tester.sample_function(
        lambda p: beat_align_score(p[0], p[1]),
        pairs,
        reference=lambda p: _bas_loop(list(p[0]), list(p[1])),
        rtol=1e-15,
    )


def test_beat_align_score():
    assert beat_align_score([10, 20], [10, 23]) == pytest.approx((1 + math.exp(-9 / 18)) / 2)
    assert beat_align_score([], [1, 2]) == 0.0
    assert beat_align_score([5], []) == 0.0
    # motion beats off the music beats are not penalised
    assert beat_align_score([10], [10, 40, 50]) == 1.0
