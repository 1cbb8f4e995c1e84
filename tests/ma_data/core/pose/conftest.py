"""Fixtures for the pose tests: a real photograph of a person (Debian's opencv-doc) and videos made from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# Installed by `make setup` (APT_PACKAGES: opencv-doc). Lionel Messi mid-kick, facing the camera, 548x342.
MESSI = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")


@pytest.fixture(scope="session")
def messi_rgb() -> np.ndarray:
    if not MESSI.exists():
        pytest.skip(f"{MESSI} not found: install the Debian package opencv-doc (make setup does)")
    cv2 = pytest.importorskip("cv2")
    return np.ascontiguousarray(cv2.imread(str(MESSI))[:, :, ::-1])


@pytest.fixture(scope="session")
def mediapipe_backend():
    pytest.importorskip("mediapipe")
    from ma_data.core.pose.mediapipe_backend import MediaPipeBackend

    backend = MediaPipeBackend()
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def panning_frames():
    """Factory: ``panning_frames(image, n, step)`` -> frames of ``image`` moving ``step`` px right per frame."""
    return make_panning_frames


def make_panning_frames(image: np.ndarray, n: int, step: int, pad: int = 48) -> list[np.ndarray]:
    """``image`` on a grey canvas, moved ``step`` px right per frame (canvas size even, for yuv420p)."""
    h, w = image.shape[:2]
    H, W = h + 2 * pad, w + 2 * pad + step * n
    H, W = H + H % 2, W + W % 2
    frames = []
    for i in range(n):
        canvas = np.full((H, W, 3), 127, np.uint8)
        canvas[pad : pad + h, pad + i * step : pad + i * step + w] = image
        frames.append(canvas)
    return frames
