"""Loading the official checkpoint layout by key mapping, on a synthetic state dict (official_release.py)."""

from __future__ import annotations

import sys

import pytest
import torch

from ma_data.core.errors import FormatError
from models.motion_expert.checkpoint import load_expert, official_to_ours
from tests.models.motion_expert.official_release import (
    FF,
    MUSIC,
    N_STATE,
    NFEATS,
    W,
    official_keys,
    official_state,
    write_official_checkpoint,
)


@pytest.fixture
def official_ckpt(tmp_path):
    model_sd, ema_sd = official_state(1), official_state(2)
    scale, min_ = torch.rand(NFEATS) + 0.5, torch.rand(NFEATS) - 0.5
    path = tmp_path / "train-3750.pt"
    write_official_checkpoint(path, model_sd, ema_sd, scale, min_)
    return path, model_sd, ema_sd, scale, min_


def test_mapping_covers_every_official_key():
    mapped = official_to_ours(official_state(0))
    assert len(mapped) == len(official_keys())
    assert "dance_layers.1.cross.norm_ff.weight" in mapped
    assert "music_layers.0.genre.table.weight" in mapped
    assert "dance_layers.0.bimamba.bwd.A_log" in mapped
    assert not any(k.startswith(("dancelayerstack", "time_mlp")) or "transformer" in k for k in mapped)


@pytest.mark.parametrize("weights", ["model", "ema"])
def test_official_checkpoint_loads_by_key_mapping(official_ckpt, weights):
    assert "dataset.preprocess" not in sys.modules  # the release's classes are not importable here
    path, model_sd, ema_sd, scale, min_ = official_ckpt
    expert = load_expert(path, weights=weights)
    src = model_sd if weights == "model" else ema_sd
    assert expert.source == "official"
    cfg = expert.model.cfg
    assert (cfg.width, cfg.ff_size, cfg.dance_layers, cfg.music_layers, cfg.d_state) == (W, FF, 2, 2, N_STATE)
    assert cfg.num_heads == 8  # the release's, not visible in weights
    m = expert.model
    pairs = [
        ("time_mlp.3.weight", m.time_embed.linear_2.weight),
        ("beta_mlp.1.bias", m.beta_embed.linear_1.bias),
        ("null_cond_embed", m.null_music),
        ("dancelayerstack.1.film2.block.1.weight", m.dance_layers[1].film_cross.proj.weight),
        ("dancelayerstack.0.transformer.norm_music.bias", m.dance_layers[0].cross.norm_kv.bias),
        (
            "dancelayerstack.1.transformer.cross_attn.in_proj_weight",
            m.dance_layers[1].cross.attn.in_proj_weight,
        ),
        ("dancelayerstack.0.bimamba.mamba_backward.dt_proj.bias", m.dance_layers[0].bimamba.bwd.dt_proj.bias),
        ("musiclayerstack.1.genre_MLP.3.weight", m.music_layers[1].genre.linear_2.weight),
        ("musiclayerstack.0.film.block.1.bias", m.music_layers[0].film.proj.bias),
    ]
    for key, param in pairs:
        torch.testing.assert_close(param.detach(), src[key], rtol=0, atol=0)
    torch.testing.assert_close(torch.from_numpy(expert.normalizer.scale), scale)
    torch.testing.assert_close(torch.from_numpy(expert.normalizer.min), min_)
    out = m(torch.zeros(1, 5, NFEATS), torch.tensor([10]), 0.75, torch.zeros(1, 5, MUSIC), torch.tensor([2]))
    assert out.shape == (1, 5, NFEATS) and torch.isfinite(out).all()


def test_ddp_prefixed_official_keys_load(tmp_path):
    sd = {f"module.{k}": v for k, v in official_state(3).items()}
    path = tmp_path / "ddp.pt"
    write_official_checkpoint(path, sd, sd, torch.ones(NFEATS), torch.zeros(NFEATS))
    assert load_expert(path).source == "official"


def test_incomplete_official_state_is_a_clear_error(tmp_path):
    sd = official_state(4)
    del sd["dancelayerstack.1.film1.block.1.weight"]
    path = tmp_path / "broken.pt"
    write_official_checkpoint(path, sd, sd, torch.ones(NFEATS), torch.zeros(NFEATS))
    with pytest.raises(FormatError, match="film_mamba.proj.weight"):
        load_expert(path)


def test_missing_file_and_foreign_dicts(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        load_expert(tmp_path / "nope.pt")
    torch.save({"model_state_dict": {"foo.weight": torch.zeros(2)}, "normalizer": None}, tmp_path / "x.pt")
    with pytest.raises(FormatError, match="neither our layout"):
        load_expert(tmp_path / "x.pt")
