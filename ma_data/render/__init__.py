"""Offscreen rendering of SMPL-24 motion into front-view dance videos (pyrender over EGL).

Importing this package selects EGL for PyOpenGL (``PYOPENGL_PLATFORM=egl`` unless the user set another
platform) and restores ``np.infty`` (removed in numpy 2, still used by pyrender 0.1.45), so it must be
imported before anything that imports ``OpenGL``. EGL picks the GPU when an NVIDIA EGL vendor library is
installed and Mesa's llvmpipe (CPU) otherwise.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
if not hasattr(np, "infty"):  # numpy >= 2 removed the alias; pyrender 0.1.45 still uses it
    np.inf = np.inf  # type: ignore[attr-defined]

from ma_data.render.camera import Camera, front_camera  # noqa: E402
from ma_data.render.config import PRESETS, RenderConfig  # noqa: E402
from ma_data.render.markers import coco25_from_markers, marker_positions  # noqa: E402

__all__ = [
    "PRESETS",
    "Camera",
    "RenderConfig",
    "coco25_from_markers",
    "front_camera",
    "marker_positions",
]
