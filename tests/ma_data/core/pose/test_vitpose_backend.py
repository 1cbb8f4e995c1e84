"""ViTPose backend: checkpoint conversion (against an independent forward pass of the original architecture),
heatmap decoding on synthetic heatmaps, crop geometry, the detector wrapper, and the missing-weights error."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
F = torch.nn.functional

from ma_data.core.errors import FormatError, MissingWeightError  # noqa: E402
from ma_data.core.pose.detector import RTDetrPersonDetector, boxes_from_detr  # noqa: E402
from ma_data.core.pose.topdown import crop_box, decode_heatmaps, heatmap_to_crop  # noqa: E402
from ma_data.core.pose.vitpose_backend import ViTPoseBackend  # noqa: E402
from ma_data.core.pose.vitpose_convert import convert_easy_vitpose_state_dict, load_vitpose, vitpose_config  # noqa: E402
from tests.helpers.tiny_checkpoints import normal_init, reference_timm_block, timm_block_sd  # noqa: E402
from tests.helpers.tiny_pose import save_tiny_rtdetr  # noqa: E402

C, LAYERS, HEADS, K = 32, 2, 4, 25


def original_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in easy_ViTPose's key layout for a tiny ViTPose (C wide, LAYERS deep, K keypoints)."""
    r = normal_init(seed)
    sd = {
        "backbone.patch_embed.proj.weight": r(C, 3, 16, 16, s=0.02),
        "backbone.patch_embed.proj.bias": r(C),
        "backbone.pos_embed": r(1, 16 * 12 + 1, C),
        "backbone.last_norm.weight": 1 + r(C),
        "backbone.last_norm.bias": r(C),
    }
    for i in range(LAYERS):
        sd |= timm_block_sd(f"backbone.blocks.{i}.", C, r, s=0.2)
    for idx, cin in ((0, C), (3, 256)):
        sd[f"keypoint_head.deconv_layers.{idx}.weight"] = r(cin, 256, 4, 4, s=0.1)
        bn = f"keypoint_head.deconv_layers.{idx + 1}."
        sd |= {
            bn + "weight": 1 + r(256),
            bn + "bias": r(256),
            bn + "running_mean": r(256),
            bn + "running_var": 1 + r(256).abs(),
            bn + "num_batches_tracked": torch.tensor(100),
        }
    sd["keypoint_head.final_layer.weight"] = r(K, 256, 1, 1, s=0.1)
    sd["keypoint_head.final_layer.bias"] = r(K)
    return sd


def reference_forward(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The original ViTPose + TopdownHeatmapSimpleHead forward written from its definition (eval mode)."""
    b = x.shape[0]
    h = F.conv2d(
        x, sd["backbone.patch_embed.proj.weight"], sd["backbone.patch_embed.proj.bias"], 16, padding=2
    )
    hp, wp = h.shape[2:]
    h = h.flatten(2).transpose(1, 2)
    pos = sd["backbone.pos_embed"]
    h = h + pos[:, 1:] + pos[:, :1]
    for i in range(LAYERS):
        h = reference_timm_block(h, sd, f"backbone.blocks.{i}.", HEADS)
    h = F.layer_norm(h, (C,), sd["backbone.last_norm.weight"], sd["backbone.last_norm.bias"], eps=1e-6)
    h = h.transpose(1, 2).reshape(b, C, hp, wp)
    for idx in (0, 3):
        h = F.conv_transpose2d(h, sd[f"keypoint_head.deconv_layers.{idx}.weight"], stride=2, padding=1)
        bn = f"keypoint_head.deconv_layers.{idx + 1}."
        h = F.batch_norm(
            h, sd[bn + "running_mean"], sd[bn + "running_var"], sd[bn + "weight"], sd[bn + "bias"]
        )
        h = F.relu(h)
    return F.conv2d(h, sd["keypoint_head.final_layer.weight"], sd["keypoint_head.final_layer.bias"])


def tiny_config():
    return vitpose_config("s", hidden_size=C, num_hidden_layers=LAYERS, num_attention_heads=HEADS)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    sd = original_state_dict()
    path = tmp_path_factory.mktemp("ckpt") / "vitpose-tiny-coco_25.pth"
    torch.save({"state_dict": sd, "meta": {"note": "synthetic"}}, path)
    return path, sd


@pytest.mark.slow  # first use of transformers' ViTPose in the session: several seconds of imports
def test_conversion_reproduces_the_original_forward(tiny_checkpoint):
    path, sd = tiny_checkpoint
    model = load_vitpose(path, config=tiny_config())  # strict: every key mapped, none left over
    x = torch.randn(2, 3, 256, 192, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(pixel_values=x).heatmaps
        ref = reference_forward(sd, x)
    assert ours.shape == (2, 25, 64, 48)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)


def test_conversion_splits_qkv_in_query_key_value_order():
    sd = original_state_dict()
    out = convert_easy_vitpose_state_dict(sd)
    qkv = sd["backbone.blocks.1.attn.qkv.weight"]
    base = "backbone.encoder.layer.1.attention.attention."
    torch.testing.assert_close(out[base + "query.weight"], qkv[:C])
    torch.testing.assert_close(out[base + "key.weight"], qkv[C : 2 * C])
    torch.testing.assert_close(out[base + "value.weight"], qkv[2 * C :])
    assert len(out) == len(sd) + 4 * LAYERS  # each fused weight/bias pair becomes three


@pytest.mark.slow  # transformers' ViTPose imports
def test_attention_scales_queries_before_the_score_product(tiny_checkpoint):
    """easy_ViTPose computes softmax((q*s) @ k^T) @ v; transformers' eager attention (q @ k^T) * s. With a
    scale that is not a power of two the orders round differently, which moves argmaxes on flat heatmaps."""
    model = load_vitpose(tiny_checkpoint[0], config=tiny_config())
    attn = model.backbone.encoder.layer[0].attention.attention
    h = torch.randn(3, 16 * 12, C, generator=torch.Generator().manual_seed(2))

    def heads(a):
        return a.view(3, -1, HEADS, C // HEADS).transpose(1, 2)

    q, k, v = heads(attn.query(h)), heads(attn.key(h)), heads(attn.value(h))
    scale = (C // HEADS) ** -0.5  # 1/sqrt(8): not a power of two
    original = (torch.matmul(q * scale, k.transpose(-2, -1)).softmax(-1) @ v).transpose(1, 2)
    eager = ((torch.matmul(q, k.transpose(-2, -1)) * scale).softmax(-1) @ v).transpose(1, 2)
    with torch.no_grad():
        ours = attn(h)[0].view(original.shape)
    assert not torch.equal(original, eager)  # the two orders do differ on this input
    assert torch.equal(ours, original)


def test_conversion_rejects_foreign_and_incomplete_checkpoints(tmp_path):
    sd = original_state_dict()
    with pytest.raises(FormatError, match="not in the easy_ViTPose layout.*backbone.cls_token"):
        convert_easy_vitpose_state_dict({**sd, "backbone.cls_token": torch.zeros(1)}, "x.pth")
    partial = dict(sd)
    del partial["keypoint_head.final_layer.bias"]
    torch.save(partial, tmp_path / "partial.pth")
    with pytest.raises(FormatError, match="partial.pth: does not match.*head.conv.bias"):
        load_vitpose(tmp_path / "partial.pth", config=tiny_config())
    torch.save(sd, tmp_path / "wrong.pth")
    wider = vitpose_config("s", hidden_size=2 * C, num_hidden_layers=LAYERS, num_attention_heads=HEADS)
    with pytest.raises(FormatError, match="wrong.pth: does not match ViTPose-s"):
        load_vitpose(tmp_path / "wrong.pth", config=wider)  # tensors of another width
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(FormatError, match="junk.pth: cannot load checkpoint"):
        load_vitpose(tmp_path / "junk.pth", config=tiny_config())


def _gaussian_heatmaps(peaks_xy: np.ndarray, size=(48, 64), sigma=2.0) -> np.ndarray:
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    maps = [np.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2 * sigma**2)) for px, py in peaks_xy]
    return np.stack(maps)[None].astype(np.float32)


def test_heatmap_decode_finds_subpixel_peaks():
    peaks = np.array([[20.3, 30.7], [8.0, 50.0], [40.6, 10.2], [24.0, 32.0]])
    hm = _gaussian_heatmaps(peaks)
    hm[0, 1] *= 0.5  # confidence = raw maximum
    crop = np.array([[47.0, 63.0]])  # UDP: crop size (W-1, H-1) maps heatmap units 1:1 (even-size shift 0.5)
    out = decode_heatmaps(hm, crop)
    shift = np.floor(crop / 2) - crop / 2  # easy_ViTPose's integer centre: -0.5 for odd sizes
    np.testing.assert_allclose(out[0, :, :2], peaks + shift, atol=0.06)
    np.testing.assert_allclose(out[0, :, 2], [hm[0, k].max() for k in range(4)], rtol=1e-6)
    flat = np.full((1, 1, 64, 48), 0.2, np.float32)
    flat[0, 0, 10, 10] = 0.2001  # a plateau: the Newton step is meaningless there
    wild = decode_heatmaps(flat, crop)[0, 0, :2]
    guarded = decode_heatmaps(flat, crop, max_step=1.0)[0, 0, :2]
    assert np.isfinite(wild).all()
    np.testing.assert_allclose(guarded, np.array([10.0, 10.0]) + shift[0], atol=1.0)
    raw = decode_heatmaps(hm, crop, refine=False)
    np.testing.assert_allclose(raw[0, :, :2], np.round(peaks) + shift, atol=1e-9)


def test_udp_mapping_to_crop_pixels():
    # heatmap corner pixels land on the crop's corners: x = px * w / (W - 1) (+ centre rounding)
    coords = np.array([[[0.0, 0.0], [47.0, 63.0]]])
    np.testing.assert_allclose(
        heatmap_to_crop(coords, (48, 64), np.array([[192, 256]])), [[[0, 0], [192, 256]]]
    )
    np.testing.assert_allclose(heatmap_to_crop(coords, (48, 64), np.array([[193, 256]]))[0, 1], [192.5, 256])


def test_crop_box_pads_to_three_by_four_and_tracks_its_origin():
    img = np.zeros((200, 300, 3), np.uint8)
    img[120, 150] = 255  # a marker inside the box
    crop, origin = crop_box(img, np.array([140.2, 100.0, 160.0, 140.0, 0.9]))
    ch, cw = crop.shape[:2]
    assert (ch, cw) == (60, 45)  # box 20x40 +10 px each side -> 40x60 -> padded to 45 wide (3:4)
    assert tuple(origin) == (128.0, 90.0)  # x1 = 140 - 10 - 2 (left pad), y1 = 100 - 10
    my, mx = np.argwhere(crop[..., 0] == 255)[0]
    assert (mx + origin[0], my + origin[1]) == (150, 120)
    wide, origin2 = crop_box(img, np.array([0, 150, 300, 200]))  # clipped at the image border, padded in y
    assert wide.shape[1] / wide.shape[0] == pytest.approx(0.75, abs=0.01) and origin2[0] == 0


def test_boxes_from_detr_converts_filters_and_sorts():
    boxes = boxes_from_detr(
        np.array([[0.5, 0.5, 0.2, 0.4], [0.1, 0.1, 0.4, 0.4], [0.9, 0.9, 0.1, 0.1]]),
        np.array([0.5, 0.9, 0.2]),
        width=200,
        height=100,
        threshold=0.35,
    )
    np.testing.assert_allclose(boxes, [[0, 0, 60, 30, 0.9], [80, 30, 120, 70, 0.5]])


class FixedDetector:
    name = "fixed"
    weights_hash = "d" * 64

    def __init__(self, per_frame):
        self.per_frame = list(per_frame)

    def detect(self, frame):
        return np.array(self.per_frame.pop(0), np.float64).reshape(-1, 5)


def test_backend_end_to_end_with_tiny_model(tiny_checkpoint, messi_rgb):
    path, _ = tiny_checkpoint
    model = load_vitpose(path, config=tiny_config())
    h, w = messi_rgb.shape[:2]
    dancer, bystander = [60, 50, 460, 342, 0.95], [470, 150, 548, 300, 0.5]
    det = FixedDetector([[dancer, bystander], [], [bystander, dancer]])
    backend = ViTPoseBackend(model=model, detector=det, device="cpu")
    track = backend.estimate([messi_rgb] * 3, fps=16.0, width=w, height=h)
    assert track.data.shape == (3, 25, 3) and track.mask.tolist() == [True, False, True]
    np.testing.assert_allclose(track.data[0], track.data[2], atol=1e-4)  # same box chosen by score
    np.testing.assert_allclose(track.data[0], backend.pose_from_box(messi_rgb, np.array(dancer)), atol=1e-4)
    assert not np.allclose(track.data[0], backend.pose_from_box(messi_rgb, np.array(bystander)), atol=1.0)
    assert track.meta["boxes"][1] is None and track.meta["boxes"][0][4] == 0.95
    assert track.extractor == "vitpose" and len(track.weights_hash) == 64


@pytest.mark.slow
def test_rtdetr_detector_wrapper_with_tiny_random_model(tmp_path, messi_rgb):
    save_tiny_rtdetr(tmp_path / "rtdetr")
    det = RTDetrPersonDetector(tmp_path / "rtdetr", threshold=0.0, input_size=128)
    assert det.person_label == 1 and len(det.weights_hash) == 64
    boxes = det.detect(messi_rgb)
    h, w = messi_rgb.shape[:2]
    assert boxes.shape == (10, 5)
    assert (np.diff(boxes[:, 4]) <= 0).all()  # best first
    assert (boxes[:, [0, 2]] >= 0).all() and (boxes[:, [0, 2]] <= w).all() and (boxes[:, [1, 3]] <= h).all()


def test_missing_weights_error_says_what_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path))
    with pytest.raises(MissingWeightError) as info:
        ViTPoseBackend(device="cpu")
    msg = str(info.value)
    assert "vitpose-s-coco_25.pth" in msg and str(tmp_path / "weights" / "vitpose") in msg and "\n" not in msg
    # both missing files are named at once, the directory one with its download command
    assert str(tmp_path / "weights" / "rtdetr" / "rtdetr_r18vd_coco_o365") in msg
    assert "huggingface-cli download PekingU/rtdetr_r18vd_coco_o365" in msg
    from ma_data.core.pose.extract import extract_tracks

    with pytest.raises(MissingWeightError, match="vitpose-s-coco_25.pth"):
        extract_tracks({"a": tmp_path / "a.mp4"}, "vitpose", progress=False)
