"""Loading the official checkpoint layout by key mapping, on a synthetic state dict written here."""

from __future__ import annotations

import math
import sys
import types

import pytest
import torch

from ma_data.core.errors import FormatError
from models.motion_expert.checkpoint import load_expert, official_to_ours

W, FF, NFEATS, MUSIC, N_DANCE, N_MUSIC, N_STATE = 32, 48, 151, 35, 2, 2, 4


def official_keys() -> dict[str, tuple[int, ...]]:
    """Key -> shape of the release's DanceDecoder (MACE-Dance ``Expert-Motion``), for a small width."""
    inner, rank = 2 * W, math.ceil(W / 16)
    keys: dict[str, tuple[int, ...]] = {}

    def lin(name, out, inp):
        keys[f"{name}.weight"], keys[f"{name}.bias"] = (out, inp), (out,)

    def norm(name):
        keys[f"{name}.weight"], keys[f"{name}.bias"] = (W,), (W,)

    def mamba(p):
        keys.update({
            f"{p}.in_proj.weight": (2 * inner, W), f"{p}.conv1d.weight": (inner, 1, 4), f"{p}.conv1d.bias": (inner,),
            f"{p}.x_proj.weight": (rank + 2 * N_STATE, inner), f"{p}.dt_proj.weight": (inner, rank),
            f"{p}.dt_proj.bias": (inner,), f"{p}.A_log": (inner, N_STATE), f"{p}.D": (inner,),
            f"{p}.out_proj.weight": (W, inner),
        })  # fmt: skip

    def bimamba(p):
        mamba(f"{p}.mamba_forward")
        mamba(f"{p}.mamba_backward")
        norm(f"{p}.norm")

    for mlp in ("time_mlp", "beta_mlp"):
        lin(f"{mlp}.1", 4 * W, W)
        lin(f"{mlp}.3", W, 4 * W)
    lin("input_projection", W, NFEATS)
    lin("cond_projection", W, MUSIC)
    lin("final_layer", NFEATS, W)
    keys["null_cond_embed"] = (1, 1, W)
    for i in range(N_DANCE):
        p = f"dancelayerstack.{i}"
        bimamba(f"{p}.bimamba")
        keys[f"{p}.transformer.cross_attn.in_proj_weight"] = (3 * W, W)
        keys[f"{p}.transformer.cross_attn.in_proj_bias"] = (3 * W,)
        lin(f"{p}.transformer.cross_attn.out_proj", W, W)
        for n in ("norm_dance", "norm_music", "norm"):
            norm(f"{p}.transformer.{n}")
        lin(f"{p}.transformer.linear1", FF, W)
        lin(f"{p}.transformer.linear2", W, FF)
        lin(f"{p}.film1.block.1", 2 * W, W)
        lin(f"{p}.film2.block.1", 2 * W, W)
    for i in range(N_MUSIC):
        p = f"musiclayerstack.{i}"
        bimamba(f"{p}.bimamba")
        lin(f"{p}.film.block.1", 2 * W, W)
        keys[f"{p}.genre_MLP.0.weight"] = (16, W)
        lin(f"{p}.genre_MLP.1", FF, W)
        lin(f"{p}.genre_MLP.3", W, FF)
    return keys


def official_state(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(*s, generator=g) * 0.05 for k, s in official_keys().items()}


def write_official_checkpoint(path, model_sd, ema_sd, scale, min_):
    """Pickle like the release: EDGE Normalizer/MinMaxScaler objects from modules we then remove."""
    pkg, pre, sca = (types.ModuleType(n) for n in ("dataset", "dataset.preprocess", "dataset.scaler"))
    Normalizer = type("Normalizer", (), {"__module__": "dataset.preprocess"})
    MinMaxScaler = type("MinMaxScaler", (), {"__module__": "dataset.scaler"})
    pre.Normalizer, sca.MinMaxScaler = Normalizer, MinMaxScaler
    mods = {"dataset": pkg, "dataset.preprocess": pre, "dataset.scaler": sca}
    saved = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    try:
        scaler = MinMaxScaler()
        scaler.scale_, scaler.min_, scaler.feature_range, scaler.clip = scale, min_, (-1, 1), True
        norm = Normalizer()
        norm.scaler = scaler
        ckpt = {
            "ema_state_dict": ema_sd,
            "model_state_dict": model_sd,
            "optimizer_state_dict": {},
            "normalizer": norm,
        }
        torch.save(ckpt, path)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


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
