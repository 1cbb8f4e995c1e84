"""YOLOv8 person detector: restricted checkpoint loading, architecture round trip, letterbox, NMS, box decoding.

The checkpoints here are written the way ultralytics writes ``yolov8s.pt`` (``torch.save`` of a dict holding
the pickled ``DetectionModel`` in half precision): our modules are re-classed to stand-ins registered under
ultralytics' module paths just for the save, so the pickle names the same globals as the released file.
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

from ma_data.core.errors import FormatError  # noqa: E402
from ma_data.core.pose import yolov8_model as ym  # noqa: E402
from ma_data.core.pose.yolo_checkpoint import PickledObject, load_ultralytics_checkpoint  # noqa: E402
from ma_data.core.pose.yolov8 import (  # noqa: E402
    YoloV8PersonDetector,
    letterbox,
    load_yolov8,
    non_max_suppression,
    scale_boxes,
)
from tests.helpers.tiny_pose import TINY_YOLO, random_yolov8  # noqa: E402

ULTRALYTICS_NAMES = {
    ym.Conv: "ultralytics.nn.modules.conv.Conv",
    ym.Concat: "ultralytics.nn.modules.conv.Concat",
    ym.C2f: "ultralytics.nn.modules.block.C2f",
    ym.Bottleneck: "ultralytics.nn.modules.block.Bottleneck",
    ym.SPPF: "ultralytics.nn.modules.block.SPPF",
    ym.DFL: "ultralytics.nn.modules.block.DFL",
    ym.Detect: "ultralytics.nn.modules.head.Detect",
    ym.YoloV8: "ultralytics.nn.tasks.DetectionModel",
}


def save_like_ultralytics(model: ym.YoloV8, path, monkeypatch, names=None, extra=None) -> None:
    """torch.save({'model': DetectionModel(...).half(), ...}) with ultralytics' global names in the pickle."""
    fakes = {}
    for cls, qualified in ULTRALYTICS_NAMES.items():
        module_name, cls_name = qualified.rsplit(".", 1)
        parts = module_name.split(".")
        for i in range(1, len(parts) + 1):  # pickle imports the parent packages too
            name = ".".join(parts[:i])
            if name not in sys.modules:
                monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
        module = sys.modules[module_name]
        fake = type(cls_name, (cls,), {"__module__": module_name, "__qualname__": cls_name})
        setattr(module, cls_name, fake)
        fakes[cls] = fake
    model = model.half()
    for m in model.modules():
        if type(m) in fakes:
            m.__class__ = fakes[type(m)]
    del model.cfg  # ultralytics' DetectionModel carries yaml/names/stride instead
    model.yaml = {"nc": TINY_YOLO.nc, "scale": "tiny", "backbone": [[-1, 1, "Conv", [64, 3, 2]]]}
    model.names = names or {0: "person", 1: "bicycle", 2: "car"}
    model.stride = torch.tensor([8.0, 16.0, 32.0])
    ckpt = {
        "date": "2023-01-10T00:00:00",
        "version": "8.0.0",
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "epoch": -1,
        "best_fitness": None,
        "model": model,
        "ema": None,
        "updates": None,
        "optimizer": None,
        "train_args": {"imgsz": 640, "data": "coco.yaml", "ns": types.SimpleNamespace(a=1)},
        "train_metrics": {"fitness": np.float64(0.5)},  # numpy scalars pickle as numpy globals
        **(extra or {}),
    }
    torch.save(ckpt, path)


@pytest.fixture()
def tiny_checkpoint(tmp_path, monkeypatch):
    model = random_yolov8()
    reference = random_yolov8()  # the same weights, kept as our own classes
    save_like_ultralytics(model, tmp_path / "yolov8-tiny.pt", monkeypatch)
    for name in [m for m in sys.modules if m == "ultralytics" or m.startswith("ultralytics.")]:
        monkeypatch.delitem(sys.modules, name)  # loading must not need (or touch) these modules
    return tmp_path / "yolov8-tiny.pt", reference


def test_checkpoint_round_trips_through_the_restricted_loader(tiny_checkpoint):
    path, reference = tiny_checkpoint
    raw = load_ultralytics_checkpoint(path)
    assert isinstance(raw["model"], PickledObject) and raw["model"].qualified_name.endswith("DetectionModel")
    assert raw["model"].state["names"][0] == "person"
    model = load_yolov8(path)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # fused as ultralytics does
    half = ym.YoloV8(TINY_YOLO)
    half.load_state_dict(
        {k: v.half().float() if v.is_floating_point() else v for k, v in reference.state_dict().items()}
    )
    x = torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours, unfused = model(x), half.eval()(x)
    assert ours.shape == (1, 4 + 3, 12 * 16 + 6 * 8 + 3 * 4)
    torch.testing.assert_close(ours, unfused, rtol=1e-4, atol=1e-3)  # fusion only reorders float arithmetic


def test_hostile_pickles_are_refused_without_running_anything(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"model": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(FormatError, match=r"evil.pt: refused: the pickle names .*system"):
        load_ultralytics_checkpoint(tmp_path / "evil.pt")

    class Eval:
        def __reduce__(self):
            return (eval, (f"open({str(marker)!r}, 'w')",))

    torch.save({"model": Eval()}, tmp_path / "eval.pt")
    with pytest.raises(FormatError, match="builtins.eval"):
        load_yolov8(tmp_path / "eval.pt")

    # A callable under an allowed name is mapped to an inert stand-in: never imported, never called.
    module = types.ModuleType("ultralytics.evil")
    monkeypatch.setitem(sys.modules, "ultralytics", types.ModuleType("ultralytics"))
    monkeypatch.setitem(sys.modules, "ultralytics.evil", module)

    def boom(path):
        open(path, "w").close()

    boom.__module__, boom.__qualname__ = "ultralytics.evil", "boom"
    module.boom = boom

    class Sneaky:
        def __reduce__(self):
            return (boom, (str(marker),))

    torch.save({"model": Sneaky()}, tmp_path / "sneaky.pt")
    monkeypatch.delitem(sys.modules, "ultralytics.evil")
    monkeypatch.delitem(sys.modules, "ultralytics")
    ckpt = load_ultralytics_checkpoint(tmp_path / "sneaky.pt")
    assert isinstance(ckpt["model"], PickledObject) and not marker.exists()
    with pytest.raises(FormatError, match="not a YOLOv8 detection model"):
        load_yolov8(tmp_path / "sneaky.pt")
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FormatError, match="junk.pt: not a torch checkpoint archive"):
        load_yolov8(tmp_path / "junk.pt")


def test_wrong_class_list_and_foreign_tensors_are_named(tmp_path, monkeypatch):
    save_like_ultralytics(
        random_yolov8(), tmp_path / "cars.pt", monkeypatch, names={0: "car", 1: "person", 2: "x"}
    )
    with pytest.raises(FormatError, match="cars.pt: class 0 is 'car'"):
        load_yolov8(tmp_path / "cars.pt")


@pytest.mark.parametrize(
    ("hw", "resized_wh", "pads_ltrb"),
    [
        ((480, 640), (320, 240), (0, 8, 0, 8)),  # dh = (320 - 240) % 32 = 16 -> 8 / 8
        ((1080, 1920), (320, 180), (0, 6, 0, 6)),  # dh = 140 % 32 = 12
        ((500, 333), (213, 320), (5, 0, 6, 0)),  # dw = 107 % 32 = 11 -> round(5.4), round(5.6)
        ((320, 320), (320, 320), (0, 0, 0, 0)),  # no resize, no padding
    ],
)
def test_letterbox_matches_ultralytics_arithmetic(hw, resized_wh, pads_ltrb):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (*hw, 3), dtype=np.uint8)
    out, gain, (left, top) = letterbox(img)
    l, t, r, b = pads_ltrb
    assert out.shape == (resized_wh[1] + t + b, resized_wh[0] + l + r, 3)
    assert (left, top) == (l, t) and gain == pytest.approx(min(320 / hw[0], 320 / hw[1]))
    if l:
        assert (out[:, :l] == 114).all() and (out[:, -r:] == 114).all()
    if t:
        assert (out[:t] == 114).all() and (out[-b:] == 114).all()
    if resized_wh == hw[::-1]:
        np.testing.assert_array_equal(out[t : t + hw[0], l : l + hw[1]], img)


def test_scale_boxes_undoes_the_letterbox():
    # (500, 333) -> letterboxed (320, 224): gain 0.64, pad x = round((224 - 213.12) / 2 - 0.1) = 5, pad y = 0
    boxes = torch.tensor([[5.0, 0.0, 69.0, 64.0, 0.9, 0.0], [0.0, -3.0, 300.0, 330.0, 0.5, 0.0]])
    out = scale_boxes(boxes, (320, 224), (500, 333))
    torch.testing.assert_close(out[0, :4], torch.tensor([0.0, 0.0, 100.0, 100.0]))
    torch.testing.assert_close(out[1, :4], torch.tensor([0.0, 0.0, 333.0, 500.0]))  # clipped


def _head(boxes_xyxy, class_scores):
    """(4 + nc, A) head output from xyxy boxes (as xywh) and per-class scores."""
    b = torch.tensor(boxes_xyxy, dtype=torch.float32)
    xywh = torch.cat(((b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]), 1)
    return torch.cat((xywh, torch.tensor(class_scores, dtype=torch.float32)), 1).T


def test_nms_keeps_person_boxes_by_score_and_suppresses_overlaps():
    boxes = [
        [0, 0, 100, 100],  # person 0.70: IoU 7500 / 10000 = 0.75 with box 1 -> suppressed
        [0, 0, 100, 75],  # person 0.90: examined first, kept
        [0, 0, 100, 100.0],  # person 0.85: IoU 0.75 with box 1 -> suppressed
        [0, 40, 100, 140],  # person 0.60: IoU 3500 / 14000 = 0.25 with box 1 -> kept
        [200, 200, 260, 260],  # best class is car (0.95) although person is 0.9 -> dropped
        [300, 300, 340, 340],  # person 0.2 < 0.25 -> dropped
    ]
    scores = [[0.70, 0.1], [0.90, 0.1], [0.85, 0.1], [0.60, 0.0], [0.90, 0.95], [0.2, 0.0]]
    det = non_max_suppression(_head(boxes, scores))
    got = det[:, 4].tolist()
    assert got == pytest.approx([0.90, 0.60])
    torch.testing.assert_close(det[:, :4], torch.tensor([[0.0, 0.0, 100.0, 75.0], [0.0, 40.0, 100.0, 140.0]]))
    assert (det[:, 5] == 0).all()


def test_nms_iou_is_strictly_greater_than_the_threshold():
    a, b = [0, 0, 10, 1], [0, 0, 7, 1]  # inter 7, union 10 -> 0.7: not suppressed
    det = non_max_suppression(_head([a, b], [[0.9], [0.8]]), classes=None)
    assert len(det) == 2
    det = non_max_suppression(_head([a, [0, 0, 7.1, 1]], [[0.9], [0.8]]), classes=None)
    assert len(det) == 1


def test_detect_head_decodes_dfl_distances_around_anchor_centres():
    head = ym.Detect(nc=1, ch=(8, 8, 8)).eval()
    with torch.no_grad():
        for seq in list(head.cv2) + list(head.cv3):
            seq[-1].weight.zero_()
        bias = torch.full((4, 16), -30.0)
        for side, bin_ in enumerate((2, 3, 4, 5)):  # left, top, right, bottom distances in grid cells
            bias[side, bin_] = 30.0
        for seq in head.cv2:
            seq[-1].bias.copy_(bias.reshape(-1))
        for seq in head.cv3:
            seq[-1].bias.fill_(0.0)  # sigmoid(0) = 0.5
        feats = [torch.zeros(1, 8, 4, 6), torch.zeros(1, 8, 2, 3), torch.zeros(1, 8, 1, 2)]
        out = head(feats)[0]
    assert out.shape == (5, 24 + 6 + 2)
    # first anchor of level 0 (stride 8): centre (0.5, 0.5) cells -> x1 = (0.5-2)*8, x2 = (0.5+4)*8 ...
    torch.testing.assert_close(out[:, 0], torch.tensor([(0.5 + 1) * 8, (0.5 + 1) * 8, 6 * 8, 8 * 8, 0.5]))
    # anchor (col 2, row 1) of level 1 (stride 16) is number 24 + 1 * 3 + 2
    torch.testing.assert_close(out[:, 29], torch.tensor([(2.5 + 1) * 16, (1.5 + 1) * 16, 96.0, 128.0, 0.5]))


def test_detector_returns_person_boxes_above_threshold_in_nms_order(messi_rgb):
    model = random_yolov8(1)
    with torch.no_grad():  # make some anchors confident about "person"
        for seq in model.model[22].cv3:
            seq[-1].bias.copy_(torch.tensor([1.5, -1.0, -1.0]))
    det = YoloV8PersonDetector(model=model.fuse())
    raw = det.raw_detections(messi_rgb)
    boxes = det.detect(messi_rgb)
    assert len(raw) > 0 and boxes.shape[1] == 5 and len(det.weights_hash) == 64
    np.testing.assert_array_equal(boxes, raw.numpy()[raw.numpy()[:, 4] > 0.35, :5].astype(np.float64))
    assert (np.diff(boxes[:, 4]) <= 0).all()
    h, w = messi_rgb.shape[:2]
    assert (boxes[:, [0, 2]] >= 0).all() and (boxes[:, [0, 2]] <= w).all() and (boxes[:, [1, 3]] <= h).all()


def test_nms_breaks_score_ties_by_candidate_order():
    # torchvision's kernel visits equal scores in candidate order (a stable sort): the earlier box wins. With
    # more than 16 candidates torch's default (unstable) sort would reorder the ties.
    grid = [[40 * i, 500, 40 * i + 30, 530] for i in range(30)]  # 30 separate boxes, same score
    boxes = [[10, 10, 50, 50], *grid, [10, 10, 50, 52]]
    det = non_max_suppression(_head(boxes, [[0.6]] * len(boxes)), classes=None)
    assert len(det) == 31 and det[0, :4].tolist() == [10.0, 10.0, 50.0, 50.0]
    det = non_max_suppression(_head(boxes[::-1], [[0.6]] * len(boxes)), classes=None)
    assert len(det) == 31 and det[0, :4].tolist() == [10.0, 10.0, 50.0, 52.0]
    assert det[1:, 0].tolist() == [40.0 * i for i in reversed(range(30))]
