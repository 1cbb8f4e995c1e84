"""MUSIQ (imaging quality): multi-scale sequence, components, checkpoint loading, end to end (tiny model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from appearance_media import moving_frames, write_frames

from benchmark.appearance import score_appearance
from benchmark.appearance.musiq import Musiq, WSConv, build_musiq, same_pad
from benchmark.appearance.transforms import frames_to_tensor, musiq_transform
from ma_data.errors import FormatError


def tiny_musiq_sd(seed=0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    model = Musiq(hidden=64, mlp_dim=96, heads=1, layers=2)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.05)
    return model.state_dict()


def test_same_pad_matches_tensorflow_rule():
    x = torch.ones(1, 1, 100, 150)
    y = same_pad(x, 32, 32)
    # TF SAME: out = ceil(n / s); pad = (out - 1) * s + k - n, split floor / ceil
    assert y.shape[-2:] == (128, 160)
    assert y[0, 0, :14].sum() == 0 and y[0, 0, 14:114, 5:155].min() == 1 and y[0, 0, 114:].sum() == 0


def test_weight_standardised_conv_uses_unbiased_std():
    conv = WSConv(3, 4, 3, stride=1, bias=False)
    x = torch.randn(1, 3, 8, 8)
    w = conv.weight.detach().double()
    flat = w.reshape(4, -1)
    ws = (flat - flat.mean(1, keepdim=True)) / (flat.std(1, unbiased=True, keepdim=True) + 1e-5)
    ref = F.conv2d(F.pad(x.double(), (1, 1, 1, 1)), ws.reshape_as(w))
    torch.testing.assert_close(conv(x).double(), ref, rtol=1e-5, atol=1e-5)


def test_multiscale_sequence_layout():
    model = Musiq(hidden=64, mlp_dim=96, heads=1, layers=1)
    x = torch.rand(2, 3, 100, 150) * 2 - 1
    p, spatial, scale, mask = model.sequence(x)
    # 224: (149, 224) -> 5 x 7 = 35 patches padded to 49; 384: (256, 384) -> 8 x 12 = 96 padded to 144;
    # original: 4 x 5 = 20 patches, not padded.
    assert p.shape == (2, 49 + 144 + 20, 3 * 32 * 32)
    assert mask[0, :49].sum() == 35 and mask[0, 49:193].sum() == 96 and mask[0, 193:].sum() == 20
    # padded tokens are all-zero (scale 0, position 0, mask 0), as pyiqa pads the concatenated tensor
    assert scale[0, :49].max() == 0 and set(scale[0, 193:].tolist()) == {2}
    assert set(scale[0, 49 : 49 + 96].tolist()) == {1} and set(scale[0, 49 + 96 : 193].tolist()) == {0}
    # hashed positions of the original scale: nearest map of 4 rows x 5 cols onto 10 x 10
    rows = [math.floor(i * 10 / 4) for i in range(4)]
    cols = [math.floor(j * 10 / 5) for j in range(5)]
    assert spatial[0, 193:].tolist() == [r * 10 + c for r in rows for c in cols]
    # first original-scale patch: top-left 32x32 of the SAME-padded image (14 rows / 5 cols of zeros)
    padded = F.pad(x, (5, 5, 14, 14))
    torch.testing.assert_close(p[:, 193].reshape(2, 3, 32, 32), padded[:, :, :32, :32])


def test_checkpoint_loading_strict_and_wrapped():
    sd = tiny_musiq_sd()
    model = build_musiq(sd)
    assert model.head.out_features == 1 and len(model.transformer_encoder.transformer) == 2
    build_musiq({"params": sd})  # pyiqa training-checkpoint wrapper
    with pytest.raises(FormatError):
        build_musiq({"foo": torch.zeros(1)})
    bad = dict(sd)
    bad["extra.weight"] = torch.zeros(1)
    with pytest.raises(FormatError, match="unexpected"):
        build_musiq(bad)


def test_batch_independence_and_mask_effect():
    model = build_musiq(tiny_musiq_sd())
    x = torch.rand(3, 3, 64, 96)
    with torch.no_grad():
        batched = model(x)
        single = torch.cat([model(x[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_imaging_quality_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "cache" / "weights" / "pyiqa" / "musiq_spaq_ckpt-358bb6af.pth"
    target.parent.mkdir(parents=True)
    sd = tiny_musiq_sd(1)
    torch.save(sd, target)
    videos = {}
    for i in range(2):
        videos[f"v{i}"] = write_frames(tmp_path / f"v{i}.mp4", moving_frames(t=3, h=64, w=96, seed=i))
    r = score_appearance(videos, dims=["imaging_quality"], batch_size=2, progress=False, n_boot=0)
    assert not r.warnings
    model = build_musiq(sd)
    from benchmark.appearance.decode import read_frames_bgr

    vals = []
    for stem, path in videos.items():
        with torch.no_grad():
            scores = model(musiq_transform(frames_to_tensor(read_frames_bgr(path))))
        vals.append(float(scores.double().mean()) / 100)
        assert r.per_sample[stem]["imaging_quality"] == pytest.approx(vals[-1], rel=1e-4, abs=1e-7)
    assert r.metrics["imaging_quality"].value == pytest.approx(np.mean(vals), rel=1e-4, abs=1e-7)
