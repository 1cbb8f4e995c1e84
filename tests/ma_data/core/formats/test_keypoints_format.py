"""KeypointTrack: validation, official JSON and npz round trips, and one-line errors on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ma_data.core.errors import FormatError
from ma_data.core.formats.keypoints import (
    FLIP_PERMUTATION,
    JOINT_INDEX,
    JOINT_NAMES,
    NUM_JOINTS,
    SKELETON_EDGES,
    KeypointTrack,
    load_npz,
    read_official_array,
    read_official_json,
    save_npz,
    write_official_json,
)
from tests.helpers.errors import one_line_error


def _track(t: int = 6, missed: tuple[int, ...] = (2,), seed: int = 0) -> KeypointTrack:
    rng = np.random.default_rng(seed)
    data = np.zeros((t, 25, 3), np.float32)
    data[..., 0] = rng.uniform(0, 640, (t, 25))
    data[..., 1] = rng.uniform(0, 480, (t, 25))
    data[..., 2] = rng.uniform(0.1, 1, (t, 25))
    data[list(missed)] = 0
    return KeypointTrack(data, fps=16.0, width=640, height=480, extractor="test", source_sha256="ab" * 32)


def test_joint_tables_are_consistent():
    assert NUM_JOINTS == 25 and len(set(JOINT_NAMES)) == 25
    assert JOINT_NAMES[5] == "neck" and JOINT_NAMES[14] == "hip" and JOINT_NAMES[24] == "right_heel"
    assert all(0 <= a < 25 and 0 <= b < 25 for a, b in SKELETON_EDGES)
    # every joint is on at least one bone (the skeleton is connected enough to draw)
    assert {j for e in SKELETON_EDGES for j in e} == set(range(25))
    flip = np.array(FLIP_PERMUTATION)
    assert (flip[flip] == np.arange(25)).all()
    assert flip[JOINT_INDEX["left_wrist"]] == JOINT_INDEX["right_wrist"]
    assert flip[JOINT_INDEX["neck"]] == JOINT_INDEX["neck"]


def test_mask_defaults_to_nonzero_rows_and_masked_rows_are_zeroed():
    tr = _track(missed=(1, 3))
    assert tr.mask.tolist() == [True, False, True, False, True, True]
    assert tr.data.dtype == np.float32
    data = np.ones((3, 25, 3), np.float32)
    tr2 = KeypointTrack(data, mask=np.array([True, False, True]))
    assert (tr2.data[1] == 0).all() and (tr2.data[0] == 1).all()


def test_filled_data_interpolates_missed_frames():
    data = np.zeros((4, 25, 3), np.float32)
    data[0, :, 0] = 10
    data[3, :, 0] = 40
    data[[0, 3], :, 2] = 1
    tr = KeypointTrack(data)
    filled = tr.filled_data()
    np.testing.assert_allclose(filled[:, 0, 0], [10, 20, 30, 40])
    assert tr.mask.tolist() == [True, False, False, True]  # unchanged


def test_official_json_roundtrip_swaps_to_row_column_order(tmp_path):
    tr = _track()
    path = tmp_path / "clip.json"
    write_official_json(path, tr)
    doc = json.loads(path.read_text())
    assert set(doc) >= {"video_name", "fps", "total_frames", "skeleton", "keypoints"}
    assert doc["total_frames"] == 6 and doc["skeleton"]["5"] == "neck"
    # official layout is (y, x, conf): easy_ViTPose returns row/column order
    first = np.array(doc["keypoints"][0])
    np.testing.assert_allclose(first[:, 0], tr.data[0, :, 1], rtol=1e-6)
    np.testing.assert_allclose(first[:, 1], tr.data[0, :, 0], rtol=1e-6)
    assert doc["keypoints"][2] == [[0.0, 0.0, 0.0]] * 25

    back = read_official_json(path)
    np.testing.assert_array_equal(back.data, tr.data)
    np.testing.assert_array_equal(back.mask, tr.mask)
    assert (back.fps, back.width, back.height, back.source_sha256) == (16.0, 640, 480, "ab" * 32)

    raw = read_official_array(path)
    assert raw.dtype == np.float64
    np.testing.assert_array_equal(raw, tr.to_official_array())


def test_official_json_written_by_official_tool(tmp_path):
    """A file as extract_ViTPose.py writes it: (y, x, c) rows, zero rows for misses, float64 values."""
    kps = [[[100.25, 50.5, 0.9]] * 25, [[0, 0, 0]] * 25]
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"video_name": "x.mp4", "fps": 16.0, "total_frames": 2, "keypoints": kps}))
    tr = read_official_json(path)
    assert tr.data[0, 0].tolist() == [50.5, 100.25, pytest.approx(0.9)]
    assert tr.mask.tolist() == [True, False]
    assert tr.fps == 16.0 and tr.width is None
    assert read_official_array(path)[0, 0, 2] == 0.9  # float64 kept exactly
    xy = read_official_json(path, layout="xyc")
    assert xy.data[0, 0, 0] == 100.25


def test_npz_roundtrip(tmp_path):
    tr = _track(missed=(0, 5))
    tr.meta["note"] = "hello"
    path = tmp_path / "t.npz"
    save_npz(path, tr)
    back = load_npz(path)
    np.testing.assert_array_equal(back.data, tr.data)
    np.testing.assert_array_equal(back.mask, tr.mask)
    assert back.metadata() == tr.metadata()


@pytest.mark.parametrize(
    "content, needle",
    [
        ('{"keypoints": [[[1, 2, 3]]', "invalid or truncated JSON"),
        ("", "invalid or truncated JSON"),
        ('{"kps": []}', "missing key 'keypoints'"),
        ("[1, 2]", "expected a JSON object"),
        ('{"keypoints": [[[1, 2, 3]]]}', "shape (T, 25, 3)"),
        ('{"keypoints": [[[1, 2]] ]}', "shape (T, 25, 3)"),
        ('{"keypoints": []}', "shape (T, 25, 3)"),
        ('{"keypoints": [[[1, 2, 3], [1, 2]]]}', "keypoints"),
        ('{"keypoints": "abc"}', "must be numeric"),
    ],
)
def test_bad_json_gives_one_line_error_naming_file(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    one_line_error(lambda: read_official_json(path), path, needle)


def test_nan_and_inf_rejected(tmp_path):
    arr = np.ones((3, 25, 3))
    arr[1, 4, 0] = np.nan
    path = tmp_path / "nan.json"
    path.write_text(json.dumps({"keypoints": arr.tolist()}))  # json writes NaN literally
    with pytest.raises(FormatError, match=r"NaN/inf \(first at frame 1, joint 4"):
        read_official_array(path)
    with pytest.raises(FormatError, match="NaN/inf"):
        KeypointTrack(np.full((2, 25, 3), np.inf, np.float32))


def test_missing_file_and_bad_npz(tmp_path):
    with pytest.raises(FormatError, match="file not found"):
        read_official_json(tmp_path / "nope.json")
    with pytest.raises(FormatError, match="file not found"):
        load_npz(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(FormatError, match="unreadable npz"):
        load_npz(bad)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(FormatError, match="not a keypoint npz"):
        load_npz(other)
    # a truncated valid file
    good = tmp_path / "good.npz"
    save_npz(good, _track())
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(FormatError, match=str(trunc)):
        load_npz(trunc)


def test_track_rejects_bad_metadata():
    ok = np.zeros((2, 25, 3), np.float32)
    with pytest.raises(FormatError, match="fps"):
        KeypointTrack(ok, fps=0)
    with pytest.raises(FormatError, match="mask"):
        KeypointTrack(ok, mask=np.ones(3, bool))
    with pytest.raises(FormatError, match="shape"):
        KeypointTrack(np.zeros((2, 17, 3)))
