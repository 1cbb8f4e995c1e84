import dataclasses

import numpy as np
import pytest
import scipy.linalg

from benchmark.motion.physical import foot_skating_sequence
from benchmark.motion.protocols3d import METRIC_KEYS, PROTOCOLS_3D, score_3d
from benchmark.protocols import get_protocol, list_protocols
from ma_data.core.body import y_up_to_z_up
from ma_data.core.formats.motion import from_joints_array
from ma_data.core.synthetic import synthetic_dance_3d as make_dance
from tests.benchmark.motion3d.motion3d_reference_loops import bas_loop, kinetic_loop, manual_loop, pfc_loop

N, T = 6, 80
pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")


@pytest.fixture(scope="module")
def sets():
    gt = {f"{i:03d}": make_dance(T, i) for i in range(N)}
    pred = {f"{i:03d}": make_dance(T + 7 * i, 100 + i) for i in range(N)}
    beats = {}
    for i in range(N):
        v = np.zeros(T + 60, dtype=np.float32)
        v[np.arange(3 + i, T + 60, 14)] = 1
        beats[f"{i:03d}"] = v
    return gt, pred, beats


def _reference(gt, pred, beats, max_frames, n_joints, relative, cut):
    """The published recipe restated with plain loops and scipy (float64 inputs)."""

    def feats(p):
        q = p[:max_frames, :n_joints].copy()
        q = q - q[:1, :1]
        if relative:
            q[:, 1:] -= q[:, 0:1]
        return kinetic_loop(q), manual_loop(q)

    gk, gg = map(np.array, zip(*(feats(gt[s]) for s in sorted(gt)), strict=True))
    pk, pg = map(np.array, zip(*(feats(pred[s]) for s in sorted(pred)), strict=True))
    out = {}
    for key, g, p in (("k", gk, pk), ("g", gg, pg)):
        mean, std = g.mean(0), g.std(0)
        g, p = (g - mean) / (std + 1e-10), (p - mean) / (std + 1e-10)
        s1, s2 = np.cov(p, rowvar=False), np.cov(g, rowvar=False)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            off = np.eye(len(s1)) * 1e-5
            covmean = scipy.linalg.sqrtm((s1 + off) @ (s2 + off))
        d = p.mean(0) - g.mean(0)
        out[f"fid_{key}"] = float(np.real(d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)))

        def div(x):
            total, n = 0.0, len(x)
            for i in range(n):
                for j in range(i + 1, n):
                    total += np.linalg.norm(x[i] - x[j])
            return total / (n * (n - 1) / 2)

        out[f"div_{key}"], out[f"div_{key}_gt"] = div(p), div(g)

    def bas(motions):
        vals = []
        for s in sorted(motions):
            b = beats[s][: len(motions[s]) - 1] if cut else beats[s]
            vals.append(bas_loop(motions[s], np.flatnonzero(b)))
        return float(np.mean(vals))

    out["bas"], out["bas_gt"] = bas(pred), bas(gt)
    out["pfc"] = float(np.mean([pfc_loop(y_up_to_z_up(pred[s])) for s in sorted(pred)]) * 1e4)
    out["pfc_gt"] = float(np.mean([pfc_loop(y_up_to_z_up(gt[s])) for s in sorted(gt)]) * 1e4)
    for side, motions in (("fsr", pred), ("fsr_gt", gt)):
        lr = np.array([foot_skating_sequence(motions[s]) for s in sorted(motions)])
        out[side] = float((np.nanmean(lr[:, 0]) + np.nanmean(lr[:, 1])) / 2)
    return out


TOL = {"fid": 1e-4, "div": 1e-5, "bas": 1e-9, "pfc": 1e-9, "fsr": 1e-12}


@pytest.mark.parametrize(
    "name,max_frames,n_joints,relative,cut",
    [("bailando3d", 1200, 24, False, True), ("finedance3d", 1024, 22, True, False)],
)
def test_parity_protocols_match_restated_reference(sets, name, max_frames, n_joints, relative, cut):
    gt, pred, beats = sets
    report = score_3d(gt, pred, beats, name)
    assert list(report.metrics) == list(METRIC_KEYS)
    assert report.n_samples == N and not report.skipped
    assert report.extra["feature_dims"] == {"kinetic": 3 * n_joints, "geometric": 32}
    ref = _reference(gt, pred, beats, max_frames, n_joints, relative, cut)
    for key, want in ref.items():
        got = report.metrics[key].value
        tol = TOL[key.split("_")[0]]
        assert got == pytest.approx(want, rel=tol, abs=1e-12), key


def test_music_beats_cut_only_under_bailando(sets):
    gt, pred, beats = sets
    late = {s: v.copy() for s, v in beats.items()}
    for v in late.values():
        v[-1] = 1  # a beat after the dance ends
    for name, changes in (("bailando3d", False), ("finedance3d", True)):
        a = score_3d(gt, pred, beats, name).metrics["bas"].value
        b = score_3d(gt, pred, late, name).metrics["bas"].value
        assert (a != b) == changes
        if changes:  # the extra beat is far from every motion beat: it scores ~0 and drags the mean down
            assert b < a


def test_identical_sets_give_zero_fid_and_equal_gt_stats(sets):
    gt, _, beats = sets
    r = score_3d(gt, dict(gt), beats, "bailando3d")
    m = {k: v.value for k, v in r.metrics.items()}
    assert abs(m["fid_k"]) < 1e-3 and abs(m["fid_g"]) < 1e-3
    for k in ("div_k", "div_g", "bas", "pfc", "fsr"):
        assert m[k] == pytest.approx(m[f"{k}_gt"], rel=1e-6)


def test_feature_window_frames_only(sets):
    gt, pred, beats = sets
    long = {
        s: np.concatenate([p, p[-1:] + np.random.default_rng(0).normal(size=(200, 24, 3))])
        for s, p in pred.items()
    }
    short = dataclasses.replace(get_protocol("bailando3d"), name="bailando3d-test", version="0", max_frames=T)
    a = score_3d(gt, pred, None, short)
    b = score_3d(gt, {s: v for s, v in long.items()}, None, short)
    cut = {s: v[:T] for s, v in long.items()}
    c = score_3d(gt, cut, None, short)
    assert b.metrics["fid_k"].value == c.metrics["fid_k"].value
    assert b.metrics["div_g"].value == c.metrics["div_g"].value
    assert np.isnan(a.metrics["bas"].value) and any("BAS" in w for w in a.warnings)


def test_registry_and_strict_variants():
    names = {p.name for p in list_protocols("motion3d")}
    assert names >= {
        "bailando3d",
        "finedance3d",
        "mace3d",
        "bailando3d-strict",
        "finedance3d-strict",
        "mace3d-strict",
    }
    assert set(PROTOCOLS_3D) <= names
    b, s = get_protocol("bailando3d").params, get_protocol("bailando3d-strict").params
    assert b["acceleration_bug"] and not s["acceleration_bug"]
    assert b["kinetic_frame_time"] == 1 / 60 and s["kinetic_frame_time"] == "1/fps"
    assert get_protocol("mace3d").params["normalize_eps"] == 1e-4
    assert get_protocol("finedance3d").params["music_beats_cut"] is None


def test_strict_differs_only_where_documented(sets):
    gt, pred, beats = sets
    p = score_3d(gt, pred, beats, "bailando3d")
    s = score_3d(gt, pred, beats, "bailando3d-strict")
    for key in ("bas", "bas_gt"):
        assert p.metrics[key].value == s.metrics[key].value
    assert p.metrics["fid_k"].value != s.metrics["fid_k"].value


def test_mace3d_alignment_and_pfc(sets):
    gt, pred, beats = sets
    r = score_3d(gt, pred, beats, "mace3d")
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    want = np.mean([pfc_loop(pred[s] @ rot.T, up=2) for s in sorted(pred)]) * 1e4
    assert r.metrics["pfc"].value == pytest.approx(want, rel=1e-4)  # the reference aligns in float32
    strict = score_3d(gt, pred, beats, "mace3d-strict")
    want = np.mean([pfc_loop(y_up_to_z_up(pred[s])) for s in sorted(pred)]) * 1e4
    assert strict.metrics["pfc"].value == pytest.approx(want, rel=1e-9)
    assert r.extra["feature_dims"]["kinetic"] == 66


def test_inputs_as_motions_and_bad_samples(sets):
    gt, pred, beats = sets
    motions = {
        s: from_joints_array(v, fps=30).to_up_axis("z") for s, v in pred.items()
    }  # Z-up converted back
    a = score_3d(gt, pred, beats, "finedance3d")
    b = score_3d(gt, motions, beats, "finedance3d")
    assert b.metrics["fid_k"].value == pytest.approx(a.metrics["fid_k"].value, rel=1e-6)
    bad = {**pred, "short": make_dance(2, 9), "j22": make_dance(30, 8)[:, :22]}
    r = score_3d(gt, bad, beats, "bailando3d")
    assert "pred:short" in r.skipped and "pred:j22" in r.skipped and "24 joints" in r.skipped["pred:j22"]
    r22 = score_3d(gt, {"j22": make_dance(30, 8)[:, :22], **pred}, beats, "finedance3d")
    assert "pred:j22" not in r22.skipped
    from ma_data.core.errors import MaceError

    with pytest.raises(MaceError):
        score_3d(gt, {"short": make_dance(2, 9)}, beats, "bailando3d")


def test_bootstrap_intervals(sets):
    gt, pred, beats = sets
    r = score_3d(gt, pred, beats, "finedance3d", n_boot=20, seed=1)
    for key in ("fid_k", "bas", "pfc", "fsr", "bas_gt"):
        mv = r.metrics[key]
        assert mv.ci_low is not None and mv.ci_low <= mv.ci_high
