"""Motion smoothness: VBench frame handling with a stand-in interpolator, and AMT-S loading end to end."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import torch.nn as nn

from benchmark.appearance import score_appearance
from benchmark.appearance.amt import AmtS, MotionSmoothness, build_amt, load_amt, vbench_scale
from benchmark.appearance.decode import read_frames_bgr
from ma_data.core.errors import FormatError
from tests.benchmark.appearance.appearance_media import moving_frames, write_frames


class Blend(nn.Module):
    """Stand-in interpolator: the average of the two inputs (same call signature as AMT-S)."""

    def forward(self, a, b, embt, scale_factor=1.0):
        assert torch.all(embt == 0.5)
        return (a + b) / 2


def _vbench_reference(frames_rgb: np.ndarray) -> float:
    """VBench's motion_score with a blending interpolator, written from its description."""
    even = frames_rgb[0::2].astype(np.float32) / 255.0
    preds = [
        ((even[i] + even[i + 1]) / 2 * 255.0).clip(0, 255).astype(np.uint8) for i in range(len(even) - 1)
    ]
    odd = frames_rgb[1::2]
    diffs = [np.mean(np.abs(preds[i].astype(int) - odd[i].astype(int))) for i in range(len(preds))]
    return (255.0 - np.mean(diffs)) / 255.0


@pytest.mark.parametrize("t", [9, 10])
def test_frame_handling_matches_vbench(tmp_path, t, metric_tester):
    frames = moving_frames(t=t, h=50, w=70)  # 50x70: padded to 64x80 and unpadded again
    path = write_frames(tmp_path / "v.mkv", frames, codec="ffv1")
    dim = MotionSmoothness(model=Blend(), batch_size=8)
    dim.start(str(path))
    for chunk in np.array_split(read_frames_bgr(path), 3):  # uneven chunk boundaries must not matter
        dim.update(chunk)
    ours = dim.finish()["motion_smoothness"].value
    assert ours == pytest.approx(_vbench_reference(frames), rel=1e-12)
    # every chunk size of the decoder and batch size of the interpolator (and CUDA when present)
    metric_tester.dimension(
        functools.partial(MotionSmoothness, model=Blend()),
        {"v": path},
        reference={"v": {"motion_smoothness": _vbench_reference(frames)}},
        rtol=1e-12,
        chunks=(1, 2, 3, 16),
        batch_sizes=(1, 4, 8, 16),
        devices=("cpu", "cuda"),
        device_rtol=1e-6,
    )


def test_vbench_scale_is_one_on_cpu():
    assert vbench_scale(1080, 1920, "cpu") == 1.0


def test_amt_checkpoint_layout_and_errors(tmp_path):
    sd = AmtS().state_dict()
    for key in (
        "feat_encoder.layer2.0.downsample.0.weight",
        "encoder.pyramid4.1.0.weight",
        "encoder.pyramid1.0.1.weight",
        "decoder4.convblock.1.conv5.weight",
        "decoder1.convblock.2.weight",
        "update2.flow_head.2.bias",
        "update3.gru.0.weight",
        "comb_block.1.weight",
    ):
        assert key in sd
    assert not any("norm" in k for k in sd)  # instance norms carry no parameters
    torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}}, tmp_path / "a.pth")
    load_amt(tmp_path / "a.pth")
    torch.save({"state_dict": {"x": torch.zeros(1)}}, tmp_path / "bad.pth")
    with pytest.raises(FormatError):
        load_amt(tmp_path / "bad.pth")
    with pytest.raises(FormatError, match="missing"):
        build_amt({k: v for k, v in sd.items() if not k.startswith("comb_block")})


@pytest.mark.slow
def test_amt_end_to_end_random_weights(tmp_path, monkeypatch, unpinned_weights):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "cache" / "weights" / "amt" / "amt-s.pth"
    target.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save({"state_dict": AmtS().state_dict()}, target)
    # at least 128 px: the 4-level correlation pyramid of an 8x smaller grid degenerates to 1x1 (NaN) below that,
    # in the original AMT as well
    path = write_frames(tmp_path / "v.mp4", moving_frames(t=3, h=128, w=128))
    r = score_appearance({"v": path}, dims=["motion_smoothness"], batch_size=8, progress=False, n_boot=0)
    assert not r.warnings
    assert 0.0 < r.per_sample["v"]["motion_smoothness"] <= 1.0
    # batched pairs equal one-pair-at-a-time inference
    model = load_amt(target)
    a, b = torch.rand(2, 3, 128, 128), torch.rand(2, 3, 128, 128)
    embt = torch.full((2, 1, 1, 1), 0.5)
    with torch.no_grad():
        both = model(a, b, embt)
        one = torch.cat([model(a[i : i + 1], b[i : i + 1], embt[:1]) for i in range(2)])
    torch.testing.assert_close(both, one, rtol=1e-4, atol=1e-4)
