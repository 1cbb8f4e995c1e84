"""The ViTPose backend's named options: invisible-joint rule and detector, recorded in version and track meta."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ma_data.core.errors import MissingWeightError  # noqa: E402
from ma_data.core.pose.detector import pick_detector  # noqa: E402
from ma_data.core.pose.topdown import crop_box  # noqa: E402
from ma_data.core.pose.vitpose_backend import ViTPoseBackend  # noqa: E402

K = 25


class HeatmapModel(torch.nn.Module):
    """Stands in for ViTPose: fixed heatmaps whatever the input; joints 3 and 7 have no positive value."""

    def __init__(self):
        super().__init__()
        ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(48.0), indexing="ij")
        maps = [torch.exp(-((xs - 5 - k) ** 2 + (ys - 10 - 2 * k) ** 2) / 8) for k in range(K)]
        self.register_buffer("maps", torch.stack(maps))
        self.maps[3] = -0.1 - 0.01 * xs / 48
        self.maps[7] = -0.2

    def forward(self, pixel_values):
        class Out:
            heatmaps = self.maps[None].expand(len(pixel_values), -1, -1, -1)

        return Out()


class OneBox:
    name = "fixed"
    weights_hash = "b" * 64

    def detect(self, frame):
        return np.array([[60.0, 50.0, 300.0, 330.0, 0.9]])


@pytest.mark.parametrize("rule", ["easy_vitpose", "missing"])
def test_invisible_joint_rule_is_applied_and_recorded(rule, messi_rgb):
    backend = ViTPoseBackend(model=HeatmapModel(), detector=OneBox(), device="cpu", invisible_joints=rule)
    h, w = messi_rgb.shape[:2]
    track = backend.estimate([messi_rgb] * 2, fps=16.0, width=w, height=h)
    assert backend.version.endswith(f"+{rule}") and backend.describe()["invisible_joints"] == rule
    assert track.meta["invisible_joints"] == {"rule": rule, "frame_joint": [[0, 3], [0, 7], [1, 3], [1, 7]]}
    crop, origin = crop_box(messi_rgb, OneBox().detect(None)[0])
    kp = track.data[0]
    if rule == "missing":
        assert kp[3, 2] == 0 and kp[7, 2] == 0
        # argmax of joint 3's map is its first column (least negative), inside the crop
        assert origin[0] <= kp[3, 0] < origin[0] + 2 and kp[7, :2] == pytest.approx(
            origin + [crop.shape[1] // 2 - crop.shape[1] / 2, crop.shape[0] // 2 - crop.shape[0] / 2]
        )  # noqa: E501
    else:
        assert kp[3, 2] == pytest.approx(-0.1) and kp[7, 2] == pytest.approx(-0.2)
        # joint 7 reads joint 6's map for its foreign neighbours; joint 3 reads joint 2's: near the top-left
        assert np.all(np.abs(kp[[3, 7], :2] - origin) < 0.2 * np.array(crop.shape[1::-1]))
    other = ViTPoseBackend(
        model=HeatmapModel(),
        detector=OneBox(),
        device="cpu",
        invisible_joints="missing" if rule != "missing" else "easy_vitpose",
    )
    visible = [k for k in range(K) if k not in (3, 7)]
    np.testing.assert_array_equal(
        other.pose_from_box(messi_rgb, OneBox().detect(None)[0])[visible], kp[visible]
    )
    assert other.version != backend.version  # cached tracks of one rule never serve the other


def test_unknown_rule_and_detector_are_refused():
    with pytest.raises(ValueError, match="invisible-joint rule"):
        ViTPoseBackend(model=HeatmapModel(), detector=OneBox(), device="cpu", invisible_joints="guess")
    with pytest.raises(ValueError, match="unknown detector 'yolo'"):
        pick_detector("yolo")


def test_yolov8s_detector_missing_weights_and_auto_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path))
    with pytest.raises(MissingWeightError) as info:
        ViTPoseBackend(device="cpu", detector_name="yolov8s")
    assert str(tmp_path / "weights" / "yolo" / "yolov8s.pt") in str(info.value)
    assert "vitpose-s-coco_25.pth" in str(info.value)
    assert pick_detector("auto") == "yolov8s"  # nothing cached: the official one, so the error names it
    assert pick_detector("auto", ("rtdetr", "yolov8s")) == "rtdetr"
    (tmp_path / "weights" / "rtdetr" / "rtdetr_r18vd_coco_o365").mkdir(parents=True)
    (tmp_path / "weights" / "rtdetr" / "rtdetr_r18vd_coco_o365" / "config.json").write_text("{}")
    assert pick_detector("auto") == "rtdetr"  # only RT-DETR present
    (tmp_path / "weights" / "yolo").mkdir()
    (tmp_path / "weights" / "yolo" / "yolov8s.pt").write_bytes(b"x")
    assert pick_detector("auto") == "yolov8s" and pick_detector("rtdetr") == "rtdetr"
