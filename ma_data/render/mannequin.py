"""A built-in articulated mannequin rigidly skinned to the SMPL-24 skeleton (no SMPL model files needed).

Each body part is a convex solid (tapered capsules, a head sphere, foot wedges) defined in one joint's local
frame and carried by that joint's FK world transform (rigid skinning: every vertex has weight 1 on one joint).
Parts are built once from the rest skeleton; posing a frame only sets 4x4 node transforms, which keeps
rendering cheap. The head and feet are shaped around :mod:`ma_data.render.markers`, so face and foot keypoints
land on the body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from ma_data.core.body.skeleton import rest_offsets
from ma_data.render.markers import HEAD_CENTRE, HEAD_RADIUS, MARKERS

_OFF = rest_offsets()

#: (parent joint, child joint, radius at parent, radius at child): a tapered capsule along the bone.
_BONES: tuple[tuple[int, int, float, float], ...] = (
    (0, 1, 0.085, 0.075),  # pelvis -> hips
    (0, 2, 0.085, 0.075),
    (0, 3, 0.11, 0.11),  # pelvis -> belly
    (1, 4, 0.075, 0.055),  # thighs
    (2, 5, 0.075, 0.055),
    (3, 6, 0.11, 0.115),  # belly -> spine
    (4, 7, 0.055, 0.042),  # shins
    (5, 8, 0.055, 0.042),
    (6, 9, 0.115, 0.12),  # spine -> chest
    (9, 12, 0.12, 0.065),  # upper chest -> neck base
    (9, 13, 0.09, 0.07),  # chest -> collars
    (9, 14, 0.09, 0.07),
    (12, 15, 0.05, 0.05),  # neck
    (13, 16, 0.07, 0.055),  # collars -> shoulders
    (14, 17, 0.07, 0.055),
    (16, 18, 0.05, 0.042),  # upper arms
    (17, 19, 0.05, 0.042),
    (18, 20, 0.04, 0.032),  # forearms
    (19, 21, 0.04, 0.032),
)


@dataclass(frozen=True)
class Part:
    """A rigid body part: ``mesh`` vertices are in the frame of ``joint``."""

    name: str
    joint: int
    mesh: trimesh.Trimesh


def _hull(centres: list[np.ndarray], radii: list[float], subdiv: int = 2) -> trimesh.Trimesh:
    """Convex hull of spheres: a tapered capsule for two, a rounded wedge for more."""
    ball = trimesh.creation.icosphere(subdivisions=subdiv, radius=1.0)
    pts = np.concatenate([ball.vertices * r + c for c, r in zip(centres, radii, strict=True)])
    return trimesh.convex.convex_hull(pts)


def _foot(ankle: int, toe: int, subdiv: int = 2) -> trimesh.Trimesh:
    t = _OFF[toe]
    heel = MARKERS["left_heel" if ankle == 7 else "right_heel"][1]
    centres = [np.zeros(3), heel + np.array([0.0, 0.012, 0.005]), t, t + np.array([0.0, 0.0, 0.05])]
    return _hull(centres, [0.045, 0.035, 0.036, 0.03], subdiv)


def _hand(wrist: int, hand: int, subdiv: int = 2) -> trimesh.Trimesh:
    h = _OFF[hand]
    return _hull([np.zeros(3), h, h * 1.9], [0.03, 0.035, 0.022], subdiv)


def build_mannequin(detail: int = 2) -> list[Part]:
    """The mannequin's parts (deterministic; build once per renderer).

    ``detail`` is the icosphere subdivision of the rounded ends (1: ~2.5k triangles, for small frames;
    2: ~10k, for 720p). Mesa llvmpipe's cost grows with the triangle count, so small renders use 1.
    The parts' shapes (radii, joints) do not depend on ``detail``; only their tessellation does.
    """
    parts = [
        Part(f"bone_{p}_{c}", p, _hull([np.zeros(3), _OFF[c]], [r0, r1], detail)) for p, c, r0, r1 in _BONES
    ]
    parts.append(Part("head", 15, trimesh.creation.icosphere(subdivisions=detail + 1, radius=HEAD_RADIUS)))
    parts[-1].mesh.apply_translation(HEAD_CENTRE)
    parts.append(Part("left_foot", 7, _foot(7, 10, detail)))
    parts.append(Part("right_foot", 8, _foot(8, 11, detail)))
    parts.append(Part("left_hand", 20, _hand(20, 22, detail)))
    parts.append(Part("right_hand", 21, _hand(21, 23, detail)))
    return parts


def part_transforms(joints: np.ndarray, world_rots: np.ndarray, joint: int) -> np.ndarray:
    """(T, 4, 4) world transforms of a part attached to ``joint``."""
    n = joints.shape[0]
    out = np.tile(np.eye(4), (n, 1, 1))
    out[:, :3, :3] = world_rots[:, joint]
    out[:, :3, 3] = joints[:, joint]
    return out


def sole_height(joints: np.ndarray, world_rots: np.ndarray) -> float:
    """Lowest point of the mannequin's feet over a clip (Y-up), used to place the floor under it."""
    feet = build_feet_cache()
    low = np.inf
    for joint, verts in feet:
        world = np.einsum("tij,vj->tvi", world_rots[:, joint], verts) + joints[:, joint, None]
        low = min(low, float(world[..., 1].min()))
    return low


_FEET: list[tuple[int, np.ndarray]] | None = None


def build_feet_cache() -> list[tuple[int, np.ndarray]]:
    global _FEET
    if _FEET is None:
        _FEET = [(7, np.asarray(_foot(7, 10).vertices)), (8, np.asarray(_foot(8, 11).vertices))]
    return _FEET
