"""Rotation conversions for numpy arrays and torch tensors, batched over any leading dimensions.

Conventions (the same as pytorch3d, so files written by EDGE / FineDance / MACE-Dance read back unchanged):

- axis-angle: (..., 3), the rotation vector (unit axis times angle in radians);
- matrix: (..., 3, 3), acting on column vectors (``p' = R @ p``);
- quaternion: (..., 4), real part first ``(w, x, y, z)``;
- 6D: (..., 6), the first two ROWS of the matrix, flattened (pytorch3d ``matrix_to_rotation_6d``); decoding
  is Gram-Schmidt on those rows.

Every function accepts either a numpy array or a torch tensor and returns the same kind; torch is imported
only when a tensor is passed, so the numpy path works without torch installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # np.ndarray | torch.Tensor

_SMALL_ANGLE = 1e-6


def is_torch(x: Array) -> bool:
    return type(x).__module__.startswith("torch")


class _Ops:
    """The handful of array operations whose spelling differs between numpy and torch."""

    def __init__(self, like: Array):
        self.torch = is_torch(like)
        if self.torch:
            import torch

            self.m = torch
        else:
            self.m = np

    def stack(self, xs, axis):
        return self.m.stack(xs, axis) if self.torch else np.stack(xs, axis=axis)

    def cat(self, xs, axis):
        return self.m.cat(xs, axis) if self.torch else np.concatenate(xs, axis=axis)

    def norm(self, x, axis, keepdims=False):
        if self.torch:
            return self.m.linalg.norm(x, dim=axis, keepdim=keepdims)
        return np.linalg.norm(x, axis=axis, keepdims=keepdims)

    def sum(self, x, axis, keepdims=False):
        if self.torch:
            return x.sum(dim=axis, keepdim=keepdims)
        return x.sum(axis=axis, keepdims=keepdims)

    def where(self, c, a, b):
        return self.m.where(c, a, b)

    def clip(self, x, lo, hi):
        return self.m.clamp(x, lo, hi) if self.torch else np.clip(x, lo, hi)

    def sqrt(self, x):
        return self.m.sqrt(x)

    def zeros_like(self, x):
        return self.m.zeros_like(x)

    def cross(self, a, b):
        return self.m.linalg.cross(a, b, dim=-1) if self.torch else np.cross(a, b, axis=-1)

    def argmax(self, x, axis):
        return x.argmax(dim=axis) if self.torch else x.argmax(axis=axis)

    def take_along(self, x, idx, axis):
        if self.torch:
            return self.m.take_along_dim(x, idx, dim=axis)
        return np.take_along_axis(x, idx, axis=axis)

    def expand_dims(self, x, axis):
        return x.unsqueeze(axis) if self.torch else np.expand_dims(x, axis)

    def atan2(self, y, x):
        return self.m.atan2(y, x) if self.torch else np.arctan2(y, x)

    def maximum0(self, x):
        return self.m.clamp(x, min=0.0) if self.torch else np.maximum(x, 0.0)

    def float_array(self, x):
        if self.torch:
            return x if x.is_floating_point() else x.double()
        x = np.asarray(x)
        return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _sinc_half(angle: Array, ops: _Ops) -> Array:
    """sin(angle/2)/angle, with its Taylor series near zero (avoids 0/0)."""
    small = angle.abs() < _SMALL_ANGLE if ops.torch else np.abs(angle) < _SMALL_ANGLE
    safe = ops.where(small, ops.zeros_like(angle) + 1.0, angle)
    return ops.where(small, 0.5 - angle * angle / 48.0, ops.m.sin(safe * 0.5) / safe)


def axis_angle_to_quaternion(aa: Array) -> Array:
    """(..., 3) rotation vectors -> (..., 4) unit quaternions (w, x, y, z) with w >= 0."""
    ops = _Ops(aa)
    aa = ops.float_array(aa)
    angle = ops.norm(aa, -1, keepdims=True)
    w = ops.m.cos(angle * 0.5)
    xyz = aa * _sinc_half(angle, ops)
    return ops.cat([w, xyz], -1)


def quaternion_to_axis_angle(q: Array) -> Array:
    """(..., 4) quaternions (w, x, y, z), any norm -> (..., 3) rotation vectors, angle in [0, pi]."""
    ops = _Ops(q)
    q = ops.float_array(q)
    q = q / ops.norm(q, -1, keepdims=True)
    # q and -q are the same rotation; pick w >= 0 so the angle lands in [0, pi].
    sign = ops.where(q[..., :1] < 0, ops.zeros_like(q[..., :1]) - 1.0, ops.zeros_like(q[..., :1]) + 1.0)
    q = q * sign
    xyz = q[..., 1:]
    s = ops.norm(xyz, -1, keepdims=True)
    angle = 2.0 * ops.atan2(s, q[..., :1])
    return xyz / _sinc_half(angle, ops)


def quaternion_to_matrix(q: Array) -> Array:
    """(..., 4) quaternions (w, x, y, z) -> (..., 3, 3) rotation matrices (normalises first)."""
    ops = _Ops(q)
    q = ops.float_array(q)
    q = q / ops.norm(q, -1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [
        ops.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        ops.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        ops.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ]
    return ops.stack(rows, -2)


def matrix_to_quaternion(m: Array) -> Array:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions (w, x, y, z) with w >= 0.

    Shepperd's method: build the four candidate quaternions (each well conditioned when its largest component
    is the one divided by) and keep, per matrix, the one with the largest denominator.
    """
    ops = _Ops(m)
    m = ops.float_array(m)
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # 4*w^2, 4*x^2, 4*y^2, 4*z^2
    sq = ops.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    r = ops.sqrt(ops.maximum0(sq))  # 2*|component|
    cands = ops.stack(
        [
            ops.stack([r[..., 0] ** 2, m21 - m12, m02 - m20, m10 - m01], -1),
            ops.stack([m21 - m12, r[..., 1] ** 2, m10 + m01, m02 + m20], -1),
            ops.stack([m02 - m20, m10 + m01, r[..., 2] ** 2, m12 + m21], -1),
            ops.stack([m10 - m01, m20 + m02, m21 + m12, r[..., 3] ** 2], -1),
        ],
        -2,
    )  # row k = 2*r_k * q
    denom = 2.0 * ops.expand_dims(ops.clip(r, 1e-12, None), -1)
    cands = cands / denom
    best = ops.argmax(r, -1)
    idx = ops.expand_dims(ops.expand_dims(best, -1), -1)
    if ops.torch:
        idx = idx.expand(*idx.shape[:-1], 4)
    else:
        idx = np.broadcast_to(idx, idx.shape[:-1] + (4,))
    q = ops.take_along(cands, idx, -2)[..., 0, :]
    q = q / ops.norm(q, -1, keepdims=True)
    sign = ops.where(q[..., :1] < 0, ops.zeros_like(q[..., :1]) - 1.0, ops.zeros_like(q[..., :1]) + 1.0)
    return q * sign


def axis_angle_to_matrix(aa: Array) -> Array:
    """(..., 3) rotation vectors -> (..., 3, 3) matrices (Rodrigues via the quaternion; exact at 0)."""
    return quaternion_to_matrix(axis_angle_to_quaternion(aa))


def matrix_to_axis_angle(m: Array) -> Array:
    """(..., 3, 3) rotation matrices -> (..., 3) rotation vectors with angle in [0, pi]."""
    return quaternion_to_axis_angle(matrix_to_quaternion(m))


def matrix_to_rotation_6d(m: Array) -> Array:
    """(..., 3, 3) -> (..., 6): the first two rows, flattened (pytorch3d's convention)."""
    return m[..., :2, :].reshape(*m.shape[:-2], 6)


def rotation_6d_to_matrix(d6: Array) -> Array:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt on the two rows (pytorch3d's ``rotation_6d_to_matrix``)."""
    ops = _Ops(d6)
    d6 = ops.float_array(d6)
    a1, a2 = d6[..., :3], d6[..., 3:]
    # Norms clamped at 1e-12 as pytorch3d's F.normalize does: near-zero 6D vectors (network outputs during
    # training) then give finite values and gradients instead of NaN.
    b1 = a1 / ops.clip(ops.norm(a1, -1, keepdims=True), 1e-12, None)
    b2 = a2 - ops.sum(b1 * a2, -1, keepdims=True) * b1
    b2 = b2 / ops.clip(ops.norm(b2, -1, keepdims=True), 1e-12, None)
    b3 = ops.cross(b1, b2)
    return ops.stack([b1, b2, b3], -2)


def axis_angle_to_rotation_6d(aa: Array) -> Array:
    return matrix_to_rotation_6d(axis_angle_to_matrix(aa))


def rotation_6d_to_axis_angle(d6: Array) -> Array:
    return matrix_to_axis_angle(rotation_6d_to_matrix(d6))


def quaternion_multiply(a: Array, b: Array) -> Array:
    """Hamilton product a*b of (..., 4) quaternions (w, x, y, z): the rotation b followed by a."""
    ops = _Ops(a)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return ops.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
    )


def quaternion_apply(q: Array, v: Array) -> Array:
    """Rotate (..., 3) vectors by (..., 4) unit quaternions."""
    return (quaternion_to_matrix(q) @ v[..., None])[..., 0]
