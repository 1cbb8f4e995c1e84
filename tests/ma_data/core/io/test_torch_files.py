"""``load_torch_file``: torch.load(weights_only=True), checked numpy values on request, one-line errors."""

from __future__ import annotations

import collections
import os
import random

import numpy as np
import pytest
import torch

from ma_data.core.errors import FormatError
from ma_data.core.io.torch_files import load_torch_file


class Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_hostile_checkpoint_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {"w": torch.zeros(2)}, "x": Marker(marker)}, path)
    for allow_numpy in (False, True):
        with pytest.raises(FormatError) as err:
            load_torch_file(path, allow_numpy=allow_numpy)
        msg = str(err.value)
        assert msg.startswith(f"{path}: ") and f"{os.system.__module__}.system" in msg and "\n" not in msg
    assert not marker.exists()


def test_numpy_values_only_on_request(tmp_path):
    path = tmp_path / "rng.pt"
    state = {"numpy": np.random.default_rng(0).bit_generator.state, "legacy": np.random.get_state()}  # noqa: NPY002
    py = random.Random(3).getstate()
    torch.save({**state, "py": py, "f": np.float64(1.5), "t": torch.ones(3)}, path)
    with pytest.raises(FormatError, match="rng.pt: .*numpy"):
        load_torch_file(path)
    got = load_torch_file(path, allow_numpy=True)
    assert got["legacy"][0] == "MT19937" and (got["legacy"][1] == state["legacy"][1]).all()
    assert got["f"] == 1.5 and got["py"] == py and got["numpy"] == state["numpy"]


def test_classes_map_named_globals_onto_data_holders(tmp_path):
    import typing

    path = tmp_path / "amt.pth"
    torch.save({"state_dict": collections.OrderedDict(w=torch.ones(1)), "kind": typing.OrderedDict}, path)
    with pytest.raises(FormatError, match="typing.OrderedDict"):
        load_torch_file(path)
    got = load_torch_file(path, classes={"typing.OrderedDict": collections.OrderedDict})
    assert got["kind"] is collections.OrderedDict and torch.equal(got["state_dict"]["w"], torch.ones(1))


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04garbage"])
def test_corrupt_files_are_one_line_errors(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(FormatError) as err:
        load_torch_file(path)
    assert str(err.value).startswith(f"{path}: cannot load checkpoint") and "\n" not in str(err.value)
    with pytest.raises(FormatError, match="file not found"):
        load_torch_file(tmp_path / "missing.pt")
