"""Video inputs: the motion protocol picks the keypoint options (invisible-joint rule, detector) and the
results record what ran."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.evaluate import EvaluateOptions, _motion_inputs_from_videos, _pose_backend_kwargs
from benchmark.protocols import get_protocol
from ma_data.core.errors import MaceError
from ma_data.core.formats.keypoints import KeypointTrack
from ma_data.core.pose.base import PoseBackend


@pytest.fixture()
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


def test_protocols_choose_rule_and_detector(empty_cache):
    official, strict = get_protocol("mace2d-official"), get_protocol("mace2d-strict")
    vit = EvaluateOptions(pose="vitpose")
    assert _pose_backend_kwargs(vit, official) == {
        "detector_name": "yolov8s",
        "invisible_joints": "easy_vitpose",
    }
    assert _pose_backend_kwargs(vit, strict) == {"detector_name": "rtdetr", "invisible_joints": "missing"}
    (empty_cache / "rtdetr" / "rtdetr_r18vd_coco_o365").mkdir(parents=True)
    (empty_cache / "rtdetr" / "rtdetr_r18vd_coco_o365" / "config.json").write_text("{}")
    assert _pose_backend_kwargs(vit, official)["detector_name"] == "rtdetr"  # YOLOv8s weights absent
    (empty_cache / "yolo").mkdir()
    (empty_cache / "yolo" / "yolov8s.pt").write_bytes(b"x")
    assert _pose_backend_kwargs(vit, official)["detector_name"] == "yolov8s"
    assert _pose_backend_kwargs(EvaluateOptions(pose="vitpose", detector="rtdetr"), official)[
        "detector_name"
    ] == ("rtdetr")
    assert _pose_backend_kwargs(EvaluateOptions(pose="mediapipe"), official) == {}
    with pytest.raises(MaceError, match="--detector yolov8s applies to --pose vitpose"):
        _pose_backend_kwargs(EvaluateOptions(pose="mediapipe", detector="yolov8s"), official)


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
    opts = EvaluateOptions(pred_dir=tmp_path / "pred", gt_dir=tmp_path / "gt", pose="vitpose", no_cache=True)
    paired, gt, pred, fps, extraction = _motion_inputs_from_videos(opts, get_protocol("mace2d-strict"))
    assert RecordingBackend.built == [
        {"detector_name": "rtdetr", "invisible_joints": "missing"}
    ]  # one, shared
    assert sorted(gt) == sorted(pred) == ["a", "b"] and fps["a"] == (16.0, 16.0)
    assert extraction == {
        "name": "vitpose",
        "version": "test",
        "weights_hash": "c" * 64,
        "detector_name": "rtdetr",
        "invisible_joints": "missing",
    }
