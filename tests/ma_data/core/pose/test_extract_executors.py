"""Keypoint extraction spread over processes or Ray gives exactly the serial run's tracks and errors."""

from __future__ import annotations

import numpy as np
import pytest

from ma_data.core.errors import ConfigError, MissingWeightError
from ma_data.core.executors import SerialExecutor
from ma_data.core.io.video import write_video
from ma_data.core.pose.extract import extract_tracks


@pytest.fixture(scope="module")
def videos(tmp_path_factory, messi_rgb, panning_frames):
    pytest.importorskip("mediapipe")
    root = tmp_path_factory.mktemp("videos")
    corrupt = root / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42 definitely not a video")
    return {
        "slow": write_video(root / "slow.mp4", panning_frames(messi_rgb, n=6, step=3), fps=16),
        "corrupt": corrupt,
        "fast": write_video(root / "fast.mp4", panning_frames(messi_rgb, n=5, step=9), fps=25),
        "missing": root / "missing.mp4",
    }


def assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for stem in a:
        np.testing.assert_array_equal(a[stem].data, b[stem].data)
        np.testing.assert_array_equal(a[stem].mask, b[stem].mask)
        assert a[stem].metadata() == b[stem].metadata()


def test_worker_path_gives_the_serial_tracks_and_errors(videos, tmp_path):
    serial = extract_tracks(videos, "mediapipe", cache_root=tmp_path / "a", progress=False)
    # the workers' path (build by name, track back as npz bytes), run in this process
    spread = extract_tracks(
        videos, "mediapipe", cache_root=tmp_path / "b", progress=False, executor=SerialExecutor()
    )
    assert list(serial[0]) == ["slow", "fast"] and serial[0]["slow"].mask.all()
    assert_same(serial[0], spread[0])
    assert serial[1] == spread[1] and list(serial[1]) == ["corrupt", "missing"]
    # the workers filled their cache like the serial run: a second run is all hits, same tracks
    again = extract_tracks(
        videos, "mediapipe", cache_root=tmp_path / "b", progress=False, executor=SerialExecutor()
    )
    assert_same(serial[0], again[0])
    with pytest.raises(ConfigError, match="built backend"):
        extract_tracks(videos, backend=object(), executor="process")


def test_process_pool_gives_the_serial_tracks_and_errors(videos, tmp_path):
    serial = extract_tracks(videos, "mediapipe", cache=False, progress=False)
    pooled = extract_tracks(videos, "mediapipe", cache=False, progress=False, executor="process", workers=2)
    assert_same(serial[0], pooled[0])
    assert serial[1] == pooled[1]


@pytest.mark.slow
def test_ray_gives_the_serial_tracks_and_errors(videos, ray_home):
    pytest.importorskip("ray")
    serial = extract_tracks(videos, "mediapipe", cache=False, progress=False)
    on_ray = extract_tracks(videos, "mediapipe", cache=False, progress=False, executor="ray", workers=2)
    assert_same(serial[0], on_ray[0])
    assert serial[1] == on_ray[1]


def test_a_backend_that_cannot_be_built_stops_the_batch_in_workers_too(videos, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path))  # no weights there
    for executor in ("serial", SerialExecutor()):
        with pytest.raises(MissingWeightError, match="vitpose-s-coco_25.pth"):
            extract_tracks(videos, "vitpose", progress=False, executor=executor)


def test_a_backend_failing_mid_video_leaves_no_decoder_running(tmp_path):
    import threading

    from ma_data.core.pose.base import PoseBackend

    class FailsOnThirdFrame(PoseBackend):
        name, version, weights_hash = "fails", "1", "f" * 64

        def estimate(self, frames, fps, width, height, n_frames=None):
            for i, _ in enumerate(frames):
                if i == 2:
                    raise RuntimeError("model crashed")

        def decode_options(self, width, height):
            return {"threads": 2, "prefetch": 2}  # the decoder is ahead, blocked on a full queue

    video = write_video(tmp_path / "v.mp4", [np.full((32, 32, 3), i, np.uint8) for i in range(30)], fps=16)
    before = threading.active_count()
    tracks, errors = extract_tracks({"v": video}, backend=FailsOnThirdFrame(), cache=False, progress=False)
    assert not tracks and "model crashed" in errors["v"]
    assert threading.active_count() == before
