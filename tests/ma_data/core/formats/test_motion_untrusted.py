"""Motion files from others: pickles never run code, and every malformed file is a one-line FormatError."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from ma_data.core.errors import FormatError, MediaError
from ma_data.core.formats.motion import Motion, load_motion, read_motion_npz, read_motion_pickle
from tests.helpers.errors import one_line_error
from tests.helpers.hostile import SYSTEM, Marker


@pytest.mark.parametrize("name", ["evil.pkl", "evil.pickle", "evil.npy"])
def test_hostile_motion_pickles_do_not_run(tmp_path, name):
    marker = tmp_path / "pwned"
    path = tmp_path / name
    payload = {"smpl_poses": Marker(marker), "smpl_trans": np.zeros((2, 3))}
    if name.endswith(".npy"):  # Bailando-style np.save of a dict
        np.save(path, payload, allow_pickle=True)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(FormatError) as err:
        load_motion(path)
    assert not marker.exists()
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and SYSTEM in msg and "\n" not in msg


def test_safe_pickles_still_read(tmp_path):
    T = 5
    poses, trans = np.zeros((T, 72)), np.zeros((T, 3))
    (tmp_path / "a.pkl").write_bytes(pickle.dumps({"smpl_poses": poses, "smpl_trans": trans}, protocol=2))
    assert read_motion_pickle(tmp_path / "a.pkl").n_frames == T
    # AIST++ annotations hold a numpy scalar loss next to the arrays
    aist = {
        "smpl_poses": poses,
        "smpl_trans": trans,
        "smpl_scaling": np.array([2.0]),
        "smpl_loss": np.float64(1),
    }
    (tmp_path / "b.pkl").write_bytes(pickle.dumps(aist, protocol=4))
    assert load_motion(tmp_path / "b.pkl").fps == 60.0
    # Bailando writes np.save(dict) under a .pkl name
    with open(tmp_path / "c.pkl", "wb") as fh:
        np.save(fh, {"pred_position": np.ones((T, 72))}, allow_pickle=True)
    assert load_motion(tmp_path / "c.pkl").n_frames == T


def test_evaluate_3d_skips_a_hostile_pickle_without_running_it(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from benchmark.cli import main

    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")
    rng = np.random.default_rng(0)
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    for i in range(3):
        walk = np.cumsum(rng.normal(scale=0.01, size=(40, 24, 3)), axis=0) + rng.normal(size=(1, 24, 3))
        np.save(gt / f"{i}.npy", walk)
        np.save(pred / f"{i}.npy", walk + 0.01)
    marker = tmp_path / "pwned"
    (pred / "3.pkl").write_bytes(pickle.dumps({"full_pose": Marker(marker)}))
    res = CliRunner().invoke(main, ["evaluate-3d", "--gt", str(gt), "--pred", str(pred), "--n-boot", "0",
                                    "--out", str(tmp_path / "r.json")])  # fmt: skip
    assert not marker.exists()
    assert res.exit_code == 0, res.output
    skipped = {s["stem"]: s["reason"] for s in json.loads((tmp_path / "r.json").read_text())["skipped"]}
    assert "3.pkl" in skipped["pred:3"] and SYSTEM in skipped["pred:3"]


# --------------------------------------------------------------------------------- malformed files, fuzz-ish


def _npz(**arrays) -> bytes:
    fh = io.BytesIO()
    np.savez(fh, **arrays)
    return fh.getvalue()


def _npy(arr, allow_pickle=False) -> bytes:
    fh = io.BytesIO()
    np.save(fh, arr, allow_pickle=allow_pickle)
    return fh.getvalue()


def _npy_header(header: dict) -> bytes:
    fh = io.BytesIO()
    np.lib.format.write_array_header_1_0(fh, header)
    return fh.getvalue() + b"\x00" * 64


def _pkl(obj, protocol=4) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


GOOD_POSES, GOOD_TRANS = np.zeros((4, 24, 3)), np.zeros((4, 3))
GOOD_NPZ = _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.asarray(30.0), up_axis=np.asarray("y"))
GOOD_PKL = _pkl({"smpl_poses": np.zeros((4, 72)), "smpl_trans": GOOD_TRANS})
GOOD_NPY = _npy(np.zeros((4, 24, 3)))


def _deep_pickle(n: int) -> bytes:
    return b"\x80\x02}X\x0a\x00\x00\x00smpl_poses" + b"]" * n + b"a" * (n - 1) + b"s."


MALFORMED = {
    # .npz
    "empty.npz": b"",
    "truncated.npz": GOOD_NPZ[: len(GOOD_NPZ) // 2],
    "not_zip.npz": b"PK\x03\x04 not really a zip",
    "fps_str.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.asarray("thirty")),
    "fps_vec.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.arange(3.0)),
    "fps_nan.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.asarray(np.nan)),
    "fps_inf.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.asarray(np.inf)),
    "fps_neg.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.asarray(-30.0)),
    "fps_complex.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, fps=np.asarray(30 + 1j)),
    "up_int.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, up_axis=np.asarray(3)),
    "up_x.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, up_axis=np.asarray("x")),
    "up_vec.npz": _npz(poses=GOOD_POSES, trans=GOOD_TRANS, up_axis=np.asarray(["y", "z"])),
    "poses_str.npz": _npz(poses=np.full((4, 72), "a"), trans=GOOD_TRANS),
    "poses_bool.npz": _npz(poses=np.zeros((4, 72), bool), trans=GOOD_TRANS),
    "poses_shape.npz": _npz(poses=np.zeros((4, 70)), trans=GOOD_TRANS),
    "poses_nan.npz": _npz(poses=np.full((4, 72), np.nan), trans=GOOD_TRANS),
    "trans_inf.npz": _npz(poses=GOOD_POSES, trans=np.full((4, 3), np.inf)),
    "trans_short.npz": _npz(poses=GOOD_POSES, trans=np.zeros((3, 3))),
    "no_trans.npz": _npz(poses=GOOD_POSES),
    "joints_int.npz": _npz(joints=np.zeros((4, 24, 3), int)),
    "joints_empty.npz": _npz(joints=np.zeros((0, 24, 3))),
    "object.npz": _npz(poses=np.array([None, "x"], dtype=object), trans=GOOD_TRANS),
    "nothing.npz": _npz(x=np.zeros(3)),
    # .npy
    "empty.npy": b"",
    "truncated.npy": GOOD_NPY[: len(GOOD_NPY) - 7],
    "header_only.npy": GOOD_NPY[:128],
    "bad_magic.npy": b"\x93NUMPX" + GOOD_NPY[6:],
    "huge_shape.npy": _npy_header({"descr": "<f8", "fortran_order": False, "shape": (10**12, 24, 3)}),
    "bad_header.npy": GOOD_NPY.replace(b"(4, 24, 3)", b"(4, 24, 3}"),
    "strings.npy": _npy(np.full((4, 24, 3), "x")),
    "nan.npy": _npy(np.full((4, 24, 3), np.nan)),
    "complex.npy": _npy(np.zeros((4, 24, 3), complex)),
    "scalar.npy": _npy(np.float64(3.0)),
    "object_str.npy": _npy(np.array("a string", dtype=object), allow_pickle=True),
    "object_list.npy": _npy(np.array([1, "x", None], dtype=object), allow_pickle=True),
    "finedance_inf.npy": _npy(np.full((4, 315), np.inf)),
    "finedance_empty.npy": _npy(np.zeros((0, 315))),
    "not_utf8.npy": b"\x93NUMPY\x01\x00\x10\x00\xff\xfe{'descr'}   \n" + b"\x00" * 32,
    # .pkl
    "empty.pkl": b"",
    "truncated.pkl": GOOD_PKL[:-9],
    "text.pkl": "a text file, not a pickle \u00e9".encode("latin-1"),
    "string.pkl": _pkl("just a string"),
    "list.pkl": _pkl([1, 2, 3]),
    "none.pkl": _pkl(None),
    "poses_str.pkl": _pkl({"smpl_poses": "abc", "smpl_trans": GOOD_TRANS}),
    "poses_list_ragged.pkl": _pkl({"smpl_poses": [[1.0], [1.0, 2.0]], "smpl_trans": GOOD_TRANS}),
    "poses_nested_dict.pkl": _pkl({"smpl_poses": {"a": 1}, "smpl_trans": GOOD_TRANS}),
    "trans_none.pkl": _pkl({"smpl_poses": np.zeros((4, 72)), "smpl_trans": None}),
    "scaling_empty.pkl": _pkl(
        {"smpl_poses": np.zeros((4, 72)), "smpl_trans": GOOD_TRANS, "smpl_scaling": []}
    ),
    "scaling_str.pkl": _pkl({"smpl_poses": np.zeros((4, 72)), "smpl_trans": GOOD_TRANS, "smpl_scaling": "x"}),
    "scaling_zero.pkl": _pkl(
        {"smpl_poses": np.zeros((4, 72)), "smpl_trans": GOOD_TRANS, "smpl_scaling": 0.0}
    ),
    "full_pose_str.pkl": _pkl({"full_pose": np.full((4, 24, 3), "x")}),
    "pred_nan.pkl": _pkl({"pred_position": np.full((4, 72), np.nan)}),
    "q_pos_mismatch.pkl": _pkl({"q": np.zeros((4, 72)), "pos": np.zeros((5, 3))}),
    "unhashable_like_keys.pkl": _pkl({(1, 2): 3, "x\ny": 4}),
    "deep.pkl": _deep_pickle(100_000),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_motion_files_are_one_line_format_errors(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(MALFORMED[name])
    one_line_error(lambda: load_motion(path), path, errors=(FormatError, MediaError), max_extra=400)


def test_good_variants_of_the_fuzz_inputs_load(tmp_path):
    for name, data in (("good.npz", GOOD_NPZ), ("good.pkl", GOOD_PKL), ("good.npy", GOOD_NPY)):
        (tmp_path / name).write_bytes(data)
        assert load_motion(tmp_path / name).n_frames == 4


def test_npz_member_with_a_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("poses.npy", _npy(np.array([Marker(marker)], dtype=object), allow_pickle=True))
        zf.writestr("trans.npy", _npy(GOOD_TRANS))
    with pytest.raises(FormatError, match="evil.npz: cannot read .npz"):
        read_motion_npz(path)
    assert not marker.exists()


def test_motion_validates_its_fields():
    with pytest.raises(FormatError, match="fps must be a number"):
        Motion(GOOD_POSES, GOOD_TRANS, fps="30")
    with pytest.raises(FormatError, match="fps must be a positive finite number"):
        Motion(GOOD_POSES, GOOD_TRANS, fps=float("inf"))
    with pytest.raises(FormatError, match="poses must be numbers"):
        Motion(np.full((4, 24, 3), "a"), GOOD_TRANS)
