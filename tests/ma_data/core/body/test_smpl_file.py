"""SMPL model files are data: sparse regressors and chumpy arrays become numpy, anything else is refused."""

from __future__ import annotations

import copyreg
import pickle
import sys
import types

import numpy as np
import pytest
import scipy.sparse as sp

from ma_data.core.body.smpl_file import find_smpl_model, read_smpl_model
from ma_data.core.errors import FormatError
from tests.helpers.hostile import SYSTEM, Marker


class _Ch:
    """Pickles like chumpy's ``Ch``: class ``chumpy.ch.Ch``, state = its ``__dict__`` with the value in ``x``."""

    def __init__(self, x):
        self.x = x
        self.label = None
        self._dirty_vars = set()


@pytest.fixture
def chumpy_module(monkeypatch):
    """A stand-in ``chumpy.ch`` module so pickle can name ``chumpy.ch.Ch`` while writing the test file."""
    module = types.ModuleType("chumpy.ch")
    _Ch.__module__, _Ch.__qualname__ = "chumpy.ch", "Ch"
    module.Ch = _Ch
    monkeypatch.setitem(sys.modules, "chumpy", types.ModuleType("chumpy"))
    monkeypatch.setitem(sys.modules, "chumpy.ch", module)
    yield _Ch


def _model(n: int = 12) -> dict:
    rng = np.random.default_rng(0)
    return {
        "v_template": rng.normal(size=(n, 3)),
        "f": np.arange(3 * (n - 2), dtype=np.uint32).reshape(-1, 3) % n,
        "weights": np.eye(24)[np.arange(n) % 24],
        "J_regressor": np.eye(24, n)[:, ::-1].copy(),
        "shapedirs": rng.normal(size=(n, 3, 10)),
        "posedirs": rng.normal(size=(n, 3, 207)),
        "kintree_table": np.array([[2**32 - 1, *range(23)], list(range(24))], dtype=np.int64),
        "bs_style": "lbs",
    }


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_released_layout_reads_as_plain_arrays(tmp_path, chumpy_module, protocol):
    plain = _model()
    released = dict(plain)
    released["J_regressor"] = sp.csc_matrix(plain["J_regressor"])  # as in the released files
    released["J_regressor_prior"] = sp.csr_matrix(plain["J_regressor"][:, :5])
    released["shapedirs"] = chumpy_module(plain["shapedirs"])
    released["extra"] = [chumpy_module(plain["weights"])]
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(released, protocol=protocol))

    got = read_smpl_model(path)
    assert type(got["J_regressor"]) is np.ndarray and np.array_equal(got["J_regressor"], plain["J_regressor"])
    assert np.array_equal(got["J_regressor_prior"], plain["J_regressor"][:, :5])
    assert np.array_equal(got["shapedirs"], plain["shapedirs"]) and np.array_equal(
        got["extra"][0], plain["weights"]
    )
    assert got["bs_style"] == "lbs" and np.array_equal(got["f"], plain["f"])


def test_sparse_duplicates_sum_like_scipy(tmp_path):
    m = sp.csc_matrix((np.array([1.0, 2.0, 4.0]), np.array([0, 0, 1]), np.array([0, 2, 3])), shape=(2, 2))
    plain = _model() | {"J_regressor": m}
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(plain, protocol=2))
    assert read_smpl_model(path)["J_regressor"].tolist() == [[3.0, 0.0], [0.0, 4.0]]


def test_code_in_a_model_file_never_runs(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(_model() | {"weights": Marker(marker)}, protocol=2))
    with pytest.raises(FormatError, match=SYSTEM) as err:
        read_smpl_model(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"_shape": (2, 2), "data": np.ones(1), "indices": np.array([5]), "indptr": np.array([0, 1, 1])}, "inconsistent"),
        ({"_shape": (2, 2), "data": np.ones(1), "indices": np.array([0]), "indptr": np.array([0, 2, 1])}, "inconsistent"),
        ({"_shape": (10**5, 10**5), "data": np.ones(0), "indices": np.zeros(0, int), "indptr": np.zeros(10**5 + 1, int)}, "too large"),
        ({"_shape": "x"}, "bad shape"),
        ([1, 2], "without a state dict"),
    ],
)  # fmt: skip
def test_damaged_sparse_matrix_is_a_one_line_error(tmp_path, monkeypatch, state, message):
    class Damaged:  # pickles as a scipy csc_matrix whose state is ``state``
        def __reduce_ex__(self, protocol):
            return copyreg.__newobj__, (Damaged,), state

    Damaged.__module__, Damaged.__qualname__ = "scipy.sparse._csc", "csc_matrix"
    monkeypatch.setattr(sys.modules["scipy.sparse._csc"], "csc_matrix", Damaged)
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(_model() | {"J_regressor": Damaged()}, protocol=2))
    with pytest.raises(FormatError, match=message) as err:
        read_smpl_model(path)
    assert str(path) in str(err.value)


def test_missing_arrays_and_pickled_npz_are_refused(tmp_path):
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps({k: v for k, v in _model().items() if k != "posedirs"}))
    with pytest.raises(FormatError, match="no array posedirs"):
        read_smpl_model(path)
    npz = tmp_path / "SMPL_NEUTRAL.npz"
    np.savez(npz, **(_model() | {"weights": np.array([Marker(tmp_path / "ran")], dtype=object)}))
    with pytest.raises(FormatError, match="SMPL_NEUTRAL.npz"):
        read_smpl_model(npz)
    assert not (tmp_path / "ran").exists()
    np.savez(npz, **{k: v for k, v in _model().items() if k != "bs_style"})
    assert np.array_equal(read_smpl_model(npz)["posedirs"], _model()["posedirs"])


def test_find_smpl_model_follows_smplx_layout(tmp_path):
    assert find_smpl_model(tmp_path) is None
    (tmp_path / "smpl").mkdir()
    (tmp_path / "SMPL_NEUTRAL.npz").write_bytes(b"")
    assert find_smpl_model(tmp_path) == tmp_path / "SMPL_NEUTRAL.npz"
    (tmp_path / "smpl" / "SMPL_NEUTRAL.pkl").write_bytes(b"")
    assert find_smpl_model(tmp_path) == tmp_path / "smpl" / "SMPL_NEUTRAL.pkl"
