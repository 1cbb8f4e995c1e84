"""LPIPS (original key layouts, reference forward) and FVD (TorchScript detector loader, Frechet distance)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmark.appearance import score_appearance
from benchmark.appearance.fvd import feature_stats, frechet_distance
from benchmark.appearance.lpips import build_lpips
from ma_data.core.errors import FormatError
from tests.benchmark.appearance.appearance_media import moving_frames, write_frames

_ALEX = {0: (64, 3, 11), 3: (192, 64, 5), 6: (384, 192, 3), 8: (256, 384, 3), 10: (256, 256, 3)}


def alexnet_sd(seed=0):
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for i, (o, c, k) in _ALEX.items():
        sd[f"features.{i}.weight"] = torch.randn(o, c, k, k, generator=g) / (c * k * k) ** 0.5
        sd[f"features.{i}.bias"] = torch.randn(o, generator=g) * 0.1
    sd["classifier.1.weight"] = torch.zeros(4, 9216)  # present in the torchvision file, ignored
    return sd


def lin_sd(seed=1):
    g = torch.Generator().manual_seed(seed)
    return {
        f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1, generator=g)
        for k, c in enumerate((64, 192, 384, 256, 256))
    }


def reference_lpips(asd, lsd, a, b):
    """LPIPS v0.1 alex written from the paper/reference definition (inputs in [-1, 1])."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def feats(x):
        x = (x - shift) / scale
        out = []
        for i, stride, pad, pool in [
            (0, 4, 2, False),
            (3, 1, 2, True),
            (6, 1, 1, True),
            (8, 1, 1, False),
            (10, 1, 1, False),
        ]:
            if pool:
                x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = F.relu(
                F.conv2d(
                    x, asd[f"features.{i}.weight"], asd[f"features.{i}.bias"], stride=stride, padding=pad
                )
            )
            out.append(x)
        return out

    total = 0
    for k, (fa, fb) in enumerate(zip(feats(a), feats(b), strict=True)):
        na = fa / (torch.sqrt((fa**2).sum(1, keepdim=True)) + 1e-10)
        nb = fb / (torch.sqrt((fb**2).sum(1, keepdim=True)) + 1e-10)
        total = total + F.conv2d((na - nb) ** 2, lsd[f"lin{k}.model.1.weight"]).mean((2, 3))
    return total.reshape(-1)


def test_lpips_matches_reference_and_is_zero_on_identity():
    asd, lsd = alexnet_sd(), lin_sd()
    model = build_lpips(asd, lsd)
    a, b = torch.rand(2, 3, 80, 96) * 2 - 1, torch.rand(2, 3, 80, 96) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(model(a, b), reference_lpips(asd, lsd, a, b), rtol=1e-4, atol=1e-6)
        assert torch.all(model(a, a) == 0)


def test_lpips_rejects_wrong_layouts():
    with pytest.raises(FormatError, match="features.0.weight"):
        build_lpips({}, lin_sd())
    with pytest.raises(FormatError, match="lin0.model.1.weight"):
        build_lpips(alexnet_sd(), {"lin0.weight": torch.zeros(1)})


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    d1, d2 = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, 4)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(d1 + d2 - 2 * np.sqrt(d1 * d2))
    assert frechet_distance(mu1, np.diag(d1), mu2, np.diag(d2)) == pytest.approx(expected, rel=1e-10)
    x = rng.normal(size=(50, 3))
    assert frechet_distance(*feature_stats(x), *feature_stats(x)) == pytest.approx(0.0, abs=1e-8)
    mu, cov = feature_stats(x)
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False, bias=True), rtol=1e-10, atol=1e-12)


class TinyDetector(nn.Module):
    """Same call signature as StyleGAN-V's I3D TorchScript: (B, 3, T, H, W) uint8 -> (B, D) features."""

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False
    ):
        v = x.float()
        if rescale:
            v = v / 127.5 - 1
        m = v.mean(dim=(2, 3, 4))
        s = v.std(dim=(2, 3, 4))
        t = (v[:, :, 1:] - v[:, :, :-1]).abs().mean(dim=(2, 3, 4))
        return torch.cat([m, s, t], dim=1)


def _paired_videos(tmp_path, n=2, t=33):
    pred, gt, frames = {}, {}, {}
    for i in range(n):
        fp = moving_frames(t=t, h=48, w=64, seed=i)
        fg = moving_frames(t=t, h=48, w=64, seed=10 + i)
        pred[f"s{i}"] = write_frames(tmp_path / f"p{i}.mkv", fp, codec="ffv1")
        gt[f"s{i}"] = write_frames(tmp_path / f"g{i}.mkv", fg, codec="ffv1")
        frames[f"s{i}"] = (fp, fg)
    return pred, gt, frames


def _to_lpips_input(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255 * 2 - 1


def test_lpips_dimension_through_the_metric_tester(metric_tester, tmp_path):
    """Per-video LPIPS equals the reference definition on the written frames, whatever the decoder's chunk
    size and the model's batch size (and on CUDA when present)."""
    from benchmark.appearance.lpips import LpipsDimension

    asd, lsd = alexnet_sd(), lin_sd()
    pred, gt, frames = _paired_videos(tmp_path, t=9)
    with torch.no_grad():
        reference = {
            s: {
                "lpips": float(
                    reference_lpips(asd, lsd, _to_lpips_input(p), _to_lpips_input(g)).double().mean()
                )
            }
            for s, (p, g) in frames.items()
        }
    model = build_lpips(asd, lsd)
    metric_tester.dimension(
        functools.partial(LpipsDimension, model=model),
        pred,
        gt,
        reference=reference,
        rtol=1e-4,
        chunks=(1, 4, 16),
        batch_sizes=(1, 3, 16),
        invariance_rtol=1e-5,
        devices=("cpu", "cuda"),
    )


def test_fvd_dimension_through_the_metric_tester(metric_tester, tmp_path):
    """FVD over every 16-frame run of the paired frames equals the Frechet distance of the detector's features
    of those clips, whatever the decoder's chunk size (clips straddle chunks) and the batch size."""
    from benchmark.appearance.fvd import FvdDimension

    pred, gt, frames = _paired_videos(tmp_path)
    det = TinyDetector()
    feats_p, feats_g = [], []
    with torch.no_grad():
        for fp, fg in frames.values():
            for c in range(2):  # two full 16-frame clips per 33-frame video
                sl = slice(16 * c, 16 * c + 16)
                feats_p.append(det(torch.from_numpy(fp[sl]).permute(3, 0, 1, 2)[None], True, True, True))
                feats_g.append(det(torch.from_numpy(fg[sl]).permute(3, 0, 1, 2)[None], True, True, True))
    a, b = torch.cat(feats_p).double().numpy(), torch.cat(feats_g).double().numpy()
    s1, s2 = np.cov(a, rowvar=False, bias=True), np.cov(b, rowvar=False, bias=True)
    root = scipy.linalg.sqrtm(s1 @ s2)
    expected = float(np.real(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(s1 + s2 - 2 * root)))
    metric_tester.dimension(
        functools.partial(FvdDimension, detector=TinyDetector()),
        pred,
        gt,
        set_reference={"fvd": expected},
        rtol=1e-4,
        atol=1e-6,
        chunks=(1, 5, 16),
        batch_sizes=(16, 32),
        invariance_rtol=1e-9,
        devices=("cpu", "cuda"),
    )


@pytest.mark.slow
def test_lpips_and_fvd_end_to_end(tmp_path, monkeypatch, unpinned_weights):
    cache = tmp_path / "cache" / "weights"
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    (cache / "lpips").mkdir(parents=True)
    asd, lsd = alexnet_sd(), lin_sd()
    torch.save(asd, cache / "lpips" / "alexnet-owt-7be5be79.pth")
    torch.save(lsd, cache / "lpips" / "alex_v0.1.pth")
    (cache / "fvd").mkdir()
    torch.jit.script(TinyDetector()).save(str(cache / "fvd" / "i3d_torchscript.pt"))

    pred, gt, frames_p, frames_g = {}, {}, {}, {}
    for i in range(2):
        fp = moving_frames(t=33, h=48, w=64, seed=i)
        fg = moving_frames(t=33, h=48, w=64, seed=10 + i)
        pred[f"s{i}"] = write_frames(tmp_path / f"p{i}.mkv", fp, codec="ffv1")
        gt[f"s{i}"] = write_frames(tmp_path / f"g{i}.mkv", fg, codec="ffv1")
        frames_p[f"s{i}"], frames_g[f"s{i}"] = fp, fg
    r = score_appearance(pred, gt, dims=["lpips", "fvd"], batch_size=8, progress=False, n_boot=0)
    assert not r.extra["skipped_dims"], r.warnings
    assert r.extra["fvd_clips"] == 4  # two full 16-frame clips per 33-frame video

    det = TinyDetector()
    lp, feats_p, feats_g = [], [], []
    with torch.no_grad():
        for s in pred:
            a = torch.from_numpy(frames_p[s]).permute(0, 3, 1, 2).float() / 255 * 2 - 1
            b = torch.from_numpy(frames_g[s]).permute(0, 3, 1, 2).float() / 255 * 2 - 1
            v = float(reference_lpips(asd, lsd, a, b).double().mean())
            assert r.per_sample[s]["lpips"] == pytest.approx(v, rel=1e-4)
            lp.append(v)
            for c in range(2):
                sl = slice(16 * c, 16 * c + 16)
                feats_p.append(
                    det(torch.from_numpy(frames_p[s][sl]).permute(3, 0, 1, 2)[None], True, True, True)
                )
                feats_g.append(
                    det(torch.from_numpy(frames_g[s][sl]).permute(3, 0, 1, 2)[None], True, True, True)
                )
    assert r.metrics["lpips"].value == pytest.approx(np.mean(lp), rel=1e-4)
    fp_, fg_ = torch.cat(feats_p).double().numpy(), torch.cat(feats_g).double().numpy()
    expected = frechet_distance(*feature_stats(fp_), *feature_stats(fg_))
    assert r.metrics["fvd"].value == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_lpips_batches_give_the_per_frame_values(monkeypatch):
    from benchmark.appearance import lpips as lpips_mod

    asd, lsd = alexnet_sd(), lin_sd()
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 256, (7, 40, 56, 3)).astype(np.uint8)
    gt = rng.integers(0, 256, (7, 40, 56, 3)).astype(np.uint8)

    def run(batch_size):
        dim = lpips_mod.LpipsDimension(model=build_lpips(asd, lsd), batch_size=batch_size)
        dim.start("clip")
        dim.update(pred, gt)
        return np.concatenate(dim._vals)

    one = run(1)
    a = torch.from_numpy(np.ascontiguousarray(pred[..., ::-1])).permute(0, 3, 1, 2).float() / 255 * 2 - 1
    b = torch.from_numpy(np.ascontiguousarray(gt[..., ::-1])).permute(0, 3, 1, 2).float() / 255 * 2 - 1
    with torch.no_grad():
        np.testing.assert_allclose(one, reference_lpips(asd, lsd, a, b).double().numpy(), rtol=1e-4)
    np.testing.assert_allclose(run(4), one, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(run(16), one, rtol=1e-5, atol=1e-7)
    # The pixel budget caps the frames per forward pass whatever the batch size.
    monkeypatch.setattr(lpips_mod, "LPIPS_MAX_PIXELS", 2 * 40 * 56)
    dim = lpips_mod.LpipsDimension(model=build_lpips(asd, lsd), batch_size=16)
    assert dim.frames_per_batch(40, 56) == 2 and dim.frames_per_batch(4000, 4000) == 1
    np.testing.assert_allclose(run(16), one, rtol=1e-5, atol=1e-7)
