"""Every appearance weight loader reads with torch.load(weights_only=True): hostile files never run code."""

from __future__ import annotations

import typing

import pytest
import torch

from benchmark.appearance.amt import AmtS, load_amt
from benchmark.appearance.clip_dims import load_aesthetic_head
from benchmark.appearance.clip_models import load_clip_vision
from benchmark.appearance.dino import load_dino_state_dict
from benchmark.appearance.lpips import load_lpips
from benchmark.appearance.musiq import load_musiq
from ma_data.core.errors import FormatError
from ma_data.core.pose.vitpose_convert import load_vitpose
from tests.helpers.hostile import SYSTEM, Marker

LOADERS = {
    "dino": load_dino_state_dict,
    "amt": load_amt,
    "clip": load_clip_vision,
    "aesthetic": load_aesthetic_head,
    "musiq": load_musiq,
    "lpips": lambda p: load_lpips(p, p),
    "vitpose": load_vitpose,
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_hostile_weight_files_never_run(tmp_path, name):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{name}.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "teacher": Marker(marker), "x": Marker(marker)}, path)
    with pytest.raises(FormatError) as err:
        LOADERS[name](path)
    msg = str(err.value)
    assert str(path) in msg and SYSTEM in msg and "\n" not in msg
    assert not marker.exists()


def test_amt_release_layout_with_typing_ordereddict_loads(tmp_path):
    """The released amt-s.pth names typing.OrderedDict in its pickle (the Hub lists it among its imports)."""
    torch.manual_seed(0)
    sd = AmtS().state_dict()
    torch.save({"state_dict": sd, "dict_type": typing.OrderedDict}, tmp_path / "amt-s.pth")
    model = load_amt(tmp_path / "amt-s.pth")
    torch.testing.assert_close(model.state_dict()["comb_block.1.weight"], sd["comb_block.1.weight"])


def test_a_tampered_registered_weight_is_refused(tmp_path, monkeypatch):
    """A file in the cache under a registered name with a published hash must be that file."""
    from benchmark.appearance.amt import MotionSmoothness
    from ma_data.core import weights
    from ma_data.core.errors import WeightMismatchError

    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path))
    target = weights.weight_path("amt-s")
    target.parent.mkdir(parents=True)
    torch.save({"state_dict": AmtS().state_dict()}, target)  # loads fine, but is not the published file
    with pytest.raises(WeightMismatchError) as err:
        MotionSmoothness(device="cpu")
    msg = str(err.value)
    assert str(target) in msg and weights.get_spec("amt-s").sha256 in msg and "\n" not in msg
