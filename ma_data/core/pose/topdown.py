"""Top-down pose geometry as easy_ViTPose does it: box -> padded crop -> 192x256 input -> heatmaps -> pixels.

easy_ViTPose (the official MACE-Dance extractor) does not use an affine warp. Per person box it:

1. rounds the box to integers, grows it by 10 px on every side and clips it to the image;
2. crops that region and zero-pads it (centred) to a width:height of 3:4;
3. resizes the padded crop to 192x256 (bilinear), scales to [0, 1] and normalises with ImageNet mean/std;
4. decodes the 48x64 heatmaps with DARK refinement under UDP ("unbiased data processing"): integer argmax,
   then one Newton step on the log of the Gaussian-blurred (11x11) heatmap, then maps heatmap coordinates to
   the crop with ``x = px * w / (W - 1) + (w // 2 - w / 2)`` (its box centre is ``w // 2``, an integer);
5. adds the crop's offset in the image. The confidence is the raw heatmap maximum.

These functions re-implement those steps (vectorised); they are tested on synthetic heatmaps with known peaks.
"""

from __future__ import annotations

import numpy as np

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


def preprocess(crop: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB crop -> (3, 256, 192) float32 normalised network input."""
    import cv2

    resized = cv2.resize(crop, INPUT_SIZE, interpolation=cv2.INTER_LINEAR).astype(np.float64) / 255.0
    return ((resized - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)


def _blur(heatmaps: np.ndarray, kernel: int) -> np.ndarray:
    import cv2

    out = np.empty_like(heatmaps)
    for idx in np.ndindex(heatmaps.shape[:2]):
        out[idx] = cv2.GaussianBlur(heatmaps[idx], (kernel, kernel), 0)  # sigma from kernel size, as DARK
    return out


def argmax_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer peak (x, y) per heatmap and its value: (N, K, 2) float, (N, K)."""
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = flat.argmax(axis=-1)
    peak = np.stack([idx % w, idx // w], axis=-1).astype(np.float64)
    return peak, np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]


def dark_refine(
    heatmaps: np.ndarray, peaks: np.ndarray, kernel: int = DARK_KERNEL, max_step: float | None = None
) -> np.ndarray:
    """DARK sub-pixel refinement: one Newton step on log(blurred heatmap) at the integer peak.

    Derivatives are central differences on the edge-padded log-heatmap (blur, clip to [0.001, 50], log),
    and the Hessian is regularised by float32 eps, as in mmpose's UDP variant. On a non-Gaussian heatmap
    (e.g. a flat one for an invisible joint) the Newton step can be huge, and easy_ViTPose keeps it; so do we
    unless ``max_step`` (heatmap pixels) is given. A non-finite step is always dropped (the integer peak is
    kept), since NaN keypoints would make the whole track invalid.
    """
    n, k, h, w = heatmaps.shape
    logh = np.log(np.clip(_blur(heatmaps.astype(np.float32), kernel), 0.001, 50)).astype(np.float64)
    padded = np.pad(logh, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    px = peaks[..., 0].astype(int) + 1
    py = peaks[..., 1].astype(int) + 1
    ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")

    def at(dy: int, dx: int) -> np.ndarray:
        return padded[ni, ki, py + dy, px + dx]

    c = at(0, 0)
    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = at(0, 1) - 2 * c + at(0, -1)
    dyy = at(1, 0) - 2 * c + at(-1, 0)
    dxy = 0.5 * (at(1, 1) - at(0, 1) - at(1, 0) + 2 * c - at(0, -1) - at(-1, 0) + at(-1, -1))
    hess = np.stack([np.stack([dxx, dxy], -1), np.stack([dxy, dyy], -1)], -2)
    hess = hess + np.finfo(np.float32).eps * np.eye(2)
    grad = np.stack([dx, dy], -1)[..., None]
    step = (np.linalg.inv(hess) @ grad)[..., 0]
    bad = ~np.isfinite(step).all(axis=-1)
    if max_step is not None:
        bad |= np.abs(step).max(axis=-1) > max_step
    step[bad] = 0.0
    return peaks - step


def heatmap_to_crop(coords: np.ndarray, heatmap_size: tuple[int, int], crop_size: np.ndarray) -> np.ndarray:
    """UDP mapping from heatmap (x, y) to crop pixels, with easy_ViTPose's integer box centre.

    ``heatmap_size`` is (W, H); ``crop_size`` is (N, 2) crop (width, height) per person.
    """
    hw, hh = heatmap_size
    size = np.asarray(crop_size, np.float64)[:, None, :]  # (N, 1, 2)
    scale = size / np.array([hw - 1.0, hh - 1.0])
    centre_shift = np.floor(size / 2) - size / 2  # center = w // 2 in easy_ViTPose, not w / 2
    return coords * scale + centre_shift


def decode_heatmaps(
    heatmaps: np.ndarray, crop_sizes: np.ndarray, refine: bool = True, max_step: float | None = None
) -> np.ndarray:
    """(N, K, H, W) heatmaps -> (N, K, 3) ``(x, y, conf)`` in crop pixels (conf = raw heatmap maximum).

    ``refine`` applies DARK (as easy_ViTPose); ``max_step`` bounds its Newton step (see :func:`dark_refine`).
    """
    heatmaps = np.asarray(heatmaps, np.float32)
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps must be (N, K, H, W), got {heatmaps.shape}")
    peaks, maxvals = argmax_heatmaps(heatmaps)
    if refine:
        peaks = dark_refine(heatmaps, peaks, max_step=max_step)
    h, w = heatmaps.shape[2:]
    xy = heatmap_to_crop(peaks, (w, h), crop_sizes)
    return np.concatenate([xy, maxvals[..., None].astype(np.float64)], axis=-1)
