"""Batched top-down pose: batches of frames through the detector and of crops through ViTPose give what the
frame-by-frame pipeline gives (re-derived here step by step), the dancer selection sees frames in order across
batch boundaries, and bfloat16 is recorded so its tracks never pass for float32 ones."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
cv2 = pytest.importorskip("cv2")

from ma_data.core.errors import ConfigError  # noqa: E402
from ma_data.core.pose.batching import frames_per_batch  # noqa: E402
from ma_data.core.pose.topdown import crop_box, decode_heatmaps  # noqa: E402
from ma_data.core.pose.tracking import DancerTracker, select_by_score  # noqa: E402
from ma_data.core.pose.vitpose_backend import ViTPoseBackend  # noqa: E402
from ma_data.core.pose.vitpose_convert import vitpose_config  # noqa: E402
from ma_data.core.pose.yolov8 import YoloV8PersonDetector  # noqa: E402
from tests.helpers.tiny_pose import random_yolov8, save_tiny_rtdetr  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def tiny_vitpose(seed: int = 0):
    """A 2-layer, 32-wide ViTPose with random weights large enough to give varied heatmaps."""
    from transformers import VitPoseForPoseEstimation

    torch.manual_seed(seed)
    model = VitPoseForPoseEstimation(
        vitpose_config("s", hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
    )
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(
                torch.randn_like(p) * (0.1 if p.ndim > 1 else 0.05)
                + (1.0 if "norm" in name and p.ndim == 1 and name.endswith("weight") else 0.0)
            )
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
    return model.eval()


def tiny_yolo(seed: int = 1) -> YoloV8PersonDetector:
    """A tiny random YOLOv8 whose person class fires on some anchors (as in test_yolov8)."""
    model = random_yolov8(seed)
    with torch.no_grad():
        for seq in model.model[22].cv3:
            seq[-1].bias.copy_(torch.tensor([1.5, -1.0, -1.0]))
    return YoloV8PersonDetector(model=model.fuse())


def reference_pose(model, frame: np.ndarray, box: np.ndarray, rule: str = "easy_vitpose") -> np.ndarray:
    """Today's frame-by-frame ViTPose step, written out: crop, cv2 resize, numpy normalisation, batch of 1."""
    crop, origin = crop_box(frame, box)
    resized = cv2.resize(crop, (192, 256), interpolation=cv2.INTER_LINEAR).astype(np.float64) / 255.0
    x = ((resized - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)
    with torch.no_grad():
        heatmaps = model(pixel_values=torch.from_numpy(x)[None]).heatmaps.float().numpy()
    kp = decode_heatmaps(heatmaps, np.array([[crop.shape[1], crop.shape[0]]]), invisible=rule)[0]
    kp[:, :2] += origin
    return kp.astype(np.float32)


def reference_track(detector, model, frames, selection="score"):
    tracker = DancerTracker() if selection == "track" else None
    h, w = frames[0].shape[:2]
    rows, boxes_used = [], []
    for frame in frames:
        boxes = np.asarray(detector.detect(frame), np.float64).reshape(-1, 5)
        idx = tracker.update(boxes, (w, h)) if tracker else select_by_score(boxes)
        boxes_used.append(None if idx is None else boxes[idx])
        rows.append(
            np.zeros((25, 3), np.float32) if idx is None else reference_pose(model, frame, boxes[idx])
        )
    return np.stack(rows), boxes_used


@pytest.fixture(scope="module")
def video(panning_frames, messi_rgb):
    return panning_frames(messi_rgb, 11, 9)


def test_batched_yolo_and_vitpose_equal_the_frame_by_frame_pipeline(video):
    model, detector = tiny_vitpose(), tiny_yolo()
    h, w = video[0].shape[:2]
    video = video[:7]
    want, want_boxes = reference_track(detector, model, video)
    assert sum(b is not None for b in want_boxes) >= 5  # the random detector does find "people"
    for batch in (1, 3, 32):
        backend = ViTPoseBackend(
            model=model, detector=detector, device="cpu", batch_size=batch, cpu_threads=3
        )
        track = backend.estimate(iter(video), fps=30.0, width=w, height=h)
        assert track.meta["batch_size"] == batch and track.meta["dtype"] == "float32"
        assert track.mask.tolist() == [b is not None for b in want_boxes]
        for got, ref in zip(track.meta["boxes"], want_boxes, strict=True):
            assert (got is None) == (ref is None)
            if ref is not None:
                np.testing.assert_allclose(got, np.round(ref, 2), atol=1e-6)
        np.testing.assert_allclose(track.data, want, atol=1e-3, rtol=0)


def test_yolo_candidates_moved_off_the_device_give_the_full_head_nms(video):
    from ma_data.core.pose.yolov8 import non_max_suppression, scale_boxes

    det = tiny_yolo()
    frames = video[:3]
    prepared = np.stack([det.prepare(f) for f in frames])
    x = torch.from_numpy(prepared).permute(0, 3, 1, 2).contiguous().float() / 255
    with torch.no_grad():
        head = det.model(x)  # (3, 4 + nc, anchors)
    got = det.raw_prepared(prepared, [f.shape[1::-1] for f in frames])
    for i, frame in enumerate(frames):
        want = scale_boxes(non_max_suppression(head[i]), prepared.shape[1:3], frame.shape[:2])
        assert len(want) > 0
        torch.testing.assert_close(got[i], want, rtol=0, atol=0)


class ScriptedDetector:
    """Boxes per frame from a script (batched interface); the bystander out-scores the dancer at times."""

    name = "scripted"
    weights_hash = "s" * 64

    def __init__(self, script):
        self.script = script
        self.calls: list[int] = []

    def prepare(self, frame):
        return frame[:1, :1, :1].copy()  # the frame index is painted in its corner pixel

    def detect_prepared(self, batch, sizes):
        self.calls.append(len(batch))
        return [np.array(self.script[int(px[0, 0, 0])], np.float64).reshape(-1, 5) for px in batch]

    def detect(self, frame):
        return self.detect_prepared(self.prepare(frame)[None], [frame.shape[1::-1]])[0]


def test_dancer_tracking_sees_frames_in_order_across_batches(video):
    frames = [f.copy() for f in video]
    for i, f in enumerate(frames):
        f[0, 0, 0] = i
    dancer = lambda i: [60 + 9 * i, 50, 460 + 9 * i, 342, 0.6]  # noqa: E731 - follows the panning image
    bystander = [640, 20, 740, 200, 0.9]  # far from the dancer: never a continuation of its track
    script = {i: [bystander, dancer(i)] for i in range(11)}
    script[0] = [dancer(0), bystander]
    script[0][0][4] = 0.95  # the first frame picks the dancer (score x area x centrality)
    for i in (4, 5):
        script[i] = [bystander]  # the dancer is lost for two frames: no match, no box
    model = tiny_vitpose()
    h, w = frames[0].shape[:2]
    want, want_boxes = reference_track(ScriptedDetector(script), model, frames, selection="track")
    assert [b is None for b in want_boxes].count(True) == 2
    assert all(b[4] == 0.6 for i, b in enumerate(want_boxes) if b is not None and i)  # never the bystander
    for batch in (1, 3, 5, 16):
        det = ScriptedDetector(script)
        backend = ViTPoseBackend(model=model, detector=det, device="cpu", selection="track", batch_size=batch)
        track = backend.estimate(frames, fps=30.0, width=w, height=h)
        assert det.calls == [min(batch, 11 - k) for k in range(0, 11, batch)]  # batched calls
        assert [b is None for b in track.meta["boxes"]] == [b is None for b in want_boxes]
        assert [b[4] for b in track.meta["boxes"] if b] == [b[4] for b in want_boxes if b is not None]
        np.testing.assert_allclose(track.data, want, atol=1e-3, rtol=0)


def test_bfloat16_is_recorded_and_close(video):
    model, detector = tiny_vitpose(), tiny_yolo()
    h, w = video[0].shape[:2]
    f32 = ViTPoseBackend(model=model, detector=detector, device="cpu", batch_size=4)
    b16 = ViTPoseBackend(model=model, detector=detector, device="cpu", batch_size=4, dtype="bfloat16")
    assert b16.version == f32.version + "+bf16" and b16.describe()["dtype"] == "bfloat16"
    assert b16.weights_hash == f32.weights_hash  # same weights; the version keeps the cache entries apart
    a = f32.estimate(video[:5], fps=30.0, width=w, height=h)
    b = b16.estimate(video[:5], fps=30.0, width=w, height=h)
    assert b.meta["dtype"] == "bfloat16" and a.meta["boxes"] == b.meta["boxes"]  # the detector stays float32
    assert not np.array_equal(a.data, b.data)
    diff = np.abs(a.data[..., :2] - b.data[..., :2])
    assert np.median(diff) < 2.0  # pixels, in crops of ~400 px: bfloat16 moves points, not people


def test_bfloat16_tracks_are_cached_apart_from_float32(video, tmp_path):
    from ma_data.core.io.video import write_video
    from ma_data.core.pose.extract import extract_tracks

    path = write_video(tmp_path / "v.mp4", video[:3], fps=30)
    model, detector = tiny_vitpose(), tiny_yolo()
    cache = tmp_path / "cache"

    def run(dtype):
        backend = ViTPoseBackend(model=model, detector=detector, device="cpu", dtype=dtype, batch_size=2)
        calls = []
        backend.estimate = lambda *a, _est=backend.estimate, **k: calls.append(1) or _est(*a, **k)
        tracks, errors = extract_tracks({"v": path}, backend=backend, cache_root=cache, progress=False)
        assert not errors
        return tracks["v"], len(calls)

    b16, computed = run("bfloat16")
    assert computed == 1 and b16.extractor_version.endswith("+bf16") and b16.meta["dtype"] == "bfloat16"
    f32, computed = run("float32")
    assert computed == 1 and not f32.extractor_version.endswith("+bf16")  # not served the bfloat16 track
    assert run("float32")[1] == 0 and run("bfloat16")[1] == 0  # each is a hit for its own kind
    assert len(list(cache.rglob("*.npz"))) == 2


def test_batch_size_is_bounded_by_memory_and_options_are_checked():
    assert frames_per_batch(32, 1280, 720) == 32
    assert frames_per_batch(32, 3840, 2160) == 21  # two batches of 4K frames within 1 GiB
    assert frames_per_batch(8, 10, 10, budget=1) == 1
    with pytest.raises(ConfigError, match="batch size"):
        frames_per_batch(0, 10, 10)
    with pytest.raises(ConfigError, match="pose dtype must be one of float32, bfloat16"):
        ViTPoseBackend(model=tiny_vitpose(), detector=ScriptedDetector({}), device="cpu", dtype="float16")


@pytest.mark.slow
def test_rtdetr_batches_give_the_single_frame_boxes(tmp_path, video):
    from ma_data.core.pose.detector import RTDetrPersonDetector

    save_tiny_rtdetr(tmp_path / "rtdetr")
    det = RTDetrPersonDetector(tmp_path / "rtdetr", threshold=0.0, input_size=128)
    frames = video[:4]
    single = [det.detect(f) for f in frames]
    batched = det.detect_prepared(
        np.stack([det.prepare(f) for f in frames]), [f.shape[1::-1] for f in frames]
    )
    assert all(len(b) == 10 for b in single)
    for a, b in zip(single, batched, strict=True):
        np.testing.assert_allclose(b, a, atol=1e-3, rtol=0)
