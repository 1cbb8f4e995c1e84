"""MACE-Dance 2D motion protocols: FID_k/FID_g, Div_k/Div_g and BAS on ViTPose-25 keypoint tracks.

The family ``mace2d-official`` / ``mace2d-strict`` is split by job:

- :mod:`benchmark.motion.protocols2d` - the typed protocol definitions (and what strict fixes);
- :mod:`benchmark.motion.joints2d` - which keypoint rows the features read;
- :mod:`benchmark.motion.features2d` - kinetic and geometric features;
- :mod:`benchmark.motion.windows2d` - sample rules and the scored windows;
- this module - scoring: normalisation, FID, Div, BAS, bootstrap intervals, warnings
  (numerics from :mod:`benchmark.motion.common`).

Floating-point types follow the official code step by step: features as in
:mod:`benchmark.motion.features2d`; normalisation in float32 torch arithmetic
(:func:`benchmark.motion.common.normalize_own_stats`); FID with float64 covariances of the float32 features,
SciPy <= 1.15 ``sqrtm``, real part; Div with float32 pairwise distances; BAS in float64.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmark.motion.common import (
    bas_warning,
    beat_align_score,
    diversity,
    diversity_fast,
    feature_stats,
    fid_interval_warning,
    frechet_distance,
    frechet_distance_fast,
    frechet_warnings,
    normalize_by_gt_guarded,
    normalize_own_stats,
)
from benchmark.motion.features2d import (
    GEOMETRIC_ZERO_COLUMNS,
    N_GEOMETRIC,
    N_KINETIC,
    compute_features,
    geometric_features,
    kinetic_features,
)
from benchmark.motion.joints2d import COCO25_JOINT_ROWS, OFFICIAL_JOINT_ROWS
from benchmark.motion.protocols2d import (
    MACE2D_OFFICIAL,
    MACE2D_PROTOCOLS,
    MACE2D_STRICT,
    STRICT_FIXES,
    BasWithoutBeats,
    Mace2dProtocol,
    Normalization,
)
from benchmark.motion.windows2d import (
    ScoredWindows,
    cut_windows,
    interpolate_missing,
    music_positions,
    sample_motion_beats,
    select_stems,
)
from benchmark.report import MetricReport, MetricValue
from ma_data.core.errors import MaceError

__all__ = [
    "COCO25_JOINT_ROWS",
    "GEOMETRIC_ZERO_COLUMNS",
    "MACE2D_OFFICIAL",
    "MACE2D_STRICT",
    "OFFICIAL_JOINT_ROWS",
    "STRICT_FIXES",
    "compute_features",
    "geometric_features",
    "interpolate_missing",
    "kinetic_features",
    "music_positions",
    "resolve_protocol",
    "sample_motion_beats",
    "score_mace2d",
    "select_stems",
]


def resolve_protocol(protocol: Mace2dProtocol | str) -> Mace2dProtocol:
    """A 2D protocol object from itself or its name (one of :data:`MACE2D_PROTOCOLS`)."""
    if isinstance(protocol, Mace2dProtocol):
        return protocol
    found = MACE2D_PROTOCOLS.get(protocol)
    if found is None:
        raise MaceError(f"unknown 2D protocol {protocol!r}; known: {', '.join(sorted(MACE2D_PROTOCOLS))}")
    return found


def _single_threaded_blas():
    """Small (<= 75 x 75) BLAS calls in a tight loop: threads only add synchronisation, which on a busy
    machine costs 10-20x. Limit BLAS to one thread when threadpoolctl is available."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _normalize(
    gt_f: np.ndarray, pred_f: np.ndarray, protocol: Mace2dProtocol
) -> tuple[np.ndarray, np.ndarray]:
    eps, ddof = float(protocol.normalize_eps), int(protocol.normalize_ddof)
    if protocol.normalization is Normalization.OWN:
        return normalize_own_stats(gt_f, eps=eps, ddof=ddof), normalize_own_stats(pred_f, eps=eps, ddof=ddof)
    return normalize_by_gt_guarded(gt_f, pred_f, eps, ddof)


def _normalize_fast(
    gt_f: np.ndarray, pred_f: np.ndarray, protocol: Mace2dProtocol
) -> tuple[np.ndarray, np.ndarray]:
    """float64 version of :func:`_normalize` for bootstrap resamples (same maths, no bit-exact emulation)."""
    eps, ddof = float(protocol.normalize_eps), int(protocol.normalize_ddof)
    if protocol.normalization is Normalization.OWN:
        g, p = gt_f.astype(np.float64), pred_f.astype(np.float64)
        return (
            (g - g.mean(0)) / (g.std(0, ddof=ddof) + eps),
            (p - p.mean(0)) / (p.std(0, ddof=ddof) + eps),
        )
    return _normalize(gt_f, pred_f, protocol)


def window_features(
    windows: list[np.ndarray], rates: list[float], protocol: Mace2dProtocol
) -> tuple[np.ndarray, np.ndarray]:
    """(kinetic, geometric) features of scored windows; windows of the same length and frame rate are
    computed as one batch (the features of a clip do not depend on its batch)."""
    n = len(windows)
    kin = np.zeros((n, N_KINETIC), np.float32)
    geo = np.zeros((n, N_GEOMETRIC), np.float32)
    groups: dict[tuple[int, float], list[int]] = {}
    for i, (w, r) in enumerate(zip(windows, rates, strict=True)):
        groups.setdefault((w.shape[0], r), []).append(i)
    for (_, r), idx in groups.items():
        kin[idx], geo[idx] = compute_features(
            np.stack([windows[i] for i in idx]),
            frame_time=protocol.kinetic_dt(r),
            joint_map=protocol.joint_map,
            threshold_scale=protocol.threshold_scale(r),
            sliding_window=int(protocol.sliding_window),
        )
    return kin, geo


def score_mace2d(
    gt: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    music_beats: Mapping[str, np.ndarray],
    protocol: Mace2dProtocol | str = "mace2d-official",
    n_boot: int = 1000,
    seed: int = 0,
    *,
    fps: Mapping[str, Any] | None = None,
    audio_seconds: Mapping[str, float] | None = None,
) -> MetricReport:
    """Score generated keypoint tracks against GT under a ``mace2d-*`` protocol.

    Args:
        gt, pred: stem -> (T, 25, 3) keypoints in the official JSON channel order ``(y, x, conf)``
            (what :func:`ma_data.core.formats.keypoints.read_official_array` returns).
        music_beats: stem -> GT music beats from :func:`benchmark.motion.music_beats.music_beat_frames`
            (frame indices at 16 fps for ``mace2d-official``, seconds for ``mace2d-strict``); ``None`` marks
            a failed extraction (the stem is skipped, as officially).
        protocol: a :class:`~benchmark.motion.protocols2d.Mace2dProtocol` or its name.
        n_boot, seed: percentile bootstrap over stems (0 disables the intervals).
        fps: stem -> fps or (gt_fps, pred_fps), read by protocols that window by seconds (strict); missing
            entries use ``default_fps``. The official protocol assumes 16 fps for every track.
        audio_seconds: stem -> duration of the GT music; music shorter than the scored window makes the
            clip's BAS undefined (strict) or flagged (official). Missing entries are not checked.

    A clip whose GT music has no beat in the scored window, or is shorter than it, has no meaningful BAS:
    ``mace2d-strict`` leaves it undefined (null, out of the mean, listed in ``extra['bas_undefined']``);
    ``mace2d-official`` keeps the reference's score (0 without beats) and names the clips in a warning.

    Returns a :class:`MetricReport` with fid_k, fid_g, div_k, div_g, bas, div_k_gt, div_g_gt, bas_gt, the
    per-sample BAS values and beat counts, and every skipped stem with its reason.
    """
    protocol = resolve_protocol(protocol)
    kept, skipped = select_stems(gt, pred, music_beats, protocol, fps=fps)
    warn: list[str] = []
    if not kept:
        return MetricReport({}, {}, skipped, 0, protocol, ["no usable samples"], {})
    win: ScoredWindows = cut_windows(kept, gt, pred, protocol, fps)
    gk, gg = window_features(win.gt, win.gt_fps, protocol)
    pk, pg = window_features(win.pred, win.pred_fps, protocol)
    ngk, npk = _normalize(gk, pk, protocol)
    ngg, npg = _normalize(gg, pg, protocol)

    fid_kw = {
        "eps": float(protocol.fid_eps),
        "sqrtm": protocol.fid_sqrtm.value,
        "complex_mode": protocol.fid_complex_mode.value,
    }
    info_k: dict[str, Any] = {}
    info_g: dict[str, Any] = {}
    n = len(kept)
    if n >= 2:
        fid_k = frechet_distance(*feature_stats(npk), *feature_stats(ngk), info=info_k, **fid_kw)
        fid_g = frechet_distance(*feature_stats(npg), *feature_stats(ngg), info=info_g, **fid_kw)
    else:
        fid_k = fid_g = float("nan")
        warn.append("FID and Div need at least 2 samples; they are reported as null")
    div_kw = {"dtype": np.dtype(protocol.diversity_dtype), "mode": protocol.diversity_mode.value}
    values = {
        "fid_k": fid_k,
        "fid_g": fid_g,
        "div_k": diversity(npk, **div_kw),
        "div_g": diversity(npg, **div_kw),
        "div_k_gt": diversity(ngk, **div_kw),
        "div_g_gt": diversity(ngg, **div_kw),
    }
    for key, info in (("fid_k", info_k), ("fid_g", info_g)):
        if info.get("offset_applied"):
            warn.append(f"{key}: sqrtm of the covariance product was not finite; added {protocol.fid_eps}*I")
    flags: dict[str, list[str]] = {}
    if n >= 2:
        for key, pf, gf in (("fid_k", npk, ngk), ("fid_g", npg, ngg)):
            found = frechet_warnings(key, values[key], feature_stats(pf)[1], feature_stats(gf)[1])
            if found:
                flags[key] = found
                warn.extend(found)

    per_sample: dict[str, dict[str, float]] = {}
    bas_pred, bas_gt = [], []
    kernel = protocol.kernel_sigma()
    undefined = protocol.bas_without_beats is BasWithoutBeats.UNDEFINED
    bas_problems: dict[str, str] = {}
    for i, stem in enumerate(kept):
        music = music_positions(music_beats[stem], protocol, win.horizon[i])
        problem = _bas_problem(music, win.horizon[i], (audio_seconds or {}).get(stem))
        if problem is not None:
            bas_problems[stem] = problem
        row: dict[str, float] = {"n_music_beats": float(music.size)}
        for side, windows, rates, sink in (
            ("", win.pred, win.pred_fps, bas_pred),
            ("_gt", win.gt, win.gt_fps, bas_gt),
        ):
            window = windows[i]
            _, idx, pos = sample_motion_beats(window, protocol, rates[i])
            score = (
                float("nan") if problem and undefined else beat_align_score(music, pos, sigma_kernel=kernel)
            )
            sink.append(score)
            row[f"bas{side}"] = score
            row[f"n_motion_beats{side}"] = float(idx.size)
            raw = (pred if side == "" else gt)[stem]
            missed = np.asarray(raw)[: window.shape[0]]
            row[f"missed_frames{side}"] = float(np.count_nonzero(~np.any(missed != 0, axis=(1, 2))))
        per_sample[stem] = row
    values["bas"] = _mean_defined(bas_pred)
    values["bas_gt"] = _mean_defined(bas_gt)
    if bas_problems:
        warn.append(bas_warning(bas_problems, undefined, "clip", "the official script"))

    if n < N_KINETIC and protocol.warn_small_sample:
        # The reference is silent here; a warning changes no number.
        warn.append(
            f"only {n} samples for {N_KINETIC}-d kinetic / {N_GEOMETRIC}-d geometric (21 informative) features: "
            "the covariances are rank-deficient, so FID is unstable and mostly compares correlation structure"
        )

    cis: dict[str, tuple[float, float]] = {}
    if n_boot and n >= 2:
        from benchmark.stats import bootstrap_ci

        bp, bg = np.asarray(bas_pred, np.float64), np.asarray(bas_gt, np.float64)
        bas_mean = np.nanmean if np.isnan(bp).any() or np.isnan(bg).any() else np.mean

        def stat_fn(idx: np.ndarray) -> dict[str, float]:
            a_gk, a_pk = _normalize_fast(gk[idx], pk[idx], protocol)
            a_gg, a_pg = _normalize_fast(gg[idx], pg[idx], protocol)
            return {
                "fid_k": frechet_distance_fast(a_pk, a_gk),
                "fid_g": frechet_distance_fast(a_pg, a_gg),
                "div_k": diversity_fast(a_pk, idx),
                "div_g": diversity_fast(a_pg, idx),
                "div_k_gt": diversity_fast(a_gk, idx),
                "div_g_gt": diversity_fast(a_gg, idx),
                "bas": float(bas_mean(bp[idx])),
                "bas_gt": float(bas_mean(bg[idx])),
            }

        with warnings.catch_warnings(), _single_threaded_blas():
            warnings.simplefilter("ignore", RuntimeWarning)
            cis = bootstrap_ci(stat_fn, n, n_boot=n_boot, seed=seed)

    # Resampling with replacement duplicates clips, which biases FID up and the re-normalised Div: their
    # bootstrap distributions sit off the point estimate (for FID often entirely above it). We keep the
    # bootstrap *width* and centre it on the estimate; BAS (a plain mean) keeps its percentile interval.
    for key in ("fid_k", "fid_g", "div_k", "div_g", "div_k_gt", "div_g_gt"):
        lo, hi = cis.get(key, (None, None))
        if lo is not None and math.isfinite(lo) and math.isfinite(hi) and math.isfinite(values[key]):
            half = (hi - lo) / 2
            # FID and Div are non-negative: a centred interval is cut at zero (both ends: an identical-set
            # FID of -1e-13 would otherwise get the interval [0, -1e-13]).
            cis[key] = (max(values[key] - half, 0.0), max(values[key] + half, 0.0))
    for key in ("fid_k", "fid_g"):
        msg = fid_interval_warning(key, values[key], cis.get(key, (None, None))[1])
        if msg:
            flags.setdefault(key, []).append(msg)
            warn.append(msg)
    order = ("fid_k", "fid_g", "div_k", "div_g", "bas", "div_k_gt", "div_g_gt", "bas_gt")
    metrics = {
        key: MetricValue(float(values[key]), *(cis.get(key, (None, None))), warnings=flags.get(key, []))
        for key in order
    }
    extra: dict[str, Any] = {
        "fid_k_offset_applied": bool(info_k.get("offset_applied", False)),
        "fid_g_offset_applied": bool(info_g.get("offset_applied", False)),
        "feature_dims": {"kinetic": N_KINETIC, "geometric": N_GEOMETRIC, "geometric_informative": 21},
        "bootstrap": {
            "n_boot": int(n_boot),
            "seed": int(seed),
            "method": "resample stems with replacement; BAS: percentile interval; FID/Div: the percentile "
            "interval's width centred on the estimate (duplicated clips bias resampled FID/Div)",
        },
    }
    if bas_problems:
        extra["bas_undefined" if undefined else "bas_without_beats"] = bas_problems
    return MetricReport(metrics, per_sample, skipped, n, protocol, warn, extra)


#: Music may end this much before the scored window without making BAS undefined: container audio often
#: stops a few AAC frames before the video, and at most one beat (120 bpm) can fall in half a second.
AUDIO_SHORTFALL_S = 0.5


def _bas_problem(music: np.ndarray, horizon: float, audio_seconds: float | None) -> str | None:
    """Why a clip's BAS measures nothing, or None: no music beat in the scored window (silent or beatless
    music), or music that ends more than :data:`AUDIO_SHORTFALL_S` before the window does."""
    if audio_seconds is not None and audio_seconds + AUDIO_SHORTFALL_S < horizon:
        return f"GT music lasts {audio_seconds:.2f} s, the scored window {horizon:.2f} s"
    if music.size == 0:
        return "no music beat in the scored window (silent or beatless GT music)"
    return None


def _mean_defined(values: list[float]) -> float:
    """Mean over the defined (non-NaN) values; exactly ``np.mean`` when all are defined; NaN when none."""
    arr = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(arr)
    if keep.all():
        return float(np.mean(arr))
    return float(np.mean(arr[keep])) if keep.any() else float("nan")
