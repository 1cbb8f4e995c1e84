"""``read_beat_vector``: a bad beat file is a one-line FormatError naming it, never a crash or a pickle load."""

from __future__ import annotations

import io

import numpy as np
import pytest

from benchmark.motion.inputs3d import read_beat_vector
from ma_data.core.errors import FormatError
from tests.helpers.hostile import Marker


def _npy(arr, allow_pickle=False) -> bytes:
    fh = io.BytesIO()
    np.save(fh, arr, allow_pickle=allow_pickle)
    return fh.getvalue()


GOOD = _npy(np.array([0, 1, 0, 0, 1], np.float32))
MALFORMED = {
    "strings": _npy(np.array(["a", "b", "c"])),
    "bytes": _npy(np.array([b"a", b"b"])),
    "complex": _npy(np.zeros(4, complex)),
    "object": _npy(np.array([1, None], dtype=object), allow_pickle=True),
    "nan": _npy(np.array([0.0, np.nan])),
    "inf": _npy(np.array([0.0, np.inf])),
    "matrix": _npy(np.zeros((4, 3))),
    "cube": _npy(np.zeros((4, 1, 1))),
    "empty": b"",
    "truncated": GOOD[:-3],
    "text": b"0 1 0 1\n",
    "npz": b"PK\x03\x04" + b"\x00" * 40,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_beat_files_are_format_errors(tmp_path, name):
    path = tmp_path / f"{name}.npy"
    path.write_bytes(MALFORMED[name])
    with pytest.raises(FormatError) as err:
        read_beat_vector(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg


def test_pickled_beat_file_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npy"
    path.write_bytes(_npy(np.array([Marker(marker)], dtype=object), allow_pickle=True))
    with pytest.raises(FormatError, match="evil.npy"):
        read_beat_vector(path)
    assert not marker.exists()


def test_good_layouts_still_read(tmp_path):
    (tmp_path / "a.npy").write_bytes(GOOD)
    assert read_beat_vector(tmp_path / "a.npy").tolist() == [0, 1, 0, 0, 1]
    feats = np.zeros((5, 35))
    feats[[1, 4], 34] = 1
    np.save(tmp_path / "b.npy", feats)
    assert read_beat_vector(tmp_path / "b.npy").tolist() == [0, 1, 0, 0, 1]
    np.save(tmp_path / "c.npy", np.array([[True], [False]]))
    assert read_beat_vector(tmp_path / "c.npy").tolist() == [True, False]
