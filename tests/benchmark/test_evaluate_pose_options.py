"""Video inputs: the motion protocol picks the keypoint options (invisible-joint rule, detector) and the
results record what ran."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.motion.inputs2d import extract_keypoints, pose_backend_options
from benchmark.protocols import get_protocol
from benchmark.runner import collect_motion2d
from ma_data.core.errors import MaceError
from ma_data.core.formats.keypoints import KeypointTrack
from ma_data.core.pose.base import PoseBackend


@pytest.fixture()
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


def test_protocols_choose_rule_and_detector(empty_cache):
    official, strict = get_protocol("mace2d-official"), get_protocol("mace2d-strict")
    assert pose_backend_options("vitpose", "auto", official) == {
        "detector_name": "yolov8s",
        "invisible_joints": "easy_vitpose",
    }
    assert pose_backend_options("vitpose", "auto", strict) == {
        "detector_name": "rtdetr",
        "invisible_joints": "missing",
    }
    (empty_cache / "rtdetr" / "rtdetr_r18vd_coco_o365").mkdir(parents=True)
    (empty_cache / "rtdetr" / "rtdetr_r18vd_coco_o365" / "config.json").write_text("{}")
    assert pose_backend_options("vitpose", "auto", official)["detector_name"] == "rtdetr"  # YOLOv8s absent
    (empty_cache / "yolo").mkdir()
    (empty_cache / "yolo" / "yolov8s.pt").write_bytes(b"x")
    assert pose_backend_options("vitpose", "auto", official)["detector_name"] == "yolov8s"
    assert pose_backend_options("vitpose", "rtdetr", official)["detector_name"] == "rtdetr"
    assert pose_backend_options("mediapipe", "auto", official) == {}
    with pytest.raises(MaceError, match="--detector yolov8s applies to --pose vitpose"):
        pose_backend_options("mediapipe", "yolov8s", official)


class RecordingBackend(PoseBackend):
    name = "vitpose"
    version = "test"
    built: list[dict] = []

    def __init__(self, **kwargs):
        RecordingBackend.built.append(kwargs)
        self.kwargs = kwargs

    @property
    def weights_hash(self) -> str:
        return "c" * 64

    def describe(self) -> dict:
        return {**super().describe(), **self.kwargs}

    def estimate(self, frames, fps, width, height, n_frames=None):
        n = sum(1 for _ in frames)
        return KeypointTrack(data=np.ones((n, 25, 3), np.float32), fps=fps, width=width, height=height)


def test_video_evaluation_builds_one_backend_and_records_it(tmp_path, empty_cache, monkeypatch):
    from ma_data.core.io.video import write_video
    from ma_data.core.pose import registry

    frames = [np.full((32, 32, 3), 40 * i, np.uint8) for i in range(4)]
    for side in ("gt", "pred"):
        for stem in ("a", "b"):
            write_video(tmp_path / side / f"{stem}.mp4", frames, 16)
    RecordingBackend.built = []
    monkeypatch.setattr(registry, "get_backend", lambda name, **kw: RecordingBackend(**kw))
    strict = get_protocol("mace2d-strict")
    paired = collect_motion2d(strict, pred_videos=tmp_path / "pred", gt_videos=tmp_path / "gt")
    options = pose_backend_options("vitpose", "auto", strict)
    samples = extract_keypoints(
        paired, "GT video", "generated video", "vitpose", backend_options=options, cache=False
    )
    assert RecordingBackend.built == [
        {"detector_name": "rtdetr", "invisible_joints": "missing"}
    ]  # one, shared
    assert sorted(samples.gt) == sorted(samples.pred) == ["a", "b"] and samples.fps["a"] == (16.0, 16.0)
    assert samples.extraction == {
        "name": "vitpose",
        "version": "test",
        "weights_hash": "c" * 64,
        "detector_name": "rtdetr",
        "invisible_joints": "missing",
    }
