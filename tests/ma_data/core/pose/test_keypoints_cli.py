"""``mace-bench keypoints``: official JSON out, bad videos reported, exit 2 when nothing is usable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from ma_data.core.formats.keypoints import read_official_json
from ma_data.core.io.video import write_video


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")
    return tmp_path


def test_extracts_official_json_and_reports_bad_videos(env, messi_rgb, panning_frames):
    pytest.importorskip("mediapipe")
    videos = env / "videos"
    videos.mkdir()
    write_video(videos / "dancer.mp4", panning_frames(messi_rgb, n=3, step=4), fps=16)
    (videos / "broken.mp4").write_bytes(b"not a video")
    result = CliRunner().invoke(main, ["keypoints", "--videos", str(videos), "--out", str(env / "kp")])
    assert result.exit_code == 0, result.output
    assert "skipped broken" in result.output and "wrote 1 json tracks" in result.output
    doc = json.loads((env / "kp" / "dancer.json").read_text())
    assert np.array(doc["keypoints"]).shape == (3, 25, 3)
    track = read_official_json(env / "kp" / "dancer.json")
    # official rows are (y, x, c): our reader turns them back, so x spans the wide frame axis
    assert track.data[0, :, 0].max() > track.data[0, :, 1].max() * 0.9 and track.mask.all()


def test_nothing_usable_exits_2_with_one_line(env):
    videos = env / "videos"
    videos.mkdir()
    (videos / "a.mp4").write_bytes(b"junk")
    result = CliRunner().invoke(main, ["keypoints", "--videos", str(videos), "--out", str(env / "kp")])
    assert result.exit_code == 2
    assert "error: no keypoints extracted" in result.output
    empty = CliRunner().invoke(
        main, ["keypoints", "--videos", str(env / "nothing"), "--out", str(env / "kp")]
    )
    assert empty.exit_code == 2 and "Traceback" not in empty.output


def test_vitpose_options_reach_the_backend_and_are_refused_elsewhere(env, monkeypatch):
    from ma_data.core.pose import extract

    videos = env / "videos"
    write_video(videos / "a.mp4", [np.zeros((16, 16, 3), np.uint8)] * 2, fps=16)
    seen = {}

    def fake_extract_tracks(videos, backend_name, cache=True, progress=True, *, backend_kwargs=None, **kw):
        seen.update(backend_name=backend_name, **(backend_kwargs or {}))
        return {}, {"a": "stopped here"}

    monkeypatch.setattr(extract, "extract_tracks", fake_extract_tracks)
    args = ["keypoints", "--videos", str(videos), "--out", str(env / "kp"), "--pose", "vitpose"]
    result = CliRunner().invoke(main, [*args, "--invisible-joints", "missing"])
    assert result.exit_code == 2 and "stopped here" in result.output
    # nothing cached: auto names the official detector (so a missing-weight error would name yolov8s.pt)
    assert seen == {"backend_name": "vitpose", "detector_name": "yolov8s", "invisible_joints": "missing"}
    result = CliRunner().invoke(main, [*args[:-2], "--pose", "mediapipe", "--detector", "yolov8s"])
    assert result.exit_code == 2 and "apply to --pose vitpose" in result.output


def test_speed_and_executor_options_reach_the_extraction(env, monkeypatch):
    from ma_data.core.pose import extract

    videos = env / "videos"
    write_video(videos / "a.mp4", [np.zeros((16, 16, 3), np.uint8)] * 2, fps=16)
    seen = {}

    def fake_extract_tracks(videos, backend_name, cache=True, progress=True, *, backend_kwargs=None, **kw):
        seen.update(backend_kwargs=backend_kwargs, **kw)
        return {}, {"a": "stopped here"}

    monkeypatch.setattr(extract, "extract_tracks", fake_extract_tracks)
    args = ["keypoints", "--videos", str(videos), "--out", str(env / "kp"), "--pose", "vitpose"]
    more = ["--batch-size", "8", "--pose-dtype", "bfloat16", "--executor", "process", "--workers", "3"]
    result = CliRunner().invoke(main, [*args, *more])
    assert result.exit_code == 2 and "stopped here" in result.output
    assert seen["backend_kwargs"]["batch_size"] == 8 and seen["backend_kwargs"]["dtype"] == "bfloat16"
    assert (seen["executor"], seen["workers"], seen["address"]) == ("process", 3, None)
    result = CliRunner().invoke(main, [*args[:-1], "mediapipe", "--pose-dtype", "bfloat16"])
    assert result.exit_code == 2 and "apply to --pose vitpose" in result.output
    result = CliRunner().invoke(main, [*args, "--executor", "dask"])
    assert result.exit_code == 2 and "dask" in result.output
