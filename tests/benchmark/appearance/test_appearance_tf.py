"""temporal_flickering against independent computations on videos with known flicker."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from benchmark.appearance.decode import collect_videos, read_frames_bgr
from benchmark.appearance.temporal_flickering import (
    aggregate,
    pair_mae,
    temporal_flickering_frames,
    temporal_flickering_video,
)
from ma_data.core.errors import MediaError
from tests.benchmark.appearance.appearance_media import flicker_frames, moving_frames, write_frames


def test_known_flicker_lossless(lossless_flicker_video):
    path, frames, offsets = lossless_flicker_video
    # A global offset o_t on every pixel gives |Δ| = |o_t - o_{t+1}| everywhere (base in [20, 200): no clip).
    exact = (255.0 - np.mean(np.abs(np.diff(offsets)))) / 255.0
    assert temporal_flickering_video(path) == pytest.approx(exact, rel=1e-8, abs=0)
    # VBench takes the mean over pairs in float32: reproduce that rounding exactly.
    vbench = (255.0 - np.mean(np.abs(np.diff(offsets)).astype(np.float32)).item()) / 255.0
    assert temporal_flickering_video(path) == vbench
    # The lossless file decodes to the written pixels (BGR order).
    np.testing.assert_array_equal(read_frames_bgr(path), frames[..., ::-1])


def test_static_video_scores_one(tmp_path):
    frames = flicker_frames([5] * 6)
    path = write_frames(tmp_path / "static.mkv", frames, codec="ffv1")
    assert temporal_flickering_video(path) == 1.0


def test_pair_mae_matches_vbench_float32_formula():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    vbench_style = np.mean(cv2.absdiff(np.array(a, dtype=np.float32), np.array(b, dtype=np.float32)))
    ours = pair_mae(a, b)
    assert ours.dtype == np.float32
    assert ours.tobytes() == vbench_style.tobytes()  # bit-identical float32
    exact = np.abs(a.astype(np.int64) - b.astype(np.int64)).mean()
    assert float(ours) == pytest.approx(exact, rel=1e-6)


def test_h264_matches_independent_pyav_float64(h264_video):
    """Lossy H.264: OpenCV decode + float32 VBench arithmetic vs PyAV decode + float64 arithmetic."""
    path, _ = h264_video
    with av.open(str(path)) as c:
        ref_frames = np.stack([f.to_ndarray(format="bgr24") for f in c.decode(video=0)]).astype(np.float64)
    ref_mae = np.mean([np.abs(ref_frames[i + 1] - ref_frames[i]).mean() for i in range(len(ref_frames) - 1)])
    expected = (255.0 - ref_mae) / 255.0
    ours = temporal_flickering_video(path)
    assert 0.5 < ours < 1.0
    assert ours == pytest.approx(expected, rel=1e-6)


def test_frames_api_equals_file_api(h264_video):
    path, _ = h264_video
    assert temporal_flickering_frames(read_frames_bgr(path)) == temporal_flickering_video(path)


def test_errors_name_the_file(tmp_path):
    one = write_frames(tmp_path / "one.mkv", flicker_frames([0]), codec="ffv1")
    with pytest.raises(MediaError, match="one.mkv.*one frame"):
        temporal_flickering_video(one)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(MediaError, match="bad.mp4"):
        temporal_flickering_video(bad)
    with pytest.raises(MediaError, match="missing.mp4"):
        temporal_flickering_video(tmp_path / "missing.mp4")


def test_aggregate_is_plain_mean():
    vals = [
        0.9871695509143904,
        0.9836879692825616,
        0.9770195343915153,
        0.9829823419159534,
        0.9753527136409984,
    ]
    # The official demo results file: mean of the five per-video values is the reported dimension score.
    assert aggregate(vals) == pytest.approx(0.9812424220290838, rel=1e-15)
    with pytest.raises(ValueError):
        aggregate([])


def test_collect_videos_follows_vbench_suffixes(tmp_path):
    for name in ["b.mp4", "a.MP4", "c.gif", "d.avi", "e.txt", "f.png"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    assert list(collect_videos(tmp_path)) == ["a", "b", "c", "f"]


def _pyav_tf(path) -> float:
    """Temporal flickering of a file from PyAV's decode in float64 (independent of OpenCV and float32)."""
    with av.open(str(path)) as c:
        f = np.stack([fr.to_ndarray(format="bgr24") for fr in c.decode(video=0)]).astype(np.float64)
    return (255.0 - np.mean([np.abs(f[i + 1] - f[i]).mean() for i in range(len(f) - 1)])) / 255.0


def test_tf_dimension_through_the_metric_tester(metric_tester, lossless_flicker_video, h264_video):
    """Per-video TF equals VBench's float32 formula on a lossless file (bit for bit) and an independent
    float64 decode of an H.264 file, whatever the decoder's chunk size."""
    from benchmark.appearance.simple_dims import TemporalFlickering

    (flicker, _, offsets), (moving, _) = lossless_flicker_video, h264_video
    vbench = (255.0 - np.mean(np.abs(np.diff(offsets)).astype(np.float32)).item()) / 255.0
    metric_tester.dimension(
        TemporalFlickering,
        {"flicker": flicker},
        reference={"flicker": {"temporal_flickering": vbench}},
        chunks=(1, 2, 3, 16),
    )
    metric_tester.dimension(
        TemporalFlickering,
        {"flicker": flicker, "moving": moving},
        reference={
            s: {"temporal_flickering": _pyav_tf(p)} for s, p in (("flicker", flicker), ("moving", moving))
        },
        rtol=1e-6,
        chunks=(1, 2, 5, 16),
    )


def test_moving_frames_fixture_is_deterministic():
    np.testing.assert_array_equal(moving_frames(), moving_frames())
