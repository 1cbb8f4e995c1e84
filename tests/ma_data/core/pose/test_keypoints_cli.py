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
