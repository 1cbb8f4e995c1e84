"""Top-down pose geometry as easy_ViTPose does it: box -> padded crop -> 192x256 input -> heatmaps -> pixels.

easy_ViTPose (the official MACE-Dance extractor) does not use an affine warp. Per person box it:

1. rounds the box to integers, grows it by 10 px on every side and clips it to the image;
2. crops that region and zero-pads it (centred) to a width:height of 3:4;
3. resizes the padded crop to 192x256 (bilinear, :func:`resize_crop`), scales to [0, 1] and normalises with
   ImageNet mean/std (:func:`normalise`, on the model's device);
4. decodes the 48x64 heatmaps with DARK refinement under UDP ("unbiased data processing"): integer argmax,
   then one Newton step on the log of the Gaussian-blurred (11x11) heatmap, then maps heatmap coordinates to
   the crop with ``x = px * w / (W - 1) + w // 2 - w / 2`` (its box centre is ``w // 2``, an integer);
5. adds the crop's offset in the image. The confidence is the raw heatmap maximum.

Invisible joints (a heatmap whose maximum is <= 0, which a trained model produces for a joint it cannot see)
are decoded by one of two named rules (:data:`INVISIBLE_JOINT_RULES`):

- ``"easy_vitpose"`` (the official extractor, used by ``mace2d-official``): ``_get_max_preds`` replaces the
  argmax by (-1, -1); ``post_dark_udp`` then gathers the Newton-step neighbours by *flat* index into the
  edge-padded log-heatmaps of the whole crop, so the reads at offsets -1, -(W+2), -(W+3) fall into the previous
  joint's padded map (joint 0 wraps to the last joint's, since easy_ViTPose decodes one crop per call). The
  point lands near the crop's top-left corner (exactly on it when the previous map is flat and positive), and
  keeps its (non-positive) heatmap maximum as confidence.
- ``"missing"`` (``mace2d-strict``): the joint is marked missing: confidence 0 (and listed by the backend in
  the track's ``meta["invisible_joints"]``); its position is the heatmap argmax decoded as for a visible joint
  (the flat log-heatmap there gives a zero Newton step), i.e. a point inside the person box, not a corner.

Visible joints decode identically under both rules. The arithmetic follows the reference's dtypes: argmax
coordinates, blur, log and derivatives in float32, the regularised Hessian inverted in float64, the refined
heatmap coordinate and the crop coordinate rounded to float32 (``easy_ViTPose/vit_utils/top_down_eval.py``
and ``post_processing/post_transforms.py`` at JunkyByte/easy_ViTPose@4f2ba44). Everything is vectorised over
crops and joints; each crop reads only its own maps, as the per-crop reference call does.
"""

from __future__ import annotations

import numpy as np

from ma_data.core.errors import check_choice

INPUT_SIZE = (192, 256)  # (width, height) fed to ViTPose
ASPECT = 3 / 4  # width / height of the crop
BOX_PAD = 10  # pixels added on each side of the detector box
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
DARK_KERNEL = 11


def crop_box(image: np.ndarray, box: np.ndarray, pad: int = BOX_PAD, aspect: float = ASPECT):
    """Crop ``box`` (x1, y1, x2, y2[, score]) from ``image`` the easy_ViTPose way.

    Returns ``(crop, origin)``: the zero-padded 3:4 crop and the image coordinates of its top-left corner
    (may be negative where padding was added), so ``image_xy = crop_xy + origin``.
    """
    h, w = image.shape[:2]
    x1, y1, x2, y2 = np.round(np.asarray(box, np.float64)[:4]).astype(int)
    x1, x2 = np.clip([x1 - pad, x2 + pad], 0, w)
    y1, y2 = np.clip([y1 - pad, y2 + pad], 0, h)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"empty box after clipping: {box}")
    crop = image[y1:y2, x1:x2]
    ch, cw = crop.shape[:2]
    left = top = 0
    if cw / ch < aspect:  # too narrow: pad left/right
        extra = int(aspect * ch) - cw
        left = extra // 2
        crop = np.pad(crop, ((0, 0), (left, extra - left), (0, 0)))
    else:  # too wide: pad top/bottom
        extra = int(cw / aspect) - ch
        top = extra // 2
        crop = np.pad(crop, ((top, extra - top), (0, 0), (0, 0)))
    return crop, np.array([x1 - left, y1 - top], np.float64)


def resize_crop(crop: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB crop -> (256, 192, 3) uint8, bilinear as easy_ViTPose (``cv2.resize``)."""
    import cv2

    return cv2.resize(crop, INPUT_SIZE, interpolation=cv2.INTER_LINEAR)


def normalise(resized):
    """(N, 256, 192, 3) uint8 torch tensor (any device) -> (N, 3, 256, 192) float32 network input.

    easy_ViTPose's arithmetic: ``(x / 255 - mean) / std`` in float64 (mean and std are float32 constants),
    rounded once to float32. IEEE division and subtraction round the same on every device, so this gives the
    reference's bits on the GPU too. The result keeps the channels-last strides of the permuted input, the
    layout the reference's transposed numpy array reached the network with.
    """
    import torch

    x = resized.permute(0, 3, 1, 2).to(torch.float64).div_(255.0)
    mean = torch.as_tensor(MEAN, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    std = torch.as_tensor(STD, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    return x.sub_(mean).div_(std).to(torch.float32)


#: Named rules for joints whose whole heatmap is <= 0 (see the module docstring).
INVISIBLE_JOINT_RULES: dict[str, str] = {
    "easy_vitpose": "official easy_ViTPose behaviour: argmax replaced by (-1, -1), DARK-UDP neighbours read by "
    "flat index (partly from the previous joint's padded map); the point lands near the crop's top-left corner "
    "and keeps its non-positive confidence",
    "missing": "joint marked missing: confidence 0 (listed in the track's meta['invisible_joints']); position = "
    "the heatmap argmax inside the person box",
}
DEFAULT_INVISIBLE_RULE = "easy_vitpose"


def check_invisible_rule(rule: str) -> str:
    return check_choice("invisible-joint rule", rule, INVISIBLE_JOINT_RULES)


def _blur(heatmaps: np.ndarray, kernel: int) -> np.ndarray:
    import cv2

    out = np.empty_like(heatmaps)
    for idx in np.ndindex(heatmaps.shape[:2]):
        out[idx] = cv2.GaussianBlur(heatmaps[idx], (kernel, kernel), 0)  # sigma from kernel size, as DARK
    return out


def argmax_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer peak (x, y) per heatmap and its value: (N, K, 2) float32, (N, K) float32."""
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = flat.argmax(axis=-1)
    peak = np.stack([idx % w, idx // w], axis=-1).astype(np.float32)
    return peak, flat.max(axis=-1)


def invisible_joints(heatmaps: np.ndarray) -> np.ndarray:
    """(N, K) bool: joints whose whole heatmap is <= 0 (easy_ViTPose's ``maxvals > 0`` test fails)."""
    return ~(np.asarray(heatmaps).reshape(*np.shape(heatmaps)[:2], -1).max(axis=-1) > 0.0)


def dark_refine(
    heatmaps: np.ndarray, peaks: np.ndarray, kernel: int = DARK_KERNEL, max_step: float | None = None
) -> np.ndarray:
    """DARK-UDP refinement exactly as easy_ViTPose's ``post_dark_udp``: one Newton step on the log-heatmap.

    ``heatmaps`` (N, K, H, W) are blurred (``kernel``), clipped to [0.001, 50] and logged in float32, edge-padded
    by one pixel and flattened per crop; the seven neighbours of each (float32) coordinate are gathered by flat
    index ``x + 1 + (y + 1) * (W + 2) + k * (W + 2) * (H + 2)``, negative indices wrapping to the end of the
    crop's array (so a (-1, -1) coordinate reads the previous joint's map). The Hessian plus float32 eps on the
    diagonal is inverted in float64 and the step subtracted in float32. ``max_step`` (heatmap pixels; not in the
    reference) keeps the integer coordinate where the step is larger; a singular Hessian (where the reference
    raises) gives no step. Returns (N, K, 2) float32.
    """
    hm = _blur(np.asarray(heatmaps, np.float32), kernel)
    np.clip(hm, 0.001, 50, out=hm)
    np.log(hm, out=hm)
    n, k, h, w = hm.shape
    row = w + 2
    padded = np.pad(hm, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge").reshape(n, -1)
    coords = np.asarray(peaks, np.float32)
    index = coords[..., 0] + 1 + (coords[..., 1] + 1) * row  # float32, as the reference
    index = (index + np.float32(row * (h + 2)) * np.arange(k, dtype=np.float32)).astype(np.int64)

    def at(offset: int) -> np.ndarray:
        return np.take_along_axis(padded, (index + offset) % padded.shape[1], axis=1)  # wrap like a[-1]

    i_, ix1, iy1, ix1y1 = at(0), at(1), at(row), at(row + 1)
    ix1_y1_, ix1_, iy1_ = at(-row - 1), at(-1), at(-row)
    dx = 0.5 * (ix1 - ix1_)
    dy = 0.5 * (iy1 - iy1_)
    dxx = ix1 - 2 * i_ + ix1_
    dyy = iy1 - 2 * i_ + iy1_
    dxy = 0.5 * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_)
    derivative = np.stack([dx, dy], axis=-1)[..., None]  # (N, K, 2, 1) float32
    hessian = np.stack([dxx, dxy, dxy, dyy], axis=-1).reshape(n, k, 2, 2) + np.finfo(np.float32).eps * np.eye(
        2
    )
    try:
        inverse = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:  # the reference crashes here; keep the integer coordinate instead
        singular = np.linalg.det(hessian) == 0
        hessian[singular] = np.eye(2)
        inverse = np.linalg.inv(hessian)
        inverse[singular] = 0.0
    step = np.einsum("ijmn,ijnk->ijmk", inverse, derivative)[..., 0]
    if max_step is not None:
        step[np.abs(step).max(axis=-1) > max_step] = 0.0
    return (coords - step).astype(np.float32)


def heatmap_to_crop(coords: np.ndarray, heatmap_size: tuple[int, int], crop_size: np.ndarray) -> np.ndarray:
    """UDP mapping from heatmap (x, y) to crop pixels, with easy_ViTPose's integer box centre (float64).

    ``heatmap_size`` is (W, H); ``crop_size`` is (N, 2) crop (width, height) per person. As the reference's
    ``transform_preds``: ``x * (w / (W - 1)) + w // 2 - w * 0.5``.
    """
    hw, hh = heatmap_size
    size = np.asarray(crop_size, np.int64).reshape(-1, 1, 2)  # (N, 1, 2)
    scale = size / np.array([hw - 1.0, hh - 1.0])
    return np.asarray(coords, np.float64) * scale + size // 2 - size * 0.5


def decode_heatmaps(
    heatmaps: np.ndarray,
    crop_sizes: np.ndarray,
    refine: bool = True,
    max_step: float | None = None,
    invisible: str = DEFAULT_INVISIBLE_RULE,
) -> np.ndarray:
    """(N, K, H, W) heatmaps -> (N, K, 3) ``(x, y, conf)`` in crop pixels (float64 holding float32 values).

    ``conf`` is the raw heatmap maximum; ``refine`` applies DARK-UDP (as easy_ViTPose); ``max_step`` bounds its
    Newton step (see :func:`dark_refine`); ``invisible`` names the rule for joints whose heatmap is <= 0
    (:data:`INVISIBLE_JOINT_RULES`).
    """
    check_invisible_rule(invisible)
    heatmaps = np.asarray(heatmaps, np.float32)
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps must be (N, K, H, W), got {heatmaps.shape}")
    peaks, maxvals = argmax_heatmaps(heatmaps)
    hidden = ~(maxvals > 0.0)
    if invisible == "easy_vitpose":
        peaks[hidden] = -1.0  # _get_max_preds
    if refine:
        peaks = dark_refine(heatmaps, peaks, max_step=max_step)
    h, w = heatmaps.shape[2:]
    xy = heatmap_to_crop(peaks, (w, h), crop_sizes).astype(np.float32)  # transform_preds writes float32
    conf = np.where(hidden, np.float32(0.0), maxvals) if invisible == "missing" else maxvals
    return np.concatenate([xy, conf[..., None]], axis=-1).astype(np.float64)
