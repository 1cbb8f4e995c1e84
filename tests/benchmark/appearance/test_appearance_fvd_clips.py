"""FVD clip policy: an explicit, recorded protocol parameter; StyleGAN-V's one-clip-per-video selection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from benchmark.appearance import VBENCH_APPEARANCE, score_appearance
from benchmark.appearance.fvd import FvdDimension, feature_stats, frechet_distance
from benchmark.appearance.protocol import appearance_protocol
from ma_data.core.errors import MaceError
from tests.benchmark.appearance.appearance_media import moving_frames, write_frames


class MeanStdDetector(nn.Module):
    """I3D's call signature: (B, 3, T, H, W) uint8 -> (B, D) features (mean, std, frame-difference per channel)."""

    def forward(self, x, rescale: bool = False, resize: bool = False, return_features: bool = False):
        v = x.float() / 127.5 - 1
        t = (v[:, :, 1:] - v[:, :, :-1]).abs().mean(dim=(2, 3, 4))
        return torch.cat([v.mean(dim=(2, 3, 4)), v.std(dim=(2, 3, 4)), t], dim=1)


def _feats(frames: np.ndarray) -> torch.Tensor:
    return MeanStdDetector()(torch.from_numpy(frames[..., ::-1].copy()).permute(3, 0, 1, 2)[None])


def _feed(dim: FvdDimension, videos: list[tuple[np.ndarray, np.ndarray]], chunk: int = 8) -> None:
    for pred, gt in videos:
        dim.start("v")
        for i in range(0, len(pred), chunk):
            dim.update(pred[i : i + chunk], gt[i : i + chunk])
        dim.finish()


def test_stylegan_v_policy_takes_the_first_16_frames_of_each_video_once():
    videos = [(moving_frames(t=t, h=24, w=32, seed=s), moving_frames(t=t, h=24, w=32, seed=10 + s)) for s, t in
              ((0, 40), (1, 15), (2, 16), (3, 33))]  # fmt: skip
    sgv = FvdDimension(device="cpu", detector=MeanStdDetector(), clip_policy="stylegan-v")
    runs = FvdDimension(device="cpu", detector=MeanStdDetector())
    _feed(sgv, videos)
    _feed(runs, videos)
    assert sgv.n_clips == 3  # the 15-frame video is discarded; one clip from each other video
    assert runs.n_clips == 2 + 0 + 1 + 2  # every full non-overlapping 16-frame run
    with torch.no_grad():
        p = torch.cat([_feats(pr[:16]) for pr, _ in videos if len(pr) >= 16]).double().numpy()
        g = torch.cat([_feats(gt[:16]) for _, gt in videos if len(gt) >= 16]).double().numpy()
    expected = frechet_distance(*feature_stats(p), *feature_stats(g))
    assert sgv.set_level()["fvd"] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_stylegan_v_policy_caps_the_number_of_videos(monkeypatch):
    import benchmark.appearance.fvd as fvd

    monkeypatch.setattr(fvd, "FVD_MAX_VIDEOS", 2)  # StyleGAN-V's cap is 2048; the rule is the same
    videos = [
        (moving_frames(t=20, h=16, w=16, seed=s), moving_frames(t=20, h=16, w=16, seed=9)) for s in range(4)
    ]
    dim = FvdDimension(device="cpu", detector=MeanStdDetector(), clip_policy="stylegan-v")
    _feed(dim, videos)
    assert dim.n_clips == 2


def test_policy_is_recorded_and_the_default_is_unchanged():
    from benchmark.leaderboard.testset import params_sha256

    assert VBENCH_APPEARANCE.version == "1.0"
    default_fvd = {
        "detector": "StyleGAN-V I3D TorchScript (rescale=True, resize=True, return_features=True)",
        "clip_len": 16,
        "clips": "non-overlapping 16-frame runs of the paired frame range",
        "stats": "mean and population covariance in float64; scipy sqrtm, real part",
    }
    assert VBENCH_APPEARANCE.params["fvd"] == default_fvd  # 1.0's parameters, unchanged
    assert appearance_protocol() is VBENCH_APPEARANCE and appearance_protocol("all-runs") is VBENCH_APPEARANCE
    sgv = appearance_protocol("stylegan-v")
    assert (
        sgv.params["fvd"]["clip_policy"] == "stylegan-v"
        and "one clip per video" in sgv.params["fvd"]["clips"]
    )
    assert params_sha256(sgv.params) != params_sha256(VBENCH_APPEARANCE.params)  # a board tells them apart
    assert VBENCH_APPEARANCE.params["fvd"] == default_fvd  # the registered protocol is untouched
    with pytest.raises(ValueError, match="clip policy"):
        FvdDimension(device="cpu", detector=MeanStdDetector(), clip_policy="random")


@pytest.mark.slow
def test_score_appearance_records_the_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache" / "weights" / "fvd").mkdir(parents=True)
    torch.jit.script(MeanStdDetector()).save(
        str(tmp_path / "cache" / "weights" / "fvd" / "i3d_torchscript.pt")
    )
    pred, gt = {}, {}
    for i in range(3):
        pred[f"s{i}"] = write_frames(
            tmp_path / f"p{i}.mkv", moving_frames(t=33, h=32, w=48, seed=i), codec="ffv1"
        )
        gt[f"s{i}"] = write_frames(
            tmp_path / f"g{i}.mkv", moving_frames(t=33, h=32, w=48, seed=9 + i), codec="ffv1"
        )
    r = score_appearance(pred, gt, dims=["fvd"], progress=False, n_boot=0, fvd_clips="stylegan-v")
    assert r.extra["fvd_clips"] == 3 and r.extra["fvd_clip_policy"] == "stylegan-v"
    assert r.protocol.params["fvd"]["clip_policy"] == "stylegan-v" and r.protocol.version == "1.0"
    default = score_appearance(pred, gt, dims=["fvd"], progress=False, n_boot=0)
    assert default.extra["fvd_clips"] == 6 and default.protocol is VBENCH_APPEARANCE
    with pytest.raises(MaceError, match="clip policy"):
        score_appearance(pred, gt, dims=["fvd"], progress=False, n_boot=0, fvd_clips="every-frame")
