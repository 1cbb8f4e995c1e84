"""Keypoint files from others: every malformed variant is a one-line FormatError naming the file, never a crash."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest

from ma_data.core.errors import FormatError, MediaError
from ma_data.core.formats.keypoints import (
    KeypointTrack,
    load_npz,
    read_official_array,
    read_official_array_with_fps,
    read_official_json,
    save_npz,
)
from tests.helpers.errors import one_line_error
from tests.helpers.hostile import Marker

FRAME = [[1.0, 2.0, 0.5]] * 25
GOOD_JSON = {"keypoints": [FRAME, FRAME], "fps": 30}


def _json(doc) -> bytes:
    return json.dumps(doc).encode()


def _ours(**mace_dance) -> bytes:
    return _json({**GOOD_JSON, "mace_dance": mace_dance})


MALFORMED_JSON = {
    "deep": b'{"keypoints": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep_no_key": b"[" * 100_000 + b"]" * 100_000,
    "huge_int": b'{"keypoints": [[[' + b"9" * 5000 + b", 1, 1]]]}",
    "empty": b"",
    "truncated": _json(GOOD_JSON)[:-20],
    "not_utf8": b'{"keypoints": "\xff\xfe"}',
    "utf16": json.dumps(GOOD_JSON).encode("utf-16"),
    "list_top": _json([1, 2, 3]),
    "string_top": _json("keypoints"),
    "no_key": _json({"kp": []}),
    "kp_string": _json({"keypoints": "abc"}),
    "kp_dict": _json({"keypoints": {"0": FRAME}}),
    "kp_null": _json({"keypoints": None}),
    "kp_ragged": _json({"keypoints": [FRAME, FRAME[:3]]}),
    "kp_strings": _json({"keypoints": [[["a", "b", "c"]] * 25]}),
    "kp_bools": _json({"keypoints": [[[True, False, True]] * 25]}),
    "kp_nan": b'{"keypoints": [[[NaN, 1, 1]' + b", [1, 1, 1]" * 24 + b"]]}",
    "kp_inf": b'{"keypoints": [[[1e999, 1, 1]' + b", [1, 1, 1]" * 24 + b"]]}",
    "kp_empty": _json({"keypoints": []}),
    "kp_wrong_joints": _json({"keypoints": [FRAME[:17]]}),
    "mask_number": _ours(mask=5),
    "mask_strings": _ours(mask=["a", "b"]),
    "mask_long": _ours(mask=[1, 1, 1]),
    "mask_twos": _ours(mask=[2, 2]),
    "width_string": _ours(width="wide"),
    "width_list": _ours(width=[640]),
    "width_negative": _ours(width=-640),
    "width_fraction": _ours(width=640.5),
    "height_bool": _ours(height=True),
    "extractor_number": _ours(extractor=3),
    "weights_hash_dict": _ours(weights_hash={"a": 1}),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_JSON))
@pytest.mark.parametrize("reader", [read_official_json, read_official_array, read_official_array_with_fps])
def test_malformed_keypoint_json_is_a_format_error(tmp_path, name, reader):
    path = tmp_path / f"{name}.json"
    path.write_bytes(MALFORMED_JSON[name])
    if reader is not read_official_json and name.startswith(
        ("mask", "width", "height", "extractor", "weights")
    ):
        reader(path)  # the official readers ignore our metadata block, as the official script does
        return
    with pytest.raises((FormatError, MediaError)) as err:
        reader(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg and len(msg) < 300 + len(str(path))


def test_json_fps_of_the_wrong_type_is_ignored_like_the_official_script(tmp_path):
    for fps in ('"30"', "true", "[30]", "-5", "NaN", "1e999"):
        path = tmp_path / "a.json"
        path.write_text('{"keypoints": [' + json.dumps(FRAME) + '], "fps": ' + fps + "}")
        assert read_official_array_with_fps(path)[1] is None
        assert read_official_json(path).fps is None


def _npz(**arrays) -> bytes:
    fh = io.BytesIO()
    np.savez(fh, **arrays)
    return fh.getvalue()


def _meta(**fields) -> np.ndarray:
    meta = {"format": "mace-dance/keypoints", "version": 1, **fields}
    return np.frombuffer(json.dumps(meta).encode(), np.uint8)


DATA, MASK = np.ones((2, 25, 3), np.float32), np.ones(2, bool)


def _good(**fields) -> bytes:
    return _npz(data=DATA, mask=MASK, metadata=_meta(**fields))


MALFORMED_NPZ = {
    "empty": b"",
    "truncated": _good()[:100],
    "not_zip": b"PK\x05\x06" + b"\x00" * 18,
    "fps_string": _good(fps="thirty"),
    "fps_list": _good(fps=[30]),
    "fps_bool": _good(fps=True),
    "fps_zero": _good(fps=0),
    "fps_huge_int": _npz(
        data=DATA,
        mask=MASK,
        metadata=np.frombuffer(b'{"format": "mace-dance/keypoints", "fps": 1' + b"0" * 400 + b"}", np.uint8),
    ),  # fmt: skip
    "width_string": _good(width="640"),
    "width_dict": _good(width={"px": 640}),
    "height_float": _good(height=480.5),
    "extractor_list": _good(extractor=["a"]),
    "meta_list": _good(meta=[1, 2]),
    "metadata_list": _npz(data=DATA, mask=MASK, metadata=np.frombuffer(b"[1, 2]", np.uint8)),
    "metadata_not_utf8": _npz(data=DATA, mask=MASK, metadata=np.frombuffer(b"\xff\xfe\xfd", np.uint8)),
    "metadata_float": _npz(data=DATA, mask=MASK, metadata=np.ones(3)),
    "metadata_2d": _npz(data=DATA, mask=MASK, metadata=np.ones((2, 2), np.uint8)),
    "metadata_deep": _npz(
        data=DATA, mask=MASK, metadata=np.frombuffer(b"[" * 100_000 + b"]" * 100_000, np.uint8)
    ),
    "metadata_object": _npz(
        data=DATA, mask=MASK, metadata=np.array([Marker("/nonexistent/x")], dtype=object)
    ),
    "wrong_format": _npz(data=DATA, mask=MASK, metadata=np.frombuffer(b'{"format": "other"}', np.uint8)),
    "missing_mask": _npz(data=DATA, metadata=_meta()),
    "data_strings": _npz(data=np.full((2, 25, 3), "x"), mask=MASK, metadata=_meta()),
    "data_shape": _npz(data=np.ones((2, 17, 3)), mask=MASK, metadata=_meta()),
    "data_nan": _npz(data=np.full((2, 25, 3), np.nan), mask=MASK, metadata=_meta()),
    "mask_strings": _npz(data=DATA, mask=np.array(["yes", "no"]), metadata=_meta()),
    "mask_floats": _npz(data=DATA, mask=np.array([0.5, 1.0]), metadata=_meta()),
    "mask_short": _npz(data=DATA, mask=np.ones(1, bool), metadata=_meta()),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_NPZ))
def test_malformed_keypoint_npz_is_a_format_error(tmp_path, name):
    path = tmp_path / f"{name}.npz"
    path.write_bytes(MALFORMED_NPZ[name])
    one_line_error(lambda: load_npz(path), path, errors=(FormatError, MediaError), max_extra=300)


def test_npz_with_a_pickled_member_does_not_run_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    path.write_bytes(_npz(data=DATA, mask=MASK, metadata=np.array([Marker(marker)], dtype=object)))
    with pytest.raises(FormatError, match="evil.npz"):
        load_npz(path)
    assert not marker.exists()
    assert pickle  # the payload above is a real pickle inside the npz member


def test_good_npz_still_loads_with_integral_sizes(tmp_path):
    path = tmp_path / "ok.npz"
    save_npz(path, KeypointTrack(DATA, fps=25, width=640.0, height=480))
    track = load_npz(path)
    assert (track.fps, track.width, track.height) == (25.0, 640, 480) and isinstance(track.width, int)


def test_track_fields_of_the_wrong_type_are_format_errors():
    with pytest.raises(FormatError, match="fps"):
        KeypointTrack(DATA, fps="30")
    with pytest.raises(FormatError, match="width"):
        KeypointTrack(DATA, width=[640])
    with pytest.raises(FormatError, match="height"):
        KeypointTrack(DATA, height=True)
