"""Heatmap decoding of invisible joints (whole heatmap <= 0) under the two named rules.

Expected values come from an independent, element-by-element re-derivation of easy_ViTPose's arithmetic
(``_get_max_preds`` -> ``post_dark_udp`` -> ``transform_preds``) written below with plain Python loops and a
closed-form 2x2 inverse, and from closed-form numbers on maps where the answer is known exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ma_data.core.pose.topdown import decode_heatmaps

pytest.importorskip("cv2")

H, W = 8, 6  # heatmap rows, columns
L0 = math.log(0.001)  # log of the clip floor: what any non-positive heatmap becomes after blur + clip


def _gauss_blur_reflect101(img: list[list[float]], ksize: int = 11) -> list[list[float]]:
    """cv2.GaussianBlur(ksize, sigma=0) written out: sigma = 0.3((k-1)/2 - 1) + 0.8, BORDER_REFLECT_101."""
    sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    r = ksize // 2
    g = [math.exp(-((i - r) ** 2) / (2 * sigma * sigma)) for i in range(ksize)]
    g = [v / sum(g) for v in g]
    h, w = len(img), len(img[0])

    def refl(i: int, n: int) -> int:
        while i < 0 or i >= n:
            i = -i if i < 0 else 2 * n - 2 - i
        return i

    rows = [
        [sum(g[t] * img[y][refl(x + t - r, w)] for t in range(ksize)) for x in range(w)] for y in range(h)
    ]
    return [
        [sum(g[t] * rows[refl(y + t - r, h)][x] for t in range(ksize)) for x in range(w)] for y in range(h)
    ]


def reference_decode(maps: np.ndarray, crop_w: int, crop_h: int) -> list[tuple[float, float, float]]:
    """One crop's (K, H, W) heatmaps -> [(x, y, conf)] by easy_ViTPose's rules, one element at a time."""
    k_count = len(maps)
    flat: list[float] = []  # edge-padded log-heatmaps of all joints, concatenated (the reference's flatten())
    for m in maps:
        logm = [
            [math.log(min(max(v, 0.001), 50.0)) for v in row] for row in _gauss_blur_reflect101(m.tolist())
        ]
        for y in range(-1, H + 1):
            for x in range(-1, W + 1):
                flat.append(logm[min(max(y, 0), H - 1)][min(max(x, 0), W - 1)])
    out = []
    for k in range(k_count):
        values = [float(v) for v in maps[k].ravel()]
        best = max(range(len(values)), key=lambda i: (values[i], -i))  # first maximum, as argmax
        conf = values[best]
        px, py = (best % W, best // W) if conf > 0 else (-1, -1)
        index = px + 1 + (py + 1) * (W + 2) + k * (W + 2) * (H + 2)

        def at(offset: int, index: int = index) -> float:
            return flat[index + offset]  # a negative index wraps to the end, as numpy fancy indexing

        i_, ix1, iy1, ix1y1 = at(0), at(1), at(W + 2), at(W + 3)
        ix1_y1_, ix1_, iy1_ = at(-W - 3), at(-1), at(-2 - W)
        dx, dy = 0.5 * (ix1 - ix1_), 0.5 * (iy1 - iy1_)
        dxx, dyy = ix1 - 2 * i_ + ix1_, iy1 - 2 * i_ + iy1_
        dxy = 0.5 * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_)
        eps = 2.0**-23  # float32 eps on the diagonal
        a, b, d = dxx + eps, dxy, dyy + eps
        det = a * d - b * b
        sx, sy = (d * dx - b * dy) / det, (a * dy - b * dx) / det  # inverse(H) @ gradient
        hx, hy = px - sx, py - sy
        x = hx * crop_w / (W - 1.0) + crop_w // 2 - crop_w * 0.5
        y = hy * crop_h / (H - 1.0) + crop_h // 2 - crop_h * 0.5
        out.append((x, y, conf))
    return out


def _peak(px: float, py: float, amp: float = 0.8) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    return (amp * np.exp(-((xs - px) ** 2 + (ys - py) ** 2) / 8.0) - 0.02).astype(np.float32)


def _negative(seed: int) -> np.ndarray:
    return -np.abs(np.random.default_rng(seed).normal(0.3, 0.2, (H, W))).astype(np.float32) - 0.01


@pytest.mark.parametrize("order", ["visible-then-invisible", "invisible-then-visible"])
def test_invisible_joint_reads_its_neighbours_map_by_flat_index(order):
    visible, hidden = _peak(2.3, 4.6), _negative(1)
    maps = np.stack([visible, hidden] if order == "visible-then-invisible" else [hidden, visible])
    crop = (75, 100)
    got = decode_heatmaps(maps[None], np.array([crop]))[0]
    want = np.array(reference_decode(maps, *crop))
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=0)
    inv = 1 if order == "visible-then-invisible" else 0
    assert got[inv, 2] < 0 < got[1 - inv, 2]  # the official rule keeps the raw (negative) maximum
    # the invisible joint is not where its own (negative) argmax would put it: the foreign reads moved it
    strict = decode_heatmaps(maps[None], np.array([crop]), invisible="missing")[0]
    assert np.abs(got[inv, :2] - strict[inv, :2]).max() > 1.0


def test_invisible_joint_beside_a_flat_positive_map_lands_on_the_crop_corner():
    # Joint 0 is invisible; its reads at offsets -1, -(W+2), -(W+3) wrap into joint 1's flat map (log A), the
    # others stay in its own (log 0.001). With d = log A - log 0.001 the gradient is (-d/2, -d/2) and the
    # Hessian [[d, -d/2], [-d/2, d]], so the Newton step is exactly (-1, -1): (-1, -1) -> heatmap (0, 0).
    maps = np.stack([_negative(2), np.full((H, W), 0.2, np.float32)])
    got = decode_heatmaps(maps[None], np.array([[75, 100]]))[0]
    corner = np.array([75 // 2 - 37.5, 100 // 2 - 50.0])  # heatmap (0, 0) in crop pixels: (-0.5, 0)
    np.testing.assert_allclose(got[0, :2], corner, atol=1e-5)
    np.testing.assert_allclose(got[1, :2], corner, atol=1e-6)  # the flat map's own argmax is pixel 0
    assert got[0, 2] == pytest.approx(float(maps[0].max()))


def test_two_invisible_joints_stay_at_minus_one():
    # Every read is log(0.001): zero gradient, Hessian eps * I, no step; (-1, -1) maps to -w/(W-1) + w//2 - w/2.
    maps = np.stack([_negative(3), _negative(4)])
    got = decode_heatmaps(maps[None], np.array([[61, 83]]))[0]
    want = [-61 / (W - 1) + 30 - 30.5, -83 / (H - 1) + 41 - 41.5]
    np.testing.assert_allclose(got[:, :2], [want, want], atol=1e-5)


def test_missing_rule_zeroes_confidence_and_keeps_the_argmax():
    visible, hidden = _peak(3.1, 2.2), _negative(5)
    hidden[6, 1] = -0.001  # the (negative) maximum: column 1, row 6
    maps = np.stack([hidden, visible])[None]
    official = decode_heatmaps(maps, np.array([[75, 100]]), invisible="easy_vitpose")[0]
    strict = decode_heatmaps(maps, np.array([[75, 100]]), invisible="missing")[0]
    np.testing.assert_array_equal(strict[1], official[1])  # visible joints decode identically
    assert strict[0, 2] == 0.0 and official[0, 2] == pytest.approx(-0.001)
    # flat log-map around the argmax: zero Newton step, the integer peak mapped to the crop
    np.testing.assert_allclose(strict[0, :2], [1 * 75 / 5 - 0.5, 6 * 100 / 7], atol=1e-5)
    with pytest.raises(ValueError, match="invisible-joint rule"):
        decode_heatmaps(maps, np.array([[75, 100]]), invisible="drop")


def test_crops_decoded_together_equal_crops_decoded_one_by_one():
    rng = np.random.default_rng(7)
    maps = rng.normal(0, 0.1, (3, 4, H, W)).astype(np.float32)
    maps[:, ::2] = -np.abs(maps[:, ::2])  # joints 0 and 2 invisible in every crop
    sizes = np.array([[75, 100], [61, 83], [190, 250]])
    together = decode_heatmaps(maps, sizes)
    alone = np.concatenate([decode_heatmaps(maps[i : i + 1], sizes[i : i + 1]) for i in range(3)])
    np.testing.assert_array_equal(together, alone)  # joint 0 wraps within its own crop, not the batch
    for i in range(3):
        np.testing.assert_allclose(together[i], reference_decode(maps[i], *sizes[i]), atol=2e-4, rtol=0)
