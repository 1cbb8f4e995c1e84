"""The restricted unpickler: numpy 1.x and 2.x pickles of plain data load; anything that could run code does not."""

from __future__ import annotations

import collections
import os
import pickle
import sys
import types

import numpy as np
import pytest

from ma_data.core.errors import FormatError
from ma_data.core.io import safe_pickle
from ma_data.core.io.safe_pickle import load_npy, load_pickle, loads_pickle
from tests.helpers.errors import one_line_error


def sample() -> dict:
    return {
        "smpl_poses": np.linspace(-1, 1, 12 * 72).reshape(12, 72),
        "smpl_trans": np.arange(36, dtype=np.float32).reshape(12, 3),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        "flags": np.array([True, False]),
        "names": np.array(["ab", "c"]),
        "record": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i2")]),
        "when": np.array(["2020-01-01"], dtype="M8[D]"),
        "loss": np.float64(0.25),
        "count": np.int64(7),
        "flag": np.bool_(True),
        "ordered": collections.OrderedDict(a=1, b=[1.5, None]),
        "set": {1, 2},
        "complex": 1 + 2j,
        "raw": b"\x00\xff",
        "empty": b"",
        "buffer": bytearray(b"xy"),
        "nested": ({"k": [1, 2, (3,)]},),
    }


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all()
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_numpy2_pickles_of_every_protocol_load(protocol):
    data = sample()
    got = loads_pickle(pickle.dumps(data, protocol=protocol))
    assert_same(data, got)
    assert got["smpl_poses"].flags.writeable  # readers may modify what they get


# numpy 1.x spells its reconstructors numpy.core.*; numpy 2 numpy._core.*. Protocols 0-2 name globals as text
# lines (any length); protocols 4-5 as length-prefixed strings inside length-prefixed frames, so the 1.x names
# are written through stand-in modules whose names have the same length, then renamed byte for byte.
_STANDINS = {"numpy.core.multiarraZ": "numpy.core.multiarray", "numpy.core.numeriZ": "numpy.core.numeric"}


def numpy1_pickle(obj, protocol: int, monkeypatch) -> bytes:
    if protocol <= 2:
        data = pickle.dumps(obj, protocol=protocol)
        assert b"numpy._core.multiarray" in data
        out = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
        return out.replace(b"numpy._core.numeric", b"numpy.core.numeric")
    from numpy._core import multiarray, numeric

    fakes = {}
    for standin, real in ((k, v) for k, v in _STANDINS.items()):
        mod = types.ModuleType(standin)
        source = multiarray if real.endswith("multiarray") else numeric
        for name in ("_reconstruct", "scalar", "_frombuffer"):
            if hasattr(source, name):
                fn = getattr(source, name)
                wrapper = lambda *a, _fn=fn: _fn(*a)  # noqa: E731
                wrapper.__module__, wrapper.__qualname__, wrapper.__name__ = standin, name, name
                setattr(mod, name, wrapper)
        monkeypatch.setitem(sys.modules, standin, mod)
        fakes[standin] = mod

    class Numpy1Pickler(pickle.Pickler):
        def reducer_override(self, o):
            if type(o) is np.ndarray:
                if protocol >= 5 and o.dtype.kind not in "OMm":  # as numpy: no buffers of objects or dates
                    order = "F" if o.flags.f_contiguous and not o.flags.c_contiguous else "C"
                    frombuffer = fakes["numpy.core.numeriZ"]._frombuffer
                    return frombuffer, (pickle.PickleBuffer(o), o.dtype, o.shape, order)
                _, args, state = o.__reduce__()
                return fakes["numpy.core.multiarraZ"]._reconstruct, args, state
            if isinstance(o, np.generic):
                _, args = o.__reduce__()
                return fakes["numpy.core.multiarraZ"].scalar, args
            return NotImplemented

    import io

    fh = io.BytesIO()
    Numpy1Pickler(fh, protocol=protocol).dump(obj)
    data = fh.getvalue()
    for standin, real in _STANDINS.items():
        data = data.replace(standin.encode(), real.encode())
    assert b"numpy.core.multiarray" in data and b"numpy._core" not in data
    return data


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_numpy1_pickles_load(protocol, monkeypatch):
    data = sample()
    raw = numpy1_pickle(data, protocol, monkeypatch)
    assert_same(data, loads_pickle(raw))


def test_object_npy_from_np_save(tmp_path):
    path = tmp_path / "bailando.npy"
    np.save(path, {"pred_position": np.ones((4, 72))}, allow_pickle=True)
    arr = load_npy(path)
    assert arr.dtype == object and arr.shape == ()
    assert_same(arr.item(), {"pred_position": np.ones((4, 72))})
    np.save(tmp_path / "plain.npy", np.arange(5.0))
    assert_same(load_npy(tmp_path / "plain.npy"), np.arange(5.0))


# ----------------------------------------------------------------------------------------------- hostile


class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class CallsEval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return eval, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("payload", [RunsShell, CallsEval])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_code_in_a_pickle_never_runs(tmp_path, payload, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"smpl_poses": payload(marker)}, protocol=protocol))
    with pytest.raises(FormatError) as err:
        load_pickle(path)
    msg = str(err.value)
    assert not marker.exists()
    assert str(path) in msg and "\n" not in msg
    assert (f"{os.system.__module__}.system'" if payload is RunsShell else "eval'") in msg


def test_hostile_npy_object_array_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npy"
    np.save(path, np.array([RunsShell(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(
        FormatError, match=f"evil.npy: refused to unpickle global '{os.system.__module__}.system'"
    ):
        load_npy(path)
    assert not marker.exists()


def _handmade(*ops: bytes) -> bytes:
    return b"\x80\x02" + b"".join(ops) + b"."


@pytest.mark.parametrize(
    "raw,expected",
    [
        # numpy's reconstructor asked for another subtype (a masked array class would run its own code)
        (
            _handmade(
                b"cnumpy.core.multiarray\n_reconstruct\n",
                b"ccollections\nOrderedDict\n",
                b"K\x00\x85C\x01b\x87R",
            ),
            "numpy _reconstruct of OrderedDict",
        ),
        (_handmade(b"cbuiltins\ngetattr\n"), "global 'builtins.getattr'"),
        (_handmade(b"c__builtin__\neval\n"), "global '__builtin__.eval'"),
        (_handmade(b"csubprocess\nPopen\n"), "global 'subprocess.Popen'"),
        (_handmade(b"ccopy_reg\n_reconstructor\n"), "global 'copy_reg._reconstructor'"),
        # _codecs.encode to something other than latin-1 bytes
        (
            _handmade(b"c_codecs\nencode\n", b"X\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R"),
            "_codecs.encode",
        ),
        # a numpy scalar of object dtype would hand back an arbitrary object
        (
            _handmade(
                b"cnumpy.core.multiarray\nscalar\n",
                b"cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R",
                b"N\x86R",
            ),
            "object dtype",
        ),
        (b"\x80\x02NQ.", "persistent id"),
        (b"\x80\x04\x95", "cannot unpickle"),  # truncated
        (b"", "cannot unpickle"),
        (b"\xff\xfe garbage", "cannot unpickle"),
    ],
)
def test_refused_pickles_are_one_line_format_errors(tmp_path, raw, expected):
    path = tmp_path / "x.pkl"
    path.write_bytes(raw)
    one_line_error(lambda: load_pickle(path), path, expected)


def test_nesting_and_shared_reference_bombs_are_refused(tmp_path):
    path = tmp_path / "deep.pkl"
    path.write_bytes(_deep_list(100_000))
    with pytest.raises(FormatError, match="deep.pkl: pickle nests containers deeper than"):
        load_pickle(path)
    laughs: list = [0.0]
    for _ in range(40):  # 2**40 references to one float if expanded
        laughs = [laughs, laughs]
    path = tmp_path / "laughs.pkl"
    path.write_bytes(pickle.dumps(laughs, protocol=4))
    with pytest.raises(FormatError, match="laughs.pkl: pickle holds more than"):
        load_pickle(path)


def _deep_list(n: int) -> bytes:
    """A pickle of ``n`` nested lists, written directly (pickle.dumps itself would recurse too deeply)."""
    return b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b"."


def test_limits_are_module_constants():
    assert safe_pickle.MAX_DEPTH >= 10 and safe_pickle.MAX_OBJECTS >= 10**6


def test_reference_cycles_are_refused(tmp_path):
    loop: list = [1.0]
    loop.append(loop)
    path = tmp_path / "loop.pkl"
    path.write_bytes(pickle.dumps({"q": loop}, protocol=2))
    with pytest.raises(FormatError, match="loop.pkl: pickle holds a reference cycle"):
        load_pickle(path)


def test_records_with_object_fields_are_walked_too():
    rec = np.zeros(2, dtype=[("x", "O"), ("y", "<f4")])
    rec["x"][0] = [1, [2]]
    assert loads_pickle(pickle.dumps({"r": rec}))["r"]["x"][0] == [1, [2]]
    loop: list = []
    loop.append(loop)
    rec["x"][1] = loop
    with pytest.raises(FormatError, match="reference cycle"):
        loads_pickle(pickle.dumps({"r": rec}), "rec.pkl")
