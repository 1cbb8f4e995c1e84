"""Motion Expert checkpoints and reference motions are read without running code; ours load weights-only."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from ma_data.core.errors import FormatError
from ma_data.sources.finedance import FINEDANCE_GENRES as GENRES
from models.cli import main
from models.ema import EMA
from models.motion_expert.checkpoint import load_expert, read_checkpoint
from models.motion_expert.denoiser import MotionDenoiser
from models.motion_expert.normalizer import MinMaxNormalizer
from models.motion_expert.train import PRESETS, make_optimizer, save_training_checkpoint
from tests.helpers.hostile import SYSTEM, Marker


def tiny_checkpoint(path, **extra) -> None:
    """A checkpoint with exactly what ``train`` saves (after one optimiser step, so Adan has state)."""
    cfg = replace(PRESETS["tiny"], model=replace(PRESETS["tiny"].model, width=16, ff_size=32, dance_layers=1))
    torch.manual_seed(0)
    model = MotionDenoiser(cfg.model)
    ema, opt = EMA(model, cfg.ema_decay), make_optimizer(model.parameters(), cfg)
    sum(p.sum() for p in model.parameters()).backward()
    opt.step()
    nfeats = cfg.model.nfeats
    normalizer = MinMaxNormalizer(np.ones(nfeats, np.float32), np.zeros(nfeats, np.float32))
    rng = {"torch": torch.get_rng_state(), "data": torch.Generator().manual_seed(1).get_state()}
    save_training_checkpoint(path, cfg, model, ema, opt, normalizer, 1, list(GENRES), rng, **extra)


def test_our_checkpoints_load_with_plain_weights_only(tmp_path):
    path = tmp_path / "last.pt"
    tiny_checkpoint(path)
    raw = torch.load(path, weights_only=True)  # torch's own allowlist, nothing added
    assert raw["step"] == 1 and raw["optimizer_state_dict"]["state"]
    expert = load_expert(path)
    assert expert.source == "ours" and expert.model.cfg.width == 16


def test_hostile_checkpoint_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    tiny_checkpoint(path, extra=Marker(marker))
    for load in (read_checkpoint, load_expert):
        with pytest.raises(FormatError) as err:
            load(path)
        msg = str(err.value)
        assert msg.startswith(f"{path}: ") and SYSTEM in msg and "\n" not in msg
    assert not marker.exists()


def test_hostile_official_normalizer_never_runs(tmp_path):
    """A file posing as the release: EDGE's classes are data holders, so their state cannot call anything."""
    from tests.models.motion_expert.official_release import official_state, write_official_checkpoint

    marker = tmp_path / "pwned"
    sd = official_state(0)
    write_official_checkpoint(tmp_path / "train-3750.pt", sd, sd, Marker(marker), torch.zeros(3))
    with pytest.raises(FormatError, match=f"train-3750.pt: .*{SYSTEM}"):
        load_expert(tmp_path / "train-3750.pt")
    assert not marker.exists()


@pytest.mark.slow
def test_sample_motion_refuses_hostile_checkpoint_and_reference(tmp_path, other_music):
    marker = tmp_path / "pwned"
    evil_ckpt = tmp_path / "evil.pt"
    tiny_checkpoint(evil_ckpt, extra=Marker(marker))
    args = ["sample-motion", "--music", str(other_music), "--genre", "hiphop", "--steps", "2"]
    res = CliRunner().invoke(main, [*args, "--ckpt", str(evil_ckpt), "--out", str(tmp_path / "a.npz")])
    assert res.exit_code == 2 and str(evil_ckpt) in res.output and SYSTEM in res.output
    assert "Traceback" not in res.output and not marker.exists()

    good = tmp_path / "good.pt"
    tiny_checkpoint(good)
    evil_ref = tmp_path / "ref.pkl"
    evil_ref.write_bytes(pickle.dumps({"smpl_poses": Marker(marker), "smpl_trans": np.zeros((2, 3))}))
    res = CliRunner().invoke(main, [*args, "--ckpt", str(good), "--out", str(tmp_path / "b.npz"),
                                    "--edit", "trajectory", "--reference", str(evil_ref)])  # fmt: skip
    assert res.exit_code == 2 and str(evil_ref) in res.output and SYSTEM in res.output
    assert not marker.exists() and not (tmp_path / "b.npz").exists()
