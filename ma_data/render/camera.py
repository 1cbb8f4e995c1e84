"""The documented front-view camera and the pinhole projection shared by renderer and keypoints.

World frame: FineDance / SMPL rest frame, Y up, metres; the dancer faces +Z. The camera:

* is a perspective pinhole with vertical field of view ``yfov`` and square pixels, so
  ``fx = fy = H / (2 tan(yfov / 2))`` and the principal point is the image centre ``(W/2, H/2)``;
* is level (no pitch or roll) and looks along -Z from the +Z side, so the viewer sees the dancer's front
  and the dancer's left (+X) appears on the image's right (the official pose-video convention, §2.2);
* is fixed for a whole clip: it is centred on the clip's joint bounding box (plus ``margin``) and
  backed off until that box, at its nearest depth, fits both the vertical and horizontal field of view.
  Root translation is therefore kept: the dancer travels across a still frame.

Pixel coordinates: x right, y down, continuous, pixel (i, j) covering [i, i + 1) x [j, j + 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A pinhole camera. ``pose`` is the 4x4 camera-to-world matrix in OpenGL convention (looks along -Z)."""

    width: int
    height: int
    yfov: float  # radians
    pose: np.ndarray
    znear: float = 0.05
    zfar: float = 100.0

    @property
    def focal(self) -> float:
        return self.height / (2.0 * math.tan(self.yfov / 2.0))

    @property
    def intrinsics(self) -> np.ndarray:
        """3x3 K for image pixels (y down)."""
        f = self.focal
        return np.array([[f, 0, self.width / 2], [0, f, self.height / 2], [0, 0, 1]], dtype=np.float64)

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 3) camera coordinates (OpenGL: x right, y up, -z forward)."""
        inv = np.linalg.inv(self.pose)
        return points @ inv[:3, :3].T + inv[:3, 3]

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., 3) world points -> ((..., 2) pixel xy, (..., ) depth in metres along the view axis)."""
        pc = self.world_to_camera(np.asarray(points, dtype=np.float64))
        depth = -pc[..., 2]
        safe = np.where(depth > 1e-6, depth, 1e-6)
        f = self.focal
        x = self.width / 2.0 + f * pc[..., 0] / safe
        y = self.height / 2.0 - f * pc[..., 1] / safe
        return np.stack([x, y], axis=-1), depth

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "yfov": self.yfov,
            "pose": np.asarray(self.pose).tolist(),
            "znear": self.znear,
            "zfar": self.zfar,
            "convention": "opengl camera-to-world; pixels x right, y down; fx=fy=H/(2 tan(yfov/2))",
        }


def front_camera(
    points: np.ndarray,
    width: int,
    height: int,
    yfov_deg: float = 40.0,
    margin: float = 0.25,
    min_half_height: float = 1.05,
) -> Camera:
    """Frame all ``points`` (any shape (..., 3), Y-up world, e.g. every joint of every frame of a clip)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    centre = (lo + hi) / 2.0
    half = (hi - lo) / 2.0
    half_h = max(half[1], min_half_height)
    half_w = max(half[0], min_half_height * width / height)
    tan_y = math.tan(math.radians(yfov_deg) / 2.0)
    tan_x = tan_y * width / height
    dist = max(half_h / tan_y, half_w / tan_x)  # distance from the box's front face
    pose = np.eye(4)
    pose[:3, 3] = [centre[0], centre[1], hi[2] + dist]
    return Camera(width=width, height=height, yfov=math.radians(yfov_deg), pose=pose)
