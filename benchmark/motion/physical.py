"""Physical plausibility scores of 3D dance: EDGE's PFC and LODGE's foot-skating ratio (FSR).

PFC — Physical Foot Contact (Tseng et al., EDGE, CVPR 2023; ``eval/eval_pfc.py``), on Z-up joints:
  root acceleration a_t = second difference of the pelvis / DT^2 (DT = 1/30 s), its up component clamped to
  >= 0, ``|a_t|`` divided by its per-sequence maximum; per side the smaller of the ankle and toe horizontal
  displacement between consecutive frames (metres per frame); PFC = mean_t(left_min * right_min * a_t),
  averaged over sequences and multiplied by 1e4. Lower is better.

FSR — foot-skating ratio (Li et al., Lodge, CVPR 2024; ``metric/foot_skating.py`` in li-ronghui/LODGE, the
  metric behind the "FSR" column of Lodge's FineDance table and MACE-Dance's Table 2), on Y-up joints:
  1. ground the motion: with toe heights h_l, h_r at frame 0, the floor is their mean when |h_l - h_r| < 2 cm,
     else the lower one; all joints are shifted so the floor is at y = 0;
  2. foot velocity v_t = p_{t+1} - p_t (metres per frame; the last frame is 0) for ankles (7, 8) and toes
     (10, 11);
  3. a side is in contact at t when its ankle y <= 0.08 m and its toe y <= 0.05 m;
  4. a contact frame skates when, for its ankle or its toe, |mean(v_x, v_z)| > 0.01 m/frame (the reference
     averages the two horizontal components instead of taking the norm);
  5. per side, ratio = skating frames / contact frames; FSR = (mean over sequences of the left ratio + mean of
     the right ratio) / 2. Lower is better.
"""

from __future__ import annotations

import numpy as np

from ma_data.core.body.skeleton import FOOT_JOINTS

L_ANKLE, R_ANKLE, L_TOE, R_TOE = 7, 8, 10, 11


def pfc_sequence(joints: np.ndarray, dt: float = 1.0 / 30, up_index: int = 2) -> float:
    """EDGE's per-sequence PFC term (not yet x1e4) for (T, J>=12, 3) joints with axis ``up_index`` up.

    Returns NaN when the root never accelerates (the reference divides by a zero maximum).
    """
    j = np.asarray(joints)  # computed in the input's dtype, as the reference does
    if not np.issubdtype(j.dtype, np.floating):
        j = j.astype(np.float64)
    if j.ndim != 3 or j.shape[1] < 12 or j.shape[2] != 3:
        raise ValueError(f"joints must be (T, J>=12, 3), got {j.shape}")
    if j.shape[0] < 3:
        raise ValueError("PFC needs at least 3 frames")
    flat = [a for a in range(3) if a != up_index]
    root_v = (j[1:, 0, :] - j[:-1, 0, :]) / dt
    root_a = (root_v[1:] - root_v[:-1]) / dt
    root_a[:, up_index] = np.maximum(root_a[:, up_index], 0)
    root_a = np.linalg.norm(root_a, axis=-1)
    scale = root_a.max()
    if not scale > 0:
        return float("nan")
    root_a = root_a / scale
    feet = j[:, list(FOOT_JOINTS)]
    foot_v = np.linalg.norm(feet[2:][:, :, flat] - feet[1:-1][:, :, flat], axis=-1)
    # the reference stores the per-side minima in a float64 array before multiplying
    left = np.minimum(foot_v[:, 0], foot_v[:, 1]).astype(np.float64)
    right = np.minimum(foot_v[:, 2], foot_v[:, 3]).astype(np.float64)
    return float(np.mean(left * right * root_a))


def pfc_score(sequences: list[np.ndarray], dt: float = 1.0 / 30, up_index: int = 2) -> float:
    """Set-level PFC: mean over sequences x 1e4 (sequences whose term is NaN are left out)."""
    vals = np.array([pfc_sequence(s, dt=dt, up_index=up_index) for s in sequences], dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    return float(np.mean(vals) * 10000) if vals.size else float("nan")


def ground_height(joints_yup: np.ndarray, toe_tolerance: float = 0.02) -> float:
    """LODGE's floor estimate from frame 0: mean toe height if the toes are level within 2 cm, else the lower."""
    hl, hr = float(joints_yup[0, L_TOE, 1]), float(joints_yup[0, R_TOE, 1])
    return (hl + hr) / 2 if abs(hl - hr) < toe_tolerance else min(hl, hr)


#: Floor estimates of FSR by name (the ``fsr_ground`` protocol parameter).
GROUND_RULES = {"frame0_toes": ground_height}


def foot_skating_sequence(
    joints_yup: np.ndarray,
    ankle_height: float = 0.08,
    toe_height: float = 0.05,
    speed_threshold: float = 0.01,
    tangent: str = "mean",
    ground: str = "frame0_toes",
) -> tuple[float, float]:
    """(left_ratio, right_ratio) of LODGE's foot-skating measure for one (T, J>=12, 3) Y-up sequence.

    ``tangent="mean"`` reproduces the reference (|mean of v_x and v_z|); ``"norm"`` uses the horizontal speed.
    ``ground`` names the floor estimate (:data:`GROUND_RULES`). A side with no contact frame gives NaN.
    """
    j = np.array(joints_yup, copy=True)  # the input's float dtype, as the reference computes
    if not np.issubdtype(j.dtype, np.floating):
        j = j.astype(np.float64)
    if j.ndim != 3 or j.shape[1] < 12 or j.shape[2] != 3:
        raise ValueError(f"joints must be (T, J>=12, 3), got {j.shape}")
    j[..., 1] -= j.dtype.type(GROUND_RULES[ground](j))
    vel = np.zeros_like(j)
    vel[:-1] = j[1:] - j[:-1]
    ratios = []
    for ankle, toe in ((L_ANKLE, L_TOE), (R_ANKLE, R_TOE)):
        contact = (j[:, ankle, 1] <= ankle_height) & (j[:, toe, 1] <= toe_height)
        v = vel[:, [ankle, toe]][:, :, [0, 2]]  # (T, 2 joints, x/z)
        if tangent == "mean":
            speed = np.abs(v.mean(axis=-1))
        elif tangent == "norm":
            speed = np.linalg.norm(v, axis=-1)
        else:
            raise ValueError(f"tangent must be 'mean' or 'norm', got {tangent!r}")
        slide = contact & (speed > speed_threshold).any(axis=-1)
        n_contact = int(contact.sum())
        ratios.append(float(slide.sum()) / n_contact if n_contact else float("nan"))
    return ratios[0], ratios[1]


def foot_skating_ratio(sequences: list[np.ndarray], **kwargs) -> float:
    """Set-level FSR: (mean left ratio + mean right ratio) / 2, NaN sides left out of their mean."""
    pairs = np.array([foot_skating_sequence(s, **kwargs) for s in sequences], dtype=np.float64).reshape(-1, 2)
    means = [np.mean(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan for c in pairs.T]
    return float((means[0] + means[1]) / 2)
