"""The vectorised 2D features against a plain per-frame reference, closed forms and hand-made poses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.motion.mace2d import (
    COCO25_JOINT_ROWS,
    GEOMETRIC_ZERO_COLUMNS,
    OFFICIAL_JOINT_ROWS,
    geometric_features,
    kinetic_features,
)

# ----------------------------------------------------------------------------------------------------------
# A plain per-sample, per-frame reference written from the protocol description (the official ``calculate_metric.py`` as documented in ``benchmark/motion/mace2d.py``)
# ----------------------------------------------------------------------------------------------------------


def ref_kinetic(track: np.ndarray, rows=OFFICIAL_JOINT_ROWS, frame_time=1 / 30.0, half=2) -> np.ndarray:
    t = track.shape[0]
    xy = track[:, :, :2].astype(np.float64)
    out = []
    for j in range(25):
        pos = []
        for f in range(t):
            root = (xy[f, rows["left_hip"]] + xy[f, rows["right_hip"]]) / 2.0
            pos.append(xy[f, j] - root)
        vel = [None] * t
        for f in range(1, t):
            vel[f] = (pos[f] - pos[f - 1]) / frame_time
        vel[0] = vel[1]

        def smooth(seq):
            res = []
            for f in range(t):
                acc = np.zeros(2)
                for k in range(-half, half + 1):
                    if 0 <= f + k < t:
                        acc = acc + seq[f + k] * (1.0 / (2 * half + 1))
                res.append(acc)
            return res

        sv = smooth(vel)
        ke_h = sum(v[0] ** 2 for v in sv) / t
        ke_v = sum(v[1] ** 2 for v in sv) / t
        acc = [None] * t
        for f in range(1, t):
            acc[f] = (sv[f] - sv[f - 1]) / frame_time
        acc[0] = acc[1]
        sa = smooth(acc)
        ee = sum(math.hypot(a[0], a[1]) for a in sa) / t
        out += [ke_h, ke_v, ee]
    return np.array(out)


def _angle(v1, v2) -> float:
    n1, n2 = math.hypot(*v1), math.hypot(*v2)
    u1 = (v1[0] / (n1 + 1e-6), v1[1] / (n1 + 1e-6))
    u2 = (v2[0] / (n2 + 1e-6), v2[1] / (n2 + 1e-6))
    return math.degrees(math.acos(max(-1.0, min(1.0, u1[0] * u2[0] + u1[1] * u2[1]))))


def ref_geometric(track: np.ndarray, rows=OFFICIAL_JOINT_ROWS) -> np.ndarray:
    xy = track[:, :, :2].astype(np.float64)
    t = xy.shape[0]

    def j(name, f):
        return xy[f, rows[name]]

    def root(f):
        return (j("left_hip", f) + j("right_hip", f)) / 2

    def chest(f):
        return (j("left_shoulder", f) + j("right_shoulder", f)) / 2

    sw = float(np.linalg.norm(j("left_shoulder", 0) - j("right_shoulder", 0))) + 1e-6

    def step(fn, f):
        return float(np.linalg.norm(fn(f) - fn(f - 1)))

    def named(name):
        return lambda f: j(name, f)

    counts = np.zeros(32)
    for f in range(1, t):
        row = np.zeros(32)
        row[0] = row[1] = step(chest, f) > 1.8 * sw
        row[4] = row[5] = step(root, f) > 1.8 * sw
        elbow_r = _angle(
            j("right_shoulder", f) - j("right_elbow", f), j("right_wrist", f) - j("right_elbow", f)
        )
        elbow_l = _angle(j("left_shoulder", f) - j("left_elbow", f), j("left_wrist", f) - j("left_elbow", f))
        row[6], row[7] = elbow_r <= 110, elbow_l <= 110
        row[9] = row[11] = step(named("left_wrist"), f) > 1.4 * sw
        row[10] = step(named("right_wrist"), f) > 1.4 * sw
        row[12] = step(named("right_wrist"), f) > 2.5 * sw
        row[13] = step(named("left_wrist"), f) > 2.5 * sw
        knee_r = _angle(j("right_hip", f) - j("right_knee", f), j("right_ankle", f) - j("right_knee", f))
        knee_l = _angle(j("left_hip", f) - j("left_knee", f), j("left_ankle", f) - j("left_knee", f))
        row[19], row[20] = knee_r <= 110, knee_l <= 110
        row[21] = step(named("right_ankle"), f) > 2.5 * sw
        row[22] = step(named("left_ankle"), f) > 2.5 * sw
        torso = root(f) - chest(f)
        row[23] = 25 <= _angle(torso, j("right_elbow", f) - j("right_shoulder", f)) <= 180
        row[24] = 25 <= _angle(torso, j("left_elbow", f) - j("left_shoulder", f)) <= 180
        row[25] = 50 <= _angle(torso, j("right_knee", f) - j("right_hip", f)) <= 180
        row[26] = 50 <= _angle(torso, j("left_knee", f) - j("left_hip", f)) <= 180
        row[28] = 70 <= _angle(torso, np.array([0.0, 1.0])) <= 110
        row[31] = step(root, f) > 2.3 * sw
        counts += row
    return counts / (t - 1)


def random_tracks(rng, b=6, t=40, missed=0.1):
    base = rng.normal(0, 60, (25, 2))
    out = np.zeros((b, t, 25, 3))
    for i in range(b):
        centre = rng.uniform(200, 800, 2)
        tt = np.arange(t)[:, None, None]
        wave = rng.uniform(2, 40, (1, 25, 2)) * np.sin(rng.uniform(0.05, 0.6, (1, 25, 2)) * tt)
        pos = centre + base + wave + rng.normal(0, 2, (t, 25, 2))
        out[i, :, :, :2] = pos
        out[i, :, :, 2] = rng.uniform(0.2, 1, (t, 25))
        out[i, rng.random(t) < missed] = 0.0
    return out.astype(np.float32).astype(np.float64)


# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("joint_map", ["official", "coco25"])
def test_kinetic_matches_per_frame_reference(joint_map, metric_tester):
    """Against the per-frame reference; each clip's features independent of its batch; float32 input
    (what the official JSON holds) gives the float64 result."""
    rows = OFFICIAL_JOINT_ROWS if joint_map == "official" else COCO25_JOINT_ROWS
    kp = random_tracks(np.random.default_rng(0))
    fast = metric_tester.batch_function(
        lambda b: kinetic_features(b, joint_map=joint_map),
        kp,
        reference=lambda track: ref_kinetic(track, rows),
        rtol=2e-6,
        atol=1e-3,
    )
    assert fast.shape == (6, 75) and fast.dtype == np.float32


@pytest.mark.parametrize("joint_map", ["official", "coco25"])
def test_geometric_matches_per_frame_reference(joint_map, metric_tester):
    rows = OFFICIAL_JOINT_ROWS if joint_map == "official" else COCO25_JOINT_ROWS
    kp = random_tracks(np.random.default_rng(1), b=8)
    fast = metric_tester.batch_function(
        lambda b: geometric_features(b, joint_map=joint_map),
        kp,
        reference=lambda track: ref_geometric(track, rows),
        atol=1e-7,
    )
    assert fast.shape == (8, 32) and fast.dtype == np.float32


def test_constant_motion_has_zero_kinetic_energy():
    rng = np.random.default_rng(2)
    pose = rng.uniform(100, 500, (25, 3))
    still = np.broadcast_to(pose, (64, 25, 3))
    # rigid translation: every joint (hips included) moves together, so root-relative motion is zero
    drift = still + np.arange(64)[:, None, None] * np.array([3.0, -2.0, 0.0])
    feats = kinetic_features(np.stack([still, drift]))
    assert np.all(feats[0] == 0)
    np.testing.assert_allclose(feats[1], 0, atol=1e-9)  # float64 rounding of the drifting root only


def test_joint_at_known_speed_gives_closed_form_energy():
    t, v = 64, 1.5  # pixels per frame along channel 0; frame time 1/30 s
    kp = np.zeros((1, t, 25, 3))
    kp[0, :, :, :2] = 300.0
    kp[0, :, 0, 0] += v * np.arange(t)
    feats = kinetic_features(kp)[0].reshape(25, 3).astype(np.float64)
    speed = v * 30.0
    # Zero-padded 5-tap box: smoothed velocity is (3/5, 4/5, 1, ..., 1, 4/5, 3/5) * speed, so the mean
    # square is speed^2 (T - 2) / T; the acceleration profile sums to 22.8 * speed in absolute value.
    np.testing.assert_allclose(feats[0, 0], speed**2 * (t - 2) / t, rtol=1e-6)
    assert feats[0, 1] == 0
    np.testing.assert_allclose(feats[0, 2], 22.8 * speed / t, rtol=1e-6)
    assert np.all(feats[1:] == 0)


def _pose_yx() -> np.ndarray:
    """An upright pose in official JSON channel order (y, x), rows as the official code reads them."""
    p = np.zeros((25, 3))
    p[:, 2] = 0.9
    r = OFFICIAL_JOINT_ROWS

    def put(name, y, x):
        p[r[name], :2] = (y, x)

    put("nose", 100, 200)
    put("left_shoulder", 150, 230)
    put("right_shoulder", 150, 170)  # shoulder width 60
    put("left_elbow", 210, 235)
    put("right_elbow", 210, 165)
    put("left_wrist", 270, 240)  # straight arms (about 180 degrees)
    put("right_wrist", 210, 105)  # right forearm horizontal: 90 degree elbow
    put("left_hip", 300, 220)
    put("right_hip", 300, 180)
    put("left_knee", 400, 222)
    put("right_knee", 400, 178)
    put("left_ankle", 500, 224)
    put("right_ankle", 500, 176)
    return p


def test_geometric_hand_computed_predicates():
    pose = _pose_yx()
    kp = np.broadcast_to(pose, (1, 10, 25, 3)).copy()
    g = geometric_features(kp)[0]
    assert g[6] == 1.0  # right elbow at 90 degrees is within [0, 110]
    assert g[7] == 0.0  # left arm straight
    assert g[19] == 0.0 and g[20] == 0.0  # straight legs
    assert g[28] == 1.0  # torso along channel 0 is 90 degrees from the channel-1 axis
    assert g[25] == 0.0 and g[26] == 0.0  # thighs parallel to the torso: angle ~0 < 50
    assert all(g[c] == 0 for c in (0, 1, 4, 5, 9, 10, 11, 12, 13, 21, 22, 31))  # nothing moves
    assert all(g[c] == 0 for c in GEOMETRIC_ZERO_COLUMNS)


def test_geometric_speed_thresholds_scale_with_frame0_shoulder_width():
    pose = _pose_yx()
    sw = 60.0
    kp = np.broadcast_to(pose, (2, 11, 25, 3)).copy()
    wrist = OFFICIAL_JOINT_ROWS["right_wrist"]
    kp[0, :, wrist, 1] += 2.0 * sw * np.arange(11)  # 2.0 sw per frame: > 1.4 sw, < 2.5 sw
    kp[1, :, wrist, 1] += 3.0 * sw * np.arange(11)  # > 2.5 sw
    g = geometric_features(kp)
    assert g[0, 10] == 1.0 and g[0, 12] == 0.0
    assert g[1, 10] == 1.0 and g[1, 12] == 1.0


def test_missed_frame_switches_motion_predicates_on():
    kp = np.broadcast_to(_pose_yx(), (1, 64, 25, 3)).copy()
    kp[0, 30] = 0.0  # one missed detection: a jump to the origin and back
    g = geometric_features(kp)[0]
    np.testing.assert_allclose(g[0], np.float32(2) / np.float32(63))
    np.testing.assert_allclose(g[31], np.float32(2) / np.float32(63))


def test_zero_length_vectors_count_as_ninety_degrees():
    kp = np.zeros((1, 5, 25, 3))  # every frame missed: all vectors are zero
    g = geometric_features(kp)[0]
    for c in (6, 7, 19, 20, 23, 24, 25, 26, 28):
        assert g[c] == 1.0


def test_shape_errors():
    with pytest.raises(ValueError, match=r"\(B, T, 25, 3\)"):
        kinetic_features(np.zeros((4, 64, 17, 3)))
    with pytest.raises(ValueError):
        geometric_features(np.zeros((64, 25, 3)))
    assert np.all(geometric_features(np.zeros((2, 1, 25, 3))) == 0)


def test_strict_frame_rate_handling_measures_the_same_speed():
    """With frame time 1/fps and thresholds scaled by 16/fps, one motion sampled at 16 and 32 fps gives the
    same kinetic energy (up to the smoothing edges) and the same speed predicates."""
    speed_px_s = 1600.0  # 100 px/frame at 16 fps, 50 at 32 fps; the "moving" threshold is 1.4 * 60 px
    feats = {}
    for fps in (16, 32):
        t = 4 * fps
        kp = np.broadcast_to(_pose_yx(), (1, t, 25, 3)).copy()
        kp[0, :, OFFICIAL_JOINT_ROWS["right_wrist"], 1] += speed_px_s / fps * np.arange(t)
        k = kinetic_features(kp, frame_time=1.0 / fps)[0].reshape(25, 3)
        g = geometric_features(kp, threshold_scale=16 / fps)[0]
        feats[fps] = (k[OFFICIAL_JOINT_ROWS["right_wrist"], 1], g[10], t)
        if fps == 32:
            assert geometric_features(kp)[0, 10] == 0.0  # unscaled: 50 px/frame looks slow
    (k16, g16, t16), (k32, g32, t32) = feats[16], feats[32]
    assert k16 == pytest.approx(speed_px_s**2 * (t16 - 2) / t16, rel=1e-5)
    assert k32 == pytest.approx(speed_px_s**2 * (t32 - 2) / t32, rel=1e-5)
    assert g16 == g32 == 1.0
