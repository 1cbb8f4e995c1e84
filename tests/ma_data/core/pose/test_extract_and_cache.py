"""Batch extraction end to end (mp4 -> PyAV -> backend -> track), per-video failures, and the track cache."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from ma_data.core.errors import MaceError
from ma_data.core.formats.keypoints import JOINT_INDEX as J
from ma_data.core.formats.keypoints import KeypointTrack
from ma_data.core.io.video import write_video
from ma_data.core.pose.base import PoseBackend
from ma_data.core.pose.cache import TrackCache
from ma_data.core.pose.extract import extract_tracks
from ma_data.core.pose.registry import available_backends, get_backend


class CountingBackend(PoseBackend):
    """A deterministic fake: the 'keypoints' are the frame's mean colour, so frames map to known values."""

    name = "counting"
    version = "1"

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls = 0
        self.fail_on = fail_on

    @property
    def weights_hash(self) -> str:
        return "w" * 64

    def estimate(self, frames: Iterable[np.ndarray], fps, width, height, n_frames=None) -> KeypointTrack:
        self.calls += 1
        rows = []
        for f in frames:
            if self.fail_on is not None and f.mean() > 200:
                raise RuntimeError("boom\nsecond line")
            rows.append(np.full((25, 3), f.mean() / 255.0 + 0.01, np.float32))
        return KeypointTrack(np.stack(rows), fps=fps, width=width, height=height, extractor=self.name)


def _video(path, value: int, n: int = 4, size=(32, 48)):
    frames = [np.full((*size, 3), value, np.uint8) for _ in range(n)]
    return write_video(path, frames, fps=16)


def test_batch_records_failures_and_continues(tmp_path):
    good = _video(tmp_path / "good.mp4", 60)
    bright = _video(tmp_path / "bright.mp4", 250)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42 definitely not a video")
    videos = {"good": good, "bright": bright, "corrupt": corrupt, "missing": tmp_path / "missing.mp4"}
    backend = CountingBackend(fail_on="bright")
    tracks, errors = extract_tracks(videos, backend=backend, cache_root=tmp_path / "cache", progress=False)
    assert set(tracks) == {"good"} and set(errors) == {"bright", "corrupt", "missing"}
    assert "boom" in errors["bright"] and "\n" not in errors["bright"] and str(bright) in errors["bright"]
    assert str(corrupt) in errors["corrupt"]
    assert "file not found" in errors["missing"]
    tr = tracks["good"]
    assert len(tr) == 4 and tr.fps == pytest.approx(16.0) and (tr.width, tr.height) == (48, 32)
    assert tr.source_sha256 and len(tr.source_sha256) == 64


def test_cache_hit_skips_the_backend_and_keys_on_weights(tmp_path):
    video = _video(tmp_path / "a.mp4", 90)
    cache_root = tmp_path / "cache"
    b1 = CountingBackend()
    t1, _ = extract_tracks({"a": video}, backend=b1, cache_root=cache_root, progress=False)
    t2, _ = extract_tracks({"a": video}, backend=b1, cache_root=cache_root, progress=False)
    assert b1.calls == 1
    np.testing.assert_array_equal(t1["a"].data, t2["a"].data)
    # other weights -> other key -> recomputed
    b2 = CountingBackend()
    b2.__class__ = type("OtherWeights", (CountingBackend,), {"weights_hash": property(lambda s: "v" * 64)})
    extract_tracks({"a": video}, backend=b2, cache_root=cache_root, progress=False)
    assert b2.calls == 1
    # cache=False always recomputes
    extract_tracks({"a": video}, backend=b1, cache=False, progress=False)
    assert b1.calls == 2


def test_corrupt_cache_entry_is_a_miss(tmp_path):
    cache = TrackCache(tmp_path)
    track = KeypointTrack(np.ones((2, 25, 3), np.float32), source_sha256="ab" * 32, weights_hash="w")
    path = cache.put(track, "ab" * 32, "x", "1", "w")
    assert cache.get("ab" * 32, "x", "1", "w") is not None
    assert cache.get("ab" * 32, "x", "2", "w") is None  # version is part of the key
    path.write_bytes(b"garbage")
    assert cache.get("ab" * 32, "x", "1", "w") is None and not path.exists()


def test_registry():
    assert available_backends() == ["mediapipe", "vitpose"]
    with pytest.raises(ValueError, match="unknown pose backend"):
        get_backend("openpose")
    with pytest.raises(MaceError, match="unknown pose backend"):
        extract_tracks({}, "openpose")


def test_mediapipe_follows_a_dancer_through_an_mp4(tmp_path, messi_rgb, panning_frames):
    pytest.importorskip("mediapipe")
    step = 6
    frames = panning_frames(messi_rgb, n=8, step=step)
    video = write_video(tmp_path / "messi.mp4", frames, fps=16)
    blank = write_video(tmp_path / "blank.mp4", [np.full((64, 64, 3), 127, np.uint8)] * 3, fps=16)
    tracks, errors = extract_tracks(
        {"messi": video, "blank": blank}, "mediapipe", cache_root=tmp_path / "cache", progress=False
    )
    assert errors == {}
    tr = tracks["messi"]
    assert tr.mask.all() and len(tr) == 8 and tr.fps == pytest.approx(16.0)
    torso = [J["left_shoulder"], J["right_shoulder"], J["left_hip"], J["right_hip"]]
    dx = np.diff(tr.data[:, torso, 0], axis=0)
    assert np.median(dx) == pytest.approx(step, abs=1.5)  # the track moves with the picture
    dy = np.diff(tr.data[:, torso, 1], axis=0)
    assert np.abs(np.median(dy)) < 1.5
    assert not tracks["blank"].mask.any() and tracks["blank"].meta["warning"].startswith("no person")
