"""A synthetic checkpoint in the official Motion Expert release's layout (key names, shapes, EDGE's pickled
normalizer), for the key-mapping and safe-loading tests."""

from __future__ import annotations

import math
import sys
import types

import torch

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
