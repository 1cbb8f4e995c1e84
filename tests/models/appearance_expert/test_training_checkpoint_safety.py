"""Appearance-Expert training checkpoints: written weights-only loadable, older numpy-RNG ones still load, and a
hostile ``optimizer.pt`` never runs."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ma_data.core.errors import FormatError
from models.appearance_expert.training import TrainConfig, load_checkpoint, save_checkpoint
from models.ema import EMA
from tests.helpers.hostile import SYSTEM, Marker


def _setup():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    ema = EMA(dict(model.named_parameters()), 0.9)
    return model, opt, ema


def test_checkpoint_restores_rng_and_loads_weights_only(tmp_path):
    model, opt, ema = _setup()
    cfg = TrainConfig(stage="kinematic", manifest="m.parquet", output_dir=str(tmp_path))
    random.seed(1), np.random.seed(2), torch.manual_seed(3)  # noqa: NPY002
    ckpt = save_checkpoint(tmp_path, 7, model, opt, ema, cfg)
    expected = (random.random(), np.random.random(), torch.rand(1).item())  # noqa: NPY002
    torch.load(ckpt / "optimizer.pt", weights_only=True)  # torch's own allowlist: no numpy objects inside
    random.seed(9), np.random.seed(9), torch.manual_seed(9)  # noqa: NPY002
    assert load_checkpoint(ckpt, *_setup()) == 7
    assert (random.random(), np.random.random(), torch.rand(1).item()) == expected  # noqa: NPY002


def test_checkpoint_of_the_previous_format_still_loads(tmp_path):
    """Before, the numpy RNG state was pickled as numpy's own tuple (ndarray inside)."""
    model, opt, ema = _setup()
    cfg = TrainConfig(stage="kinematic", manifest="m.parquet", output_dir=str(tmp_path))
    ckpt = save_checkpoint(tmp_path, 3, model, opt, ema, cfg)
    np.random.seed(5)  # noqa: NPY002
    legacy = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    torch.save({"optimizer": opt.state_dict(), "rng": legacy}, ckpt / "optimizer.pt")
    np.random.seed(0)  # noqa: NPY002
    assert load_checkpoint(ckpt, *_setup()) == 3
    assert np.random.random() == expected  # noqa: NPY002


def test_hostile_optimizer_file_never_runs(tmp_path):
    model, opt, ema = _setup()
    cfg = TrainConfig(stage="kinematic", manifest="m.parquet", output_dir=str(tmp_path))
    ckpt = save_checkpoint(tmp_path, 1, model, opt, ema, cfg)
    marker = tmp_path / "pwned"
    torch.save({"optimizer": opt.state_dict(), "rng": Marker(marker)}, ckpt / "optimizer.pt")
    with pytest.raises(FormatError) as err:
        load_checkpoint(ckpt, *_setup())
    assert str(ckpt / "optimizer.pt") in str(err.value) and SYSTEM in str(err.value)
    assert not marker.exists()
