"""score_appearance: wiring, aggregation, skipping, full-reference pairing."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.appearance import VBENCH_APPEARANCE, collect_videos, score_appearance
from benchmark.appearance.full_reference import psnr_frames
from benchmark.appearance.temporal_flickering import temporal_flickering_video
from benchmark.protocols import get_protocol
from ma_data.core.errors import MaceError
from tests.benchmark.appearance.appearance_media import flicker_frames, moving_frames, write_frames


@pytest.fixture
def video_dir(tmp_path):
    d = tmp_path / "pred"
    d.mkdir()
    write_frames(d / "a.mp4", flicker_frames([0, 4, 0, 4, 0], seed=1), codec="libx264rgb")
    write_frames(d / "b.mp4", flicker_frames([0, 1, 2, 3], seed=2), codec="libx264rgb")
    write_frames(d / "c.mp4", moving_frames(t=9))
    (d / "broken.mp4").write_bytes(b"\x00" * 100)
    return d


def test_tf_only_matches_per_video_and_plain_mean(video_dir):
    videos = collect_videos(video_dir)
    report = score_appearance(videos, dims=["temporal_flickering"], progress=False, n_boot=50)
    assert set(report.skipped) == {"broken"} and "broken.mp4" in report.skipped["broken"]
    per = {s: temporal_flickering_video(video_dir / f"{s}.mp4") for s in "abc"}
    assert {s: v["temporal_flickering"] for s, v in report.per_sample.items()} == per
    tf = report.metrics["temporal_flickering"]
    assert tf.value == float(np.mean([per[s] for s in "abc"]))
    # Lossless RGB x264: a alternates by 4, b steps by 1 -> exact scores.
    assert per["a"] == pytest.approx((255 - 4) / 255, rel=1e-9)
    assert per["b"] == pytest.approx((255 - 1) / 255, rel=1e-9)
    assert tf.ci_low <= tf.value <= tf.ci_high
    assert report.n_samples == 3
    assert report.protocol is VBENCH_APPEARANCE


def test_full_reference_needs_gt_and_pairs_frames(video_dir, tmp_path):
    pred = {"c": video_dir / "c.mp4"}
    r = score_appearance(pred, dims=["psnr", "temporal_flickering"], progress=False, n_boot=0)
    assert "psnr" not in r.metrics and "psnr" in r.extra["skipped_dims"]
    assert any("--gt" in w for w in r.warnings)

    gt_frames = moving_frames(t=7)  # shorter GT: only 7 pairs compared
    gt = write_frames(tmp_path / "c_gt.mkv", gt_frames, codec="ffv1")
    r = score_appearance(pred, {"c": gt}, dims=["psnr", "ssim"], batch_size=3, progress=False, n_boot=0)
    import av

    with av.open(str(video_dir / "c.mp4")) as c:
        dec = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])[:7]
    expected = psnr_frames(dec, gt_frames).mean()
    assert r.per_sample["c"]["psnr"] == pytest.approx(expected, rel=1e-9)
    assert 0.5 < r.per_sample["c"]["ssim"] <= 1.0


def test_unknown_dimension_is_a_clear_error(video_dir):
    with pytest.raises(MaceError, match="unknown appearance dimension"):
        score_appearance(collect_videos(video_dir), dims=["sharpness"], progress=False)


def test_protocol_registered():
    p = get_protocol("vbench-appearance")
    assert p.kind == "appearance" and "temporal_flickering" in p.params


def test_missing_optional_dependency_skips_only_that_dimension(video_dir, monkeypatch):
    import benchmark.appearance.api as api

    real = api._load_factory

    def fake(spec):
        if "clip_dims" in spec:

            def boom(*args, **kwargs):
                raise ModuleNotFoundError("No module named 'transformers'", name="transformers")

            return boom
        return real(spec)

    monkeypatch.setattr(api, "_load_factory", fake)
    r = score_appearance(
        {"a": video_dir / "a.mp4"},
        dims=["aesthetic_quality", "temporal_flickering"],
        progress=False,
        n_boot=0,
    )
    assert "temporal_flickering" in r.metrics and "aesthetic_quality" not in r.metrics
    assert "transformers" in r.extra["skipped_dims"]["aesthetic_quality"]


def test_nothing_runnable_is_one_clear_error(video_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "empty"))
    with pytest.raises(MaceError, match="no appearance dimension can run.*dino-vitb16"):
        score_appearance(collect_videos(video_dir), dims=["subject_consistency"], progress=False)
    with pytest.raises(MaceError, match="needs GT"):
        score_appearance(collect_videos(video_dir), dims=["psnr"], progress=False)
