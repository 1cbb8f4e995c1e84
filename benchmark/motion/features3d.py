"""Hand-crafted 3D dance features: AIST++/Bailando kinetic and manual (geometric) features, and MACE-Dance's
vectorised kinetic variant — each reproducing its reference's arithmetic, quirks included.

The loops of the reference code (fairmotion-derived ``utils/features/{kinetic,manual_new,utils}.py`` in
Bailando, LODGE and the AIST++ API) are vectorised over frames here, but every elementwise operation is done in
the same order and precision (differences in the input dtype, window sums accumulated in float64, frame sums
accumulated sequentially) so the values agree to float rounding. See the AIST++ API (``aist_plusplus/features``) and Bailando's ``utils/features``.
"""

from __future__ import annotations

import numpy as np

from ma_data.core.body.skeleton import JOINT_NAMES

# ------------------------------------------------------------------------------------------------- kinetic


def _seq_sum(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sequential (left-to-right) float64 sum, as a Python ``val += ...`` loop accumulates."""
    if x.shape[axis] == 0:
        return np.zeros(np.delete(x.shape, axis), dtype=np.float64)
    return np.cumsum(x.astype(np.float64, copy=False), axis=axis).take(-1, axis=axis)


def kinetic_features_aist(
    positions: np.ndarray,
    frame_time: float = 1.0 / 60,
    up_axis: str = "y",
    sliding_window: int = 2,
    acceleration_bug: bool = True,
) -> np.ndarray:
    """AIST++/Bailando kinetic features: (3J,) float32, per joint [horizontal KE, vertical KE, energy expenditure].

    For every frame i >= 1 the velocity is averaged over the window k in [i-w, i+w] (clipped to the valid
    frames, so the window shrinks at the ends): ``sum_k (p[k] - p[k-1]) / (count * frame_time)``. The kinetic
    energies are the means over frames of its squared horizontal / vertical norm. Energy expenditure is the
    mean norm of the windowed acceleration ``((p[k+1]-p[k])/dt - v1)/dt`` where the reference computes
    ``v1 = p[k] - p[k-1]/dt`` (operator-precedence bug, ``acceleration_bug=True``) instead of
    ``(p[k] - p[k-1])/dt``. Bailando/LODGE bake in ``frame_time = 1/60`` whatever the data rate.
    """
    p = np.asarray(positions)
    if p.ndim != 3 or p.shape[2] != 3:
        raise ValueError(f"positions must be (T, J, 3), got {p.shape}")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    T, J, _ = p.shape
    if T < 2:
        raise ValueError(f"kinetic features need at least 2 frames, got {T}")
    if up_axis == "y":
        hor, ver = [0, 2], [1]
    elif up_axis == "z":
        hor, ver = [0, 1], [2]
    else:
        raise ValueError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
    dt = frame_time
    i = np.arange(1, T)

    # windowed velocity sums
    vel_sum = np.zeros((T - 1, J, 3), dtype=np.float64)
    vel_cnt = np.zeros(T - 1, dtype=np.int64)
    acc_sum = np.zeros((T - 1, J, 3), dtype=np.float64)
    acc_cnt = np.zeros(T - 1, dtype=np.int64)
    for j in range(-sliding_window, sliding_window + 1):
        k = i + j
        ok = (k - 1 >= 0) & (k < T)
        if ok.any():
            kk = k[ok]
            vel_sum[ok] += p[kk] - p[kk - 1]
            vel_cnt[ok] += 1
        ok = (k - 1 >= 0) & (k + 1 < T)
        if ok.any():
            kk = k[ok]
            v2 = (p[kk + 1] - p[kk]) / dt
            v1 = (p[kk] - p[kk - 1] / dt) if acceleration_bug else ((p[kk] - p[kk - 1]) / dt)
            acc_sum[ok] += (v2 - v1) / dt
            acc_cnt[ok] += 1

    with np.errstate(invalid="ignore", divide="ignore"):
        denom = (vel_cnt * dt)[:, None, None]
        vh = vel_sum[..., hor] / denom
        vv = vel_sum[..., ver] / denom
        ke_h = _seq_sum(np.sqrt((vh * vh).sum(-1)) ** 2) / (T - 1.0)
        ke_v = _seq_sum(np.abs(vv[..., 0]) ** 2) / (T - 1.0)
        a = acc_sum / acc_cnt[:, None, None]
        ee = _seq_sum(np.sqrt((a * a).sum(-1))) / (T - 1.0)
    return np.stack([ke_h, ke_v, ee], axis=-1).reshape(-1).astype(np.float32)


def kinetic_features_mace(joints: np.ndarray, frame_time: float = 1.0 / 30, up_axis: str = "y") -> np.ndarray:
    """MACE-Dance ``Evaluation-Motion/features/kinetic.py::kinetic_features`` for one clip: (3J,) float32.

    Frame-0 root subtracted; forward-difference velocity / frame_time, edge-padded at the start; a 5-tap box
    filter as zero-padded 'same' convolution; KE = mean over frames of the squared (smoothed) horizontal and
    vertical velocity; acceleration = forward difference of the smoothed 3D velocity / frame_time, edge-padded,
    smoothed again; energy expenditure = mean of its norm. (The caller keeps the first 66 dims.)
    """
    from scipy.signal import convolve

    x = np.asarray(joints)
    x = x - x[:1, :1, :]
    vel = (x[1:] - x[:-1]) / frame_time
    vel = np.concatenate([vel[:1], vel], axis=0)
    if up_axis == "y":
        hor, ver = vel[..., [0, 2]], vel[..., 1:2]
    elif up_axis == "z":
        hor, ver = vel[..., [0, 1]], vel[..., 2:3]
    else:
        raise ValueError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
    kernel = np.ones(5) / 5.0

    def smooth(arr: np.ndarray) -> np.ndarray:
        out = np.zeros_like(arr)
        for jj in range(arr.shape[1]):
            for d in range(arr.shape[2]):
                out[:, jj, d] = convolve(arr[:, jj, d], kernel, mode="same")
        return out

    vel_s, hor_s, ver_s = smooth(vel), smooth(hor), smooth(ver)
    ke_h = np.mean(np.sum(hor_s**2, axis=-1), axis=0)
    ke_v = np.mean(np.sum(ver_s**2, axis=-1), axis=0)
    acc = (vel_s[1:] - vel_s[:-1]) / frame_time
    acc = np.concatenate([acc[:1], acc], axis=0)
    ee = np.mean(np.linalg.norm(smooth(acc), axis=-1), axis=0)
    return np.stack([ke_h, ke_v, ee], axis=-1).reshape(-1).astype(np.float32)


# ------------------------------------------------------------------------------------------------- manual

# Fixed SMPL-template lengths the reference uses as thresholds (not the subject's own): humerus, shoulder
# width, hip width, from template joint positions of lshoulder/lelbow, lshoulder/rshoulder and lhip/rhip.
_TEMPLATE = {
    "lshoulder": (1.99113488e-01, 2.36807942e-01, -1.80702247e-02),
    "lelbow": (4.54445392e-01, 2.21158922e-01, -4.10167128e-02),
    "rshoulder": (-1.91692337e-01, 2.36928746e-01, -1.23055102e-02),
    "lhip": (5.64076714e-02, -3.23069185e-01, 1.09197125e-02),
    "rhip": (-6.24834076e-02, -3.31302464e-01, 1.50412619e-02),
}


def _tdist(a: str, b: str) -> float:
    return float(np.linalg.norm(np.array(_TEMPLATE[a]) - np.array(_TEMPLATE[b])))


HUMERUS_LENGTH = _tdist("lshoulder", "lelbow")  # ~0.2568 m
SHOULDER_WIDTH = _tdist("lshoulder", "rshoulder")  # ~0.3908 m
HIP_WIDTH = _tdist("lhip", "rhip")  # ~0.1192 m

# The 32 relational predicates (Mueller et al.) in the reference's order: (kind, joints, threshold or range).
# Thresholds are multiples of hl (humerus), sw (shoulder width) or hw (hip width).
MANUAL_FEATURES: tuple[tuple[str, tuple[str, ...], object], ...] = (
    ("nmove", ("neck", "rhip", "lhip", "rwrist"), ("hl", 1.8)),
    ("nmove", ("neck", "lhip", "rhip", "lwrist"), ("hl", 1.8)),
    ("nplane", ("chest", "neck", "neck", "rwrist"), ("hl", 0.2)),
    ("nplane", ("chest", "neck", "neck", "lwrist"), ("hl", 0.2)),
    ("move", ("belly", "chest", "chest", "rwrist"), ("hl", 1.8)),
    ("move", ("belly", "chest", "chest", "lwrist"), ("hl", 1.8)),
    ("angle", ("relbow", "rshoulder", "relbow", "rwrist"), (0, 110)),
    ("angle", ("lelbow", "lshoulder", "lelbow", "lwrist"), (0, 110)),
    ("nplane", ("lshoulder", "rshoulder", "lwrist", "rwrist"), ("sw", 2.5)),
    ("move", ("lwrist", "rwrist", "rwrist", "lwrist"), ("hl", 1.4)),
    ("move", ("rwrist", "root", "lwrist", "root"), ("hl", 1.4)),
    ("move", ("lwrist", "root", "rwrist", "root"), ("hl", 1.4)),
    ("fast", ("rwrist",), ("hl", 2.5)),
    ("fast", ("lwrist",), ("hl", 2.5)),
    ("plane", ("root", "lhip", "ltoes", "rankle"), ("hl", 0.38)),
    ("plane", ("root", "rhip", "rtoes", "lankle"), ("hl", 0.38)),
    ("nplane", ("zero", "y_unit", "y_min", "rankle"), ("hl", 1.2)),
    ("nplane", ("zero", "y_unit", "y_min", "lankle"), ("hl", 1.2)),
    ("nplane", ("lhip", "rhip", "lankle", "rankle"), ("hw", 2.1)),
    ("angle", ("rknee", "rhip", "rknee", "rankle"), (0, 110)),
    ("angle", ("lknee", "lhip", "lknee", "lankle"), (0, 110)),
    ("fast", ("rankle",), ("hl", 2.5)),
    ("fast", ("lankle",), ("hl", 2.5)),
    ("angle", ("neck", "root", "rshoulder", "relbow"), (25, 180)),
    ("angle", ("neck", "root", "lshoulder", "lelbow"), (25, 180)),
    ("angle", ("neck", "root", "rhip", "rknee"), (50, 180)),
    ("angle", ("neck", "root", "lhip", "lknee"), (50, 180)),
    ("plane", ("rankle", "neck", "lankle", "root"), ("hl", 0.5)),
    ("angle", ("neck", "root", "zero", "y_unit"), (70, 110)),
    ("nplane", ("zero", "minus_y_unit", "y_min", "rwrist"), ("hl", -1.2)),
    ("nplane", ("zero", "minus_y_unit", "y_min", "lwrist"), ("hl", -1.2)),
    ("fast", ("root",), ("hl", 2.3)),
)

_LENGTHS = {"hl": HUMERUS_LENGTH, "sw": SHOULDER_WIDTH, "hw": HIP_WIDTH}


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1)


def _norm(a: np.ndarray) -> np.ndarray:
    return np.sqrt((a * a).sum(-1))


def manual_features_aist(positions: np.ndarray, velocity_frame_time: float = 1.0 / 120) -> np.ndarray:
    """AIST++/Bailando ``manual_new`` geometric features: (32,) float32, each the fraction of frames 1..T-1 on
    which a boolean pose/motion predicate holds.

    Quirks kept: thresholds from fixed template lengths; velocities use ``velocity_frame_time`` (1/120 s in the
    reference, whatever the data rate); ``move(j1, j2, j3, j4)`` measures j3's velocity relative to j1 along
    j1->j2 and ignores j4; the floor ("y_min") is the lowest joint's y in the current frame; angle bounds are
    strict and zero-length vectors make a predicate false (NaN). Y-up positions, J >= 22 SMPL joints.
    """
    p = np.asarray(positions)
    if p.ndim != 3 or p.shape[2] != 3 or p.shape[1] < 22:
        raise ValueError(f"positions must be (T, J>=22, 3) SMPL joints, got {p.shape}")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if p.shape[0] < 2:
        raise ValueError("manual features need at least 2 frames")
    cur, prev = p[1:], p[:-1]
    F = cur.shape[0]
    dtype = p.dtype

    def const(v):
        return np.broadcast_to(np.asarray(v, dtype=np.float64), (F, 3))

    y_min = np.zeros((F, 3), dtype=np.float64)
    y_min[:, 1] = cur[:, :, 1].min(axis=1)

    def at(name: str) -> np.ndarray:
        if name == "y_unit":
            return const((0, 1, 0))
        if name == "minus_y_unit":
            return const((0, -1, 0))
        if name == "zero":
            return const((0, 0, 0))
        if name == "y_min":
            return y_min
        return cur[:, JOINT_NAMES.index(name)]

    def before(name: str) -> np.ndarray:
        return prev[:, JOINT_NAMES.index(name)]

    out = np.zeros((F, len(MANUAL_FEATURES)), dtype=bool)
    tpf = velocity_frame_time
    with np.errstate(invalid="ignore", divide="ignore"):
        for c, (kind, names, arg) in enumerate(MANUAL_FEATURES):
            if kind == "angle":
                j = at(names[1]) - at(names[0])
                k = at(names[3]) - at(names[2])
                ang = np.degrees(np.arccos(_dot(j, k) / (_norm(j) * _norm(k))))
                out[:, c] = (ang > arg[0]) & (ang < arg[1])
                continue
            thr = _LENGTHS[arg[0]] * arg[1]
            if kind == "move":
                j1, j2, j3 = names[0], names[1], names[2]
                vel = at(j3) - at(j1) - (before(j3) - before(j1))
                direction = at(j2) - at(j1)
                along = _dot(vel, direction) / _norm(direction) / tpf
                out[:, c] = along > thr
            elif kind == "nmove":
                j1, j2, j3, j4 = names
                vel = at(j4) - at(j1) - (before(j4) - before(j1))
                direction = np.cross(at(j3) - at(j1), at(j2) - at(j1))
                along = _dot(vel, direction) / _norm(direction) / tpf
                out[:, c] = along > thr
            elif kind == "plane":
                a, b, cc, q = (at(n) for n in names)
                cross = np.cross(cc - a, b - a)
                out[:, c] = _dot(cross, q - a) / _norm(cross) > thr
            elif kind == "nplane":
                n1, n2, a, q = (at(n) for n in names)
                normal = n2 - n1
                out[:, c] = _dot(normal, q - a) / _norm(normal) > thr
            elif kind == "fast":
                v = _norm(at(names[0]) - before(names[0])) / tpf
                out[:, c] = v > thr
            else:  # pragma: no cover - table is fixed
                raise AssertionError(kind)
    del dtype
    return out.astype(np.float32).mean(axis=0).astype(np.float32)
