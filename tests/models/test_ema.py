"""The one EMA both experts use: closed-form averages, integer buffers copied, state round trip."""

import pytest
import torch

from ma_data.core.errors import ConfigError
from models.ema import EMA


def test_average_matches_the_closed_form_and_copies_integer_buffers():
    model = torch.nn.BatchNorm1d(3)  # float weight/bias/running stats + an integer num_batches_tracked
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(3.0)  # shadow starts at 1: 0.5 * 1 + 0.5 * 3 = 2, then 0.5 * 2 + 0.5 * 3 = 2.5
    model.num_batches_tracked.fill_(7)
    ema.update(model)
    ema.update(model)
    assert torch.equal(ema.state_dict()["weight"], torch.full((3,), 2.5))
    assert int(ema.state_dict()["num_batches_tracked"]) == 7


def test_half_precision_weights_get_float32_shadows_and_copy_back():
    p = {"w": torch.nn.Parameter(torch.ones(4, dtype=torch.bfloat16))}
    ema = EMA(p, decay=0.999)
    assert ema.shadow["w"].dtype == torch.float32
    with torch.no_grad():
        p["w"].fill_(2.0)
    ema.update(p)  # 1 + 0.001: lost in bf16, kept in the float32 shadow
    assert float(ema.shadow["w"][0]) == pytest.approx(1.001, abs=1e-6)
    ema.copy_to(p)
    assert p["w"].dtype == torch.bfloat16


def test_state_round_trip_and_mismatch():
    model = torch.nn.Linear(2, 2)
    ema = EMA(model, 0.9)
    other = EMA(torch.nn.Linear(2, 2), 0.9)
    other.load_state_dict(ema.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ema.shadow.values(), other.shadow.values(), strict=True))
    with pytest.raises(ConfigError, match="does not match"):
        other.load_state_dict({"weight": torch.zeros(2, 2)})
    with pytest.raises(ConfigError, match="decay"):
        EMA(model, 1.0)
