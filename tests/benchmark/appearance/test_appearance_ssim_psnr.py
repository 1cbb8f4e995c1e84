"""SSIM/PSNR against independent computations on frames with known noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from benchmark.appearance.full_reference import PSNR_MAX_DB, psnr_frames, ssim_frames
from tests.benchmark.appearance.appearance_media import write_frames


def _reference_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Textbook SSIM by explicit 11x11 windows (no convolution), averaged over channels."""
    r = np.arange(11) - 5
    g = np.exp(-(r**2) / (2 * 1.5**2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for ch in range(a.shape[-1]):
        x = sliding_window_view(a[..., ch].astype(np.float64), (11, 11))
        y = sliding_window_view(b[..., ch].astype(np.float64), (11, 11))
        mx, my = (x * w).sum((-1, -2)), (y * w).sum((-1, -2))
        vx = (((x - mx[..., None, None]) ** 2) * w).sum((-1, -2))
        vy = (((y - my[..., None, None]) ** 2) * w).sum((-1, -2))
        cxy = ((x - mx[..., None, None]) * (y - my[..., None, None]) * w).sum((-1, -2))
        m = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        vals.append(m.mean())
    return float(np.mean(vals))


@pytest.fixture
def noisy_pair():
    rng = np.random.default_rng(0)
    gt = rng.integers(30, 220, (3, 24, 32, 3)).astype(np.uint8)
    noise = rng.normal(0, 8, gt.shape)
    pred = np.clip(np.rint(gt + noise), 0, 255).astype(np.uint8)
    return pred, gt


def test_ssim_matches_explicit_window_reference(noisy_pair):
    pred, gt = noisy_pair
    ours = ssim_frames(pred, gt)
    ref = [_reference_ssim(p, g) for p, g in zip(pred, gt, strict=True)]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    assert np.all(ours < 1.0)


def test_ssim_identity_and_symmetry(noisy_pair):
    pred, gt = noisy_pair
    np.testing.assert_allclose(ssim_frames(gt, gt), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ssim_frames(pred, gt), ssim_frames(gt, pred), rtol=1e-12)


def test_ssim_constant_offset_is_luminance_term_only():
    # For y = x + d (no clipping) the variance/covariance terms cancel exactly, leaving the luminance term.
    x = np.full((1, 16, 16, 3), 100, np.uint8)
    y = x + np.uint8(20)
    c1 = (0.01 * 255) ** 2
    expected = (2 * 100 * 120 + c1) / (100**2 + 120**2 + c1)
    np.testing.assert_allclose(ssim_frames(y, x), expected, rtol=1e-12)


def test_psnr_known_noise():
    gt = np.full((2, 10, 10, 3), 100, np.uint8)
    pred = gt.copy()
    pred[0, ::2] += 4  # half of frame 0 off by 4 -> MSE 8
    expected0 = 10 * math.log10(255**2 / 8.0)
    out = psnr_frames(pred, gt)
    assert out[0] == pytest.approx(expected0, rel=1e-12)
    assert out[1] == PSNR_MAX_DB  # identical frame: capped


def test_psnr_gaussian_noise_near_theory(noisy_pair):
    pred, gt = noisy_pair
    mse = ((pred.astype(float) - gt) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(psnr_frames(pred, gt), 10 * np.log10(255**2 / mse), rtol=1e-12)
    # sigma 8 noise (after rounding) is about 30 dB
    assert 29 < psnr_frames(pred, gt).mean() < 31.5


def test_ssim_psnr_dimension_through_the_metric_tester(metric_tester, tmp_path):
    """Per-video SSIM and PSNR of lossless videos equal the explicit-window SSIM and the PSNR formula on the
    written frames, whatever the decoder's chunk size (SSIM and PSNR share one dimension)."""
    from benchmark.appearance.simple_dims import SsimPsnr

    rng = np.random.default_rng(5)
    pred, gt, reference = {}, {}, {}
    for i in range(2):
        g = rng.integers(30, 220, (5, 24, 32, 3)).astype(np.uint8)
        p = np.clip(np.rint(g + rng.normal(0, 6 + 4 * i, g.shape)), 0, 255).astype(np.uint8)
        pred[f"v{i}"] = write_frames(tmp_path / f"p{i}.mkv", p, codec="ffv1")
        gt[f"v{i}"] = write_frames(tmp_path / f"g{i}.mkv", g, codec="ffv1")
        mse = ((p.astype(float) - g) ** 2).mean(axis=(1, 2, 3))
        reference[f"v{i}"] = {
            "ssim": float(np.mean([_reference_ssim(a, b) for a, b in zip(p, g, strict=True)])),
            "psnr": float(np.mean(10 * np.log10(255**2 / mse))),
        }
    metric_tester.dimension(
        SsimPsnr, pred, gt, reference=reference, rtol=1e-10, chunks=(1, 2, 16), invariance_rtol=1e-12
    )


def test_shape_mismatch_raises(noisy_pair):
    pred, gt = noisy_pair
    with pytest.raises(ValueError):
        psnr_frames(pred[:, :-1], gt)
    with pytest.raises(ValueError):
        ssim_frames(pred[:, :-1], gt)


def _skimage_pair():
    rng = np.random.default_rng(2024)
    gt = rng.integers(20, 236, (4, 29, 41, 3)).astype(np.uint8)
    pred = np.clip(gt.astype(np.int64) + rng.integers(-25, 26, gt.shape), 0, 255).astype(np.uint8)
    pred[3] = gt[3] // 2 + 60
    return pred, gt


# scikit-image 0.26.0: structural_similarity(p, g, channel_axis=-1, gaussian_weights=True, sigma=1.5,
# use_sample_covariance=False, data_range=255) per frame of _skimage_pair().
SKIMAGE_SSIM = [0.971063885025849, 0.9721876164168787, 0.9713456743850584, 0.8015430365402247]


def test_ssim_equals_recorded_scikit_image_values():
    pred, gt = _skimage_pair()
    np.testing.assert_allclose(ssim_frames(pred, gt), SKIMAGE_SSIM, rtol=0, atol=5e-15)


def test_ssim_equals_scikit_image_live():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(7)
    gt = rng.integers(0, 256, (3, 37, 52, 3)).astype(np.uint8)
    pred = np.clip(gt.astype(np.int64) + rng.integers(-40, 41, gt.shape), 0, 255).astype(np.uint8)
    want = [
        metrics.structural_similarity(
            a,
            b,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
        )
        for a, b in zip(pred, gt, strict=True)
    ]
    np.testing.assert_allclose(ssim_frames(pred, gt), want, rtol=0, atol=5e-15)


def test_ssim_memory_groups_do_not_change_values(noisy_pair, monkeypatch):
    from benchmark.appearance import full_reference

    pred, gt = noisy_pair
    whole = ssim_frames(pred, gt)
    monkeypatch.setattr(full_reference, "SSIM_BLOCK_VALUES", 1)  # one frame per group
    assert np.array_equal(ssim_frames(pred, gt), whole)


def test_psnr_integer_path_equals_float64_mse():
    rng = np.random.default_rng(3)
    gt = rng.integers(0, 256, (5, 33, 47, 3)).astype(np.uint8)
    pred = rng.integers(0, 256, gt.shape).astype(np.uint8)
    pred[2] = gt[2]
    diff = pred.astype(np.float64) - gt.astype(np.float64)
    mse = (diff**2).reshape(5, -1).mean(axis=1)
    want = np.where(
        mse > 0, np.minimum(10 * np.log10(255.0**2 / np.maximum(mse, 1e-300)), PSNR_MAX_DB), PSNR_MAX_DB
    )
    got = psnr_frames(pred, gt)
    assert np.array_equal(got, want)  # bit for bit: the integer sum is the float64 sum
    assert got[2] == PSNR_MAX_DB
    # Views (the channel-reversed RGB of a BGR stack) give the same numbers.
    assert np.array_equal(psnr_frames(pred[..., ::-1], gt[..., ::-1]), got)
