"""CLIP (BC, AQ) and DINO (SC): key mapping on synthetic original-layout checkpoints, end to end on tiny
random models loaded through the same code path as the real weights."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchmark.appearance import score_appearance
from benchmark.appearance.clip_models import build_clip_vision, load_openai_clip_state_dict
from benchmark.appearance.dino import build_dino_vit, load_dino_state_dict
from benchmark.appearance.transforms import clip_transform, dino_transform, frames_to_tensor
from ma_data.core.errors import FormatError
from tests.benchmark.appearance.appearance_media import moving_frames, write_frames
from tests.helpers.tiny_checkpoints import (
    dino_sd,
    openai_clip_visual_sd,
    reference_clip_encode_image,
    reference_dino_forward,
    save_as_torchscript,
)


@pytest.mark.slow
def test_clip_mapping_matches_reference_forward():
    sd = openai_clip_visual_sd(width=128, layers=2)  # 2 heads, 2 blocks: exercises head split and block index
    model = build_clip_vision(sd)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        ours = model(pixel_values=x).image_embeds
    torch.testing.assert_close(ours, reference_clip_encode_image(sd, x), rtol=1e-4, atol=1e-5)


def test_clip_loader_reads_torchscript_archive_and_rejects_other_files(tmp_path):
    sd = openai_clip_visual_sd()
    path = save_as_torchscript(
        {**sd, "transformer.resblocks.0.ln_1.weight": torch.ones(4)}, tmp_path / "c.pt"
    )
    loaded = load_openai_clip_state_dict(path)
    assert set(loaded) == set(sd)  # text-tower keys dropped
    torch.save({"foo": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(FormatError, match="bad.pt"):
        load_openai_clip_state_dict(tmp_path / "bad.pt")


def test_dino_mapping_matches_reference_forward_on_non_square_input():
    sd = dino_sd(dim=128, layers=2)
    model = build_dino_vit(sd)
    x = torch.randn(2, 3, 224, 298)  # the shape dino_transform gives a 4:3-ish frame: 14 x 18 tokens
    with torch.no_grad():
        ours = model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state[:, 0]
    torch.testing.assert_close(ours, reference_dino_forward(sd, x), rtol=1e-4, atol=1e-5)


def test_dino_v4_layout_names():
    from benchmark.appearance.dino import dino_to_hf_vit

    keys = set(dino_to_hf_vit(dino_sd(), layout="v4"))
    assert "encoder.layer.0.attention.attention.query.weight" in keys
    assert "encoder.layer.0.intermediate.dense.bias" in keys and "encoder.layer.0.output.dense.weight" in keys
    assert len(keys) == len(dino_to_hf_vit(dino_sd(), layout="v5"))


def test_dino_loader_handles_training_checkpoints(tmp_path):
    sd = dino_sd()
    teacher = {f"backbone.{k}": v for k, v in sd.items()} | {"head.w": torch.zeros(1)}
    torch.save({"teacher": teacher}, tmp_path / "t.pth")
    assert set(load_dino_state_dict(tmp_path / "t.pth")) == set(sd)
    torch.save({"x": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(FormatError):
        load_dino_state_dict(tmp_path / "bad.pth")


def _reference_consistency(feats: torch.Tensor) -> tuple[float, int]:
    f = F.normalize(feats, dim=-1)
    total = 0.0
    for i in range(1, len(f)):
        pre = max(0.0, F.cosine_similarity(f[i - 1 : i], f[i : i + 1]).item())
        fir = max(0.0, F.cosine_similarity(f[:1], f[i : i + 1]).item())
        total += (pre + fir) / 2
    return total, len(f) - 1


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch, unpinned_weights):
    """Tiny random checkpoints in the original layouts, placed where the registry looks for the real ones."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MACE_DANCE_CACHE", str(cache))
    w = cache / "weights"
    b32 = openai_clip_visual_sd(seed=3)
    save_as_torchscript(b32, w / "clip" / "ViT-B-32.pt")
    l14 = openai_clip_visual_sd(seed=4, embed=24)
    save_as_torchscript(l14, w / "clip" / "ViT-L-14.pt")
    head = torch.nn.Linear(24, 1)
    (w / "aesthetic").mkdir(parents=True)
    torch.save(head.state_dict(), w / "aesthetic" / "sa_0_4_vit_l_14_linear.pth")
    dsd = dino_sd(seed=5)
    (w / "dino").mkdir(parents=True)
    torch.save(dsd, w / "dino" / "dino_vitbase16_pretrain.pth")
    return {"b32": b32, "l14": l14, "head": head, "dino": dsd}


def _consistency_reference(videos, encode) -> dict[str, dict[str, float]]:
    from benchmark.appearance.decode import read_frames_bgr

    out = {}
    for stem, path in videos.items():
        with torch.no_grad():
            s, c = _reference_consistency(encode(frames_to_tensor(read_frames_bgr(path))))
        out[stem] = s / c
    return out


@pytest.fixture
def small_videos(tmp_path):
    return {
        f"v{i}": write_frames(tmp_path / f"v{i}.mp4", moving_frames(t=t, h=72, w=96, seed=i))
        for i, t in enumerate((6, 4))
    }


def test_clip_and_dino_dimensions_through_the_metric_tester(metric_tester, small_videos):
    """BC (CLIP B/32), AQ (LAION head on CLIP L/14) and SC (DINO) of tiny random models equal the reference
    forwards and VBench's consistency formula, whatever the decoder's chunk size and the model's batch size
    (and on CUDA, in VBench's fp16 for CLIP, when present)."""
    from benchmark.appearance.clip_dims import AestheticQuality, BackgroundConsistency
    from benchmark.appearance.dino import SubjectConsistency

    b32, l14, dsd = openai_clip_visual_sd(seed=3), openai_clip_visual_sd(seed=4, embed=24), dino_sd(seed=5)
    head = torch.nn.Linear(24, 1)
    common = {"chunks": (1, 4, 16), "batch_sizes": (1, 16), "devices": ("cpu", "cuda"), "device_rtol": 2e-2}
    tol = {"rtol": 1e-5, "invariance_rtol": 1e-5}
    bc = _consistency_reference(small_videos, lambda x: reference_clip_encode_image(b32, clip_transform(x)))
    metric_tester.dimension(
        functools.partial(BackgroundConsistency, model=build_clip_vision(b32)),
        small_videos,
        reference={s: {"background_consistency": v} for s, v in bc.items()},
        **common,
        **tol,
    )
    sc = _consistency_reference(small_videos, lambda x: reference_dino_forward(dsd, dino_transform(x)))
    metric_tester.dimension(
        functools.partial(SubjectConsistency, model=build_dino_vit(dsd)),
        small_videos,
        reference={s: {"subject_consistency": v} for s, v in sc.items()},
        **common,
        **tol,
    )
    from benchmark.appearance.decode import read_frames_bgr

    aq = {}
    for stem, path in small_videos.items():
        with torch.no_grad():
            x = frames_to_tensor(read_frames_bgr(path))
            emb = F.normalize(reference_clip_encode_image(l14, clip_transform(x)), dim=-1)
            aq[stem] = {"aesthetic_quality": float((head(emb) / 10).mean())}
    metric_tester.dimension(
        functools.partial(AestheticQuality, model=build_clip_vision(l14), head=head),
        small_videos,
        reference=aq,
        rtol=1e-5,
        atol=1e-6,
        invariance_rtol=1e-5,
        invariance_atol=1e-7,
        **common,
    )


@pytest.mark.slow
def test_end_to_end_tiny_models(tmp_path, tiny_weights):
    videos = {}
    for i, t in enumerate((7, 5)):
        frames = moving_frames(t=t, h=120, w=160, seed=i)
        videos[f"v{i}"] = write_frames(tmp_path / f"v{i}.mp4", frames)
    dims = ["background_consistency", "subject_consistency", "aesthetic_quality", "temporal_flickering"]
    r1 = score_appearance(videos, dims=dims, batch_size=3, progress=False, n_boot=0)
    r2 = score_appearance(videos, dims=dims, batch_size=16, progress=False, n_boot=0)
    assert not r1.warnings and set(r1.metrics) == set(dims)
    for stem in videos:
        for d in dims:
            assert r1.per_sample[stem][d] == pytest.approx(r2.per_sample[stem][d], rel=1e-5)

    # Independent recomputation from the original-layout tensors and reference forwards.
    from benchmark.appearance.decode import read_frames_bgr

    sims, cnts, sc_sims, aq = [], [], [], []
    for stem, path in videos.items():
        frames = read_frames_bgr(path)
        x = frames_to_tensor(frames)
        with torch.no_grad():
            bc_feats = reference_clip_encode_image(tiny_weights["b32"], clip_transform(x))
            s, c = _reference_consistency(bc_feats)
            sims.append(s)
            cnts.append(c)
            assert r1.per_sample[stem]["background_consistency"] == pytest.approx(s / c, rel=1e-5)
            sc_feats = reference_dino_forward(tiny_weights["dino"], dino_transform(x))
            s2, _ = _reference_consistency(sc_feats)
            sc_sims.append(s2)
            assert r1.per_sample[stem]["subject_consistency"] == pytest.approx(s2 / c, rel=1e-5)
            emb = F.normalize(reference_clip_encode_image(tiny_weights["l14"], clip_transform(x)), dim=-1)
            aq.append(float((tiny_weights["head"](emb) / 10).mean()))
            assert r1.per_sample[stem]["aesthetic_quality"] == pytest.approx(aq[-1], rel=1e-5, abs=1e-6)
    # Frame-weighted set value for the consistency dimensions, plain mean for AQ.
    assert r1.metrics["background_consistency"].value == pytest.approx(sum(sims) / sum(cnts), rel=1e-5)
    assert r1.metrics["subject_consistency"].value == pytest.approx(sum(sc_sims) / sum(cnts), rel=1e-5)
    assert r1.metrics["aesthetic_quality"].value == pytest.approx(np.mean(aq), rel=1e-5, abs=1e-6)


def test_missing_weight_skips_only_that_dimension(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "empty"))
    v = write_frames(tmp_path / "v.mp4", moving_frames(t=4, h=64, w=64))
    r = score_appearance(
        {"v": v}, dims=["subject_consistency", "temporal_flickering"], progress=False, n_boot=0
    )
    assert "temporal_flickering" in r.metrics and "subject_consistency" not in r.metrics
    msg = r.extra["skipped_dims"]["subject_consistency"]
    assert "dino-vitb16" in msg and "mace-bench weights fetch dino-vitb16" in msg
    assert msg in r.warnings
