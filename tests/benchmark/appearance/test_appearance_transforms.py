"""Re-derived torchvision preprocessing against an independent numpy implementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.appearance.transforms import (
    CLIP_MEAN,
    CLIP_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    center_crop,
    clip_transform,
    dino_transform,
    frames_to_tensor,
    musiq_transform,
    shorter_side_size,
)


def _weights_1d(n_in: int, n_out: int, mode: str) -> np.ndarray:
    """Interpolation matrix (n_out, n_in), half-pixel centres, no antialias, edge-clamped taps."""
    w = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for o in range(n_out):
        src = (o + 0.5) * scale - 0.5
        if mode == "bilinear":
            src = max(src, 0.0)
            i0 = int(np.floor(src))
            lam = src - i0
            w[o, min(i0, n_in - 1)] += 1 - lam
            w[o, min(i0 + 1, n_in - 1)] += lam
        else:  # bicubic, Keys kernel with a = -0.75
            a = -0.75
            i0 = int(np.floor(src))
            t = src - i0
            for k in range(-1, 3):
                d = abs(k - t)
                if d <= 1:
                    c = (a + 2) * d**3 - (a + 3) * d**2 + 1
                elif d < 2:
                    c = a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
                else:
                    c = 0.0
                w[o, min(max(i0 + k, 0), n_in - 1)] += c
    return w


def _np_resize(img: np.ndarray, out_hw: tuple[int, int], mode: str) -> np.ndarray:
    """img (C, H, W) float64."""
    wh = _weights_1d(img.shape[1], out_hw[0], mode)
    ww = _weights_1d(img.shape[2], out_hw[1], mode)
    return wh[None] @ img @ ww.T[None]


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (2, 120, 170, 3), dtype=np.uint8)


def test_frames_to_tensor_is_rgb_float_0_255(frames):
    t = frames_to_tensor(frames)
    assert t.dtype == torch.float32 and t.shape == (2, 3, 120, 170)
    np.testing.assert_array_equal(t[0, 0].numpy(), frames[0, :, :, 2])  # R came from BGR channel 2


def test_shorter_side_size_matches_torchvision_rule():
    assert shorter_side_size(480, 854, 224) == (224, int(224 * 854 / 480))
    assert shorter_side_size(854, 480, 224) == (int(224 * 854 / 480), 224)
    assert shorter_side_size(300, 300, 224) == (224, 224)


@pytest.mark.parametrize("n_px", [64, 100])
def test_clip_transform_matches_numpy(frames, n_px):
    ours = clip_transform(frames_to_tensor(frames), n_px=n_px).double().numpy()
    for i, f in enumerate(frames):
        img = f[..., ::-1].transpose(2, 0, 1).astype(np.float64)
        out_hw = shorter_side_size(*img.shape[1:], n_px)
        r = _np_resize(img, out_hw, "bicubic")
        top, left = int(round((out_hw[0] - n_px) / 2)), int(round((out_hw[1] - n_px) / 2))
        r = r[:, top : top + n_px, left : left + n_px]
        ref = (r / 255 - np.array(CLIP_MEAN)[:, None, None]) / np.array(CLIP_STD)[:, None, None]
        # float32 source coordinates (as in torch, hence in VBench) move bicubic taps by ~1e-5 pixel units
        np.testing.assert_allclose(ours[i], ref, atol=1e-4)
    # float input is neither rounded nor clamped: bicubic overshoot survives
    assert ours.shape == (2, 3, n_px, n_px)


def test_dino_transform_matches_numpy_and_keeps_aspect(frames):
    ours = dino_transform(frames_to_tensor(frames), n_px=64).double().numpy()
    assert ours.shape == (2, 3, 64, int(64 * 170 / 120))
    img = frames[1, ..., ::-1].transpose(2, 0, 1).astype(np.float64)
    r = _np_resize(img, ours.shape[-2:], "bilinear")
    ref = (r / 255 - np.array(IMAGENET_MEAN)[:, None, None]) / np.array(IMAGENET_STD)[:, None, None]
    np.testing.assert_allclose(ours[1], ref, atol=1e-4)


def test_musiq_transform_caps_longer_side(frames):
    x = frames_to_tensor(frames)
    small = musiq_transform(x, longer=512)
    torch.testing.assert_close(small, x / 255.0)  # nothing above 512: only /255
    capped = musiq_transform(x, longer=85)
    assert capped.shape[-2:] == (int(85 / 170 * 120), 85)
    ref = _np_resize(x[0].double().numpy(), capped.shape[-2:], "bilinear") / 255
    np.testing.assert_allclose(capped[0].double().numpy(), ref, atol=1e-6)


def test_center_crop_rounding_and_errors():
    x = torch.arange(7 * 10, dtype=torch.float32).reshape(1, 1, 7, 10)
    c = center_crop(x, 4)
    # top = round(1.5) = 2 (banker's rounding), left = round(3.0) = 3
    torch.testing.assert_close(c, x[..., 2:6, 3:7])
    with pytest.raises(ValueError):
        center_crop(x, 8)
