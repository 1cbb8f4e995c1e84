"""score_mace2d and the sample rules of the two 2D protocols."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.motion.mace2d import MACE2D_OFFICIAL, MACE2D_STRICT, STRICT_FIXES, score_mace2d, select_stems
from benchmark.protocols import get_protocol
from tests.benchmark.motion.mace2d_golden import OFFICIAL_GOLDEN, golden_inputs


def test_official_golden_numbers(monkeypatch):
    gt, pred, beats = golden_inputs()
    report = score_mace2d(gt, pred, beats, MACE2D_OFFICIAL, n_boot=0)
    assert report.n_samples == 10
    for key, expected in OFFICIAL_GOLDEN.items():
        rel = 1e-5 if key.startswith("fid") else 1e-6 if key.startswith("div") else 1e-9
        assert report.metrics[key].value == pytest.approx(expected, rel=rel), key


def _tracks(rng, n, t=64):
    base = rng.normal(0, 50, (25, 2)) + 400
    out = {}
    for i in range(n):
        tt = np.arange(t)[:, None, None]
        wave = rng.uniform(2, 30, (1, 25, 2)) * np.sin(rng.uniform(0.1, 0.6, (1, 25, 2)) * tt + i)
        kp = np.zeros((t, 25, 3))
        kp[:, :, :2] = base + wave + rng.normal(0, 1, (t, 25, 2))
        kp[:, :, 2] = 0.9
        out[f"s{i:02d}"] = kp
    return out


def test_identical_sets():
    rng = np.random.default_rng(0)
    gt = _tracks(rng, 12)
    beats = {s: np.array([8, 16, 24, 32, 40, 48, 56]) for s in gt}
    r = score_mace2d(gt, {s: v.copy() for s, v in gt.items()}, beats, MACE2D_OFFICIAL, n_boot=50)
    m = {k: v.value for k, v in r.metrics.items()}
    # rank-deficient covariances (12 samples): sqrtm leaves ~1e-6 of noise on a trace of ~20
    assert abs(m["fid_k"]) < 1e-4 and abs(m["fid_g"]) < 1e-4
    assert m["div_k"] == m["div_k_gt"] and m["div_g"] == m["div_g_gt"] and m["bas"] == m["bas_gt"]
    assert set(r.per_sample["s00"]) >= {"bas", "bas_gt", "n_music_beats", "n_motion_beats", "missed_frames"}
    ci = r.metrics["div_k"]
    assert ci.ci_low is not None and ci.ci_low <= ci.ci_high


def test_motion_pausing_on_every_beat_scores_near_one():
    t = np.arange(64)
    # displacement from frame i to i+1 is |sin(pi i / 8)|: the speed curve (index i) stops every 8 frames
    travel = np.concatenate([[0.0], np.cumsum(np.abs(np.sin(np.pi * t[:-1] / 8)))])
    kp = np.zeros((64, 25, 3))
    kp[:, :, 0] = 300 + travel[:, None] * np.linspace(0.5, 1.5, 25)[None, :]
    kp[:, :, 1] = 300 + np.arange(25)[None, :] * 10
    kp[:, :, 2] = 1
    gt = {"a": kp, "b": kp + 5}
    music = {"a": np.array([8, 16, 24, 32, 40, 48, 56]), "b": np.array([8, 16, 24, 32, 40, 48, 56])}
    r = score_mace2d(gt, gt, music, MACE2D_OFFICIAL, n_boot=0)
    assert r.metrics["bas"].value > 0.95
    off_beat = {k: v + 4 for k, v in music.items()}
    r2 = score_mace2d(gt, gt, off_beat, MACE2D_OFFICIAL, n_boot=0)
    assert r2.metrics["bas"].value < 0.5


def test_select_stems_applies_the_official_drop_rules():
    ok = np.zeros((64, 25, 3))
    gt = {"a": ok, "b": ok, "c": ok[:63], "d": np.zeros((64, 17, 3)), "e": ok, "g": ok}
    pred = {"a": ok, "b": ok, "c": ok, "d": ok, "e": ok, "f": ok}
    beats = {"a": np.array([1]), "b": None, "c": np.array([1]), "d": np.array([1]), "e": np.array([])}
    kept, skipped = select_stems(gt, pred, beats, MACE2D_OFFICIAL)
    assert kept == ["a", "e"]
    assert "GT music beats" in skipped["b"]
    assert "63 frames < 64" in skipped["c"]
    assert "shape (64, 17, 3)" in skipped["d"]
    assert "missing GT keypoints" in skipped["f"] and "missing generated keypoints" in skipped["g"]


def test_small_sample_warning_and_skips_reported():
    rng = np.random.default_rng(1)
    gt = _tracks(rng, 5)
    pred = _tracks(rng, 5)
    pred["s00"] = pred["s00"][:20]
    beats = {s: np.array([10, 20, 30]) for s in gt}
    r = score_mace2d(gt, pred, beats, "mace2d-official", n_boot=0)
    assert r.n_samples == 4 and "s00" in r.skipped
    assert any("rank-deficient" in w for w in r.warnings)


def test_strict_sees_a_scale_shift_that_official_normalisation_hides():
    rng = np.random.default_rng(2)
    gt = _tracks(rng, 30)
    # the generated dances are the GT dances with every joint moving twice as far around the body centre
    pred = {}
    for s, kp in gt.items():
        p = kp.copy()
        centre = kp[:, :, :2].mean(axis=(0, 1))
        p[:, :, :2] = centre + 2.0 * (kp[:, :, :2] - centre)
        pred[s] = p
    beats_frames = {s: np.array([8, 24, 40]) for s in gt}
    beats_seconds = {s: np.array([0.5, 1.5, 2.5]) for s in gt}
    official = score_mace2d(gt, pred, beats_frames, MACE2D_OFFICIAL, n_boot=0)
    strict = score_mace2d(gt, pred, beats_seconds, MACE2D_STRICT, n_boot=0, fps={s: 16.0 for s in gt})
    assert official.metrics["fid_k"].value < 1e-2  # own-stats z-scoring removes the scale
    assert strict.metrics["fid_k"].value > 10 * max(official.metrics["fid_k"].value, 1e-3)
    assert strict.n_samples == 30


def test_strict_interpolates_missed_frames_and_records_its_fixes():
    rng = np.random.default_rng(3)
    gt = _tracks(rng, 6, t=80)
    pred = {s: v.copy() for s, v in gt.items()}
    for v in pred.values():
        v[[10, 11, 40]] = 0.0  # missed detections
    beats = {s: np.array([0.5, 1.0, 1.5, 2.0]) for s in gt}
    strict = score_mace2d(gt, pred, beats, MACE2D_STRICT, n_boot=0)
    # interpolation makes the missed frames almost invisible; the official zero rows do not
    assert strict.metrics["fid_g"].value < 1.0
    assert strict.per_sample["s00"]["missed_frames"] == 3
    assert set(STRICT_FIXES) <= set(get_protocol("mace2d-strict").params["fixes"])
    assert any("rank-deficient" in w for w in strict.warnings)
    official = score_mace2d(gt, pred, {s: np.array([8, 16]) for s in gt}, MACE2D_OFFICIAL, n_boot=0)
    assert official.metrics["bas"].value != official.metrics["bas_gt"].value


def test_strict_skips_short_or_undetected_tracks():
    rng = np.random.default_rng(4)
    gt = _tracks(rng, 3, t=64)
    pred = {s: v.copy() for s, v in gt.items()}
    pred["s01"][:40] = 0.0  # detected in 24 / 64 frames
    gt["s02"] = gt["s02"][:50]  # 50 frames at 16 fps = 3.1 s < 4 s
    kept, skipped = select_stems(gt, pred, {s: np.array([1.0]) for s in gt}, MACE2D_STRICT)
    assert kept == ["s00"]
    assert "person in 38% of frames" in skipped["s01"] and "< 4.0 s" in skipped["s02"]


def test_no_usable_samples():
    r = score_mace2d({}, {}, {}, MACE2D_OFFICIAL)
    assert r.n_samples == 0 and r.metrics == {}
