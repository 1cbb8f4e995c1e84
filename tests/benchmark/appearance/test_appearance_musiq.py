"""MUSIQ (imaging quality): multi-scale sequence, components, checkpoint loading, end to end (tiny model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchmark.appearance import score_appearance
from benchmark.appearance.musiq import Musiq, WSConv, build_musiq, same_pad
from benchmark.appearance.transforms import frames_to_tensor, musiq_transform
from ma_data.core.errors import FormatError
from tests.benchmark.appearance.appearance_media import moving_frames, write_frames


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
def test_imaging_quality_end_to_end(tmp_path, monkeypatch, unpinned_weights):
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


def _reference_musiq(sd, x, grid=10, patch=32, sides=(224, 384)):
    """MUSIQ forward for ONE image (1, 3, H, W) in [0, 1], written with explicit loops from the definition."""
    heads = 1
    x = (x - 0.5) * 2
    tokens, spatial, scale, mask = [], [], [], []

    def add_scale(img, sid, max_len):
        h, w = img.shape[-2:]
        ch, cw = math.ceil(h / patch), math.ceil(w / patch)
        ph, pw = ch * patch - h, cw * patch - w
        img = F.pad(img, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        toks, sp = [], []
        for i in range(ch):
            for j in range(cw):
                toks.append(img[0, :, i * patch : (i + 1) * patch, j * patch : (j + 1) * patch])
                sp.append(math.floor(i * grid / ch) * grid + math.floor(j * grid / cw))
        n = len(toks) if max_len is None else max_len
        for k in range(n):
            real = k < len(toks)
            tokens.append(toks[k] if real else torch.zeros(3, patch, patch))
            spatial.append(sp[k] if real else 0)
            scale.append(sid if real else 0)
            mask.append(1.0 if real else 0.0)

    h, w = x.shape[-2:]
    for sid, side in enumerate(sides):
        r = side / max(h, w)
        add_scale(
            F.interpolate(x, (round(h * r), round(w * r)), mode="bicubic", align_corners=False),
            sid,
            (side // patch + (side % patch > 0)) ** 2,
        )
    add_scale(x, len(sides), None)

    def wsconv(t, name, stride, k):
        wgt = sd[name]
        wgt = (wgt - wgt.mean((1, 2, 3), keepdim=True)) / (wgt.std((1, 2, 3), keepdim=True) + 1e-5)
        n = t.shape[-1]
        out = math.ceil(n / stride)
        pad = max((out - 1) * stride + k - n, 0)
        return F.conv2d(F.pad(t, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)), wgt, stride=stride)

    def gn(t, name, eps):
        return F.group_norm(t, 32, sd[name + ".weight"], sd[name + ".bias"], eps)

    t = torch.stack(tokens)
    t = F.relu(gn(wsconv(t, "conv_root.weight", 2, 7), "gn_root", 1e-6))
    t = F.max_pool2d(F.pad(t, (0, 1, 0, 1)), 3, 2)  # SAME for 16 -> 8: total pad 1, all on the far side
    b = "block1."
    short = gn(wsconv(t, b + "conv_proj.weight", 1, 1), b + "gn_proj", 1e-4)
    y = F.relu(gn(wsconv(t, b + "conv1.weight", 1, 1), b + "gn1", 1e-4))
    y = F.relu(gn(wsconv(y, b + "conv2.weight", 1, 3), b + "gn2", 1e-4))
    t = F.relu(gn(wsconv(y, b + "conv3.weight", 1, 1), b + "gn3", 1e-4) + short)
    t = t.permute(0, 2, 3, 1).reshape(1, len(tokens), -1)
    e = F.linear(t, sd["embedding.weight"], sd["embedding.bias"])
    p = "transformer_encoder."
    e = e + sd[p + "posembed_input.position_emb"][0][torch.tensor(spatial)]
    e = e + sd[p + "scaleembed_input.scale_emb"][torch.tensor(scale)]
    e = torch.cat([sd[p + "cls"], e], 1)
    m = torch.tensor([1.0] + mask)
    d = e.shape[-1]
    i = 0
    while f"{p}transformer.encoderblock_{i}.norm1.weight" in sd:
        q = f"{p}transformer.encoderblock_{i}."

        def ln(t, name, q=q):
            return F.layer_norm(t, (d,), sd[q + name + ".weight"], sd[q + name + ".bias"], 1e-6)

        def lin(t, name, q=q):
            return F.linear(t, sd[q + name + ".weight"], sd[q + name + ".bias"])

        a = ln(e, "norm1")
        logits = lin(a, "attention.query") @ lin(a, "attention.key").transpose(-1, -2) / math.sqrt(d // heads)
        logits = torch.where((m[:, None] * m[None, :]) == 0, torch.tensor(-1e3), logits)
        e = e + lin(logits.softmax(-1) @ lin(a, "attention.value"), "attention.out")
        e = e + lin(F.gelu(lin(ln(e, "norm2"), "mlp.fc1")), "mlp.fc2")
        i += 1
    e = F.layer_norm(e, (d,), sd[p + "encoder_norm.weight"], sd[p + "encoder_norm.bias"], 1e-6)
    return F.linear(e[:, 0], sd["head.weight"], sd["head.bias"]).reshape(-1)


def test_imaging_quality_dimension_through_the_metric_tester(metric_tester, tmp_path):
    """Per-video IQ (mean MOS / 100) of a tiny random MUSIQ equals the explicit-loop reference forward, frame
    by frame, whatever the decoder's chunk size and the model's batch size (and on CUDA when present)."""
    import functools

    from benchmark.appearance.decode import read_frames_bgr
    from benchmark.appearance.musiq import ImagingQuality

    sd = tiny_musiq_sd(1)
    videos = {"v": write_frames(tmp_path / "v.mp4", moving_frames(t=3, h=64, w=96, seed=1))}
    reference = {}
    for stem, path in videos.items():
        x = musiq_transform(frames_to_tensor(read_frames_bgr(path)))
        with torch.no_grad():
            scores = [float(_reference_musiq(sd, x[i : i + 1])) for i in range(len(x))]
        reference[stem] = {"imaging_quality": float(np.mean(scores)) / 100}
    metric_tester.dimension(
        functools.partial(ImagingQuality, model=build_musiq(sd)),
        videos,
        reference=reference,
        rtol=1e-4,
        atol=1e-6,
        chunks=(1, 16),
        batch_sizes=(1, 16),
        invariance_rtol=1e-4,
        invariance_atol=1e-6,
        devices=("cpu", "cuda"),
    )


def test_forward_matches_explicit_reference():
    sd = tiny_musiq_sd(2)
    model = build_musiq(sd)
    x = torch.rand(1, 3, 70, 100)
    with torch.no_grad():
        torch.testing.assert_close(model(x), _reference_musiq(sd, x), rtol=1e-4, atol=1e-4)
