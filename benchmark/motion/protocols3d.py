"""3D motion protocols: ``bailando3d``, ``finedance3d``, ``mace3d`` and their ``-strict`` variants.

Each protocol is a frozen parameter set (registered with :mod:`benchmark.protocols`) plus :func:`score_3d`,
which turns GT and generated 3D dances into FID_k / FID_g / Div_k / Div_g / BAS (+ GT references) and the
physical scores PFC and FSR. The parity protocols reproduce their reference implementation, quirks included
(Bailando ``utils/metrics_new.py``, LODGE/FineDance ``metric/``, EDGE ``eval/eval_pfc.py`` and
MACE-Dance's ``Evaluation-Motion``):

``bailando3d`` (Bailando ``utils/metrics_new.py`` + ``beat_align_score.py``; EDGE reports FID/Div/BAS this way)
    SMPL-24 joints, Y-up metres; features on the first 1200 frames with the frame-0 pelvis subtracted;
    72-d kinetic features with Δt = 1/60 and the acceleration bug; 32-d manual features with 1/120 s
    velocities; both sets z-scored by the GT mean and population std + 1e-10; FID with Bailando's complex
    handling (the real part is reported); Div = mean pairwise distance (float32); BAS on the full motion,
    all joints, Gaussian σ = 5, music beats cut to T-1 frames.
``finedance3d`` (LODGE ``metric/metrics_finedance.py`` + ``beat_align_score.py``)
    As above but features on the first 1024 frames and 22 joints, frame-0 root subtracted and joints 1..21
    made root-relative per frame (66-d kinetic); BAS on the full motion with all 24 joints and music beats
    not cut to the dance length (LODGE's slicing slip); ``--music`` beats from LODGE's wav recipe.
``mace3d`` (MACE-Dance ``Evaluation-Motion/metric.py``)
    Y-up joints rotated +90° about Z (``align_axis``); MACE's vectorised kinetic features (Δt = 1/30, real
    acceleration, zero-padded box filter), first 66 dims; geometric features = the AIST++ manual features
    (MACE's ``geometric.py`` ships only as bytecode: assumption); GT mean and unbiased std + 1e-4 on float32;
    BAS with σ = 5, music beats cut to the motion length; PFC on the aligned joints with index 2 as "up".

``*-strict`` variants fix what is defective and change nothing else: kinetic acceleration without the
precedence bug, all frame times 1/fps of the data (not 1/60, 1/120), MACE's axis alignment dropped (PFC on
proper Z-up), PFC's Δt = 1/fps, and FSR with the horizontal speed norm instead of |mean(v_x, v_z)|.

PFC (EDGE, ×1e4) and FSR (Lodge) are reported under every protocol: see :mod:`benchmark.motion.physical`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchmark.motion import common
from benchmark.motion.choices import (
    AxisAlign,
    BasJoints,
    BasWithoutBeats,
    Centering,
    DiversityMode,
    FidComplexMode,
    FidSqrtm,
    FsrGround,
    FsrTangent,
    Kinetic,
    ManualFeatures,
    MusicBeatsCut,
    MusicRecipe,
)
from benchmark.motion.features3d import kinetic_features_aist, kinetic_features_mace, manual_features_aist
from benchmark.motion.metrics import MOTION3D_METRICS
from benchmark.motion.physical import foot_skating_sequence, pfc_sequence
from benchmark.protocol_base import PER_FPS, Protocol, doc_field, fps_problem, frame_time
from benchmark.report import MetricReport, MetricValue
from ma_data.core.body.axes import y_up_to_z_up
from ma_data.core.errors import MaceError
from ma_data.core.formats.motion import Motion, from_joints_array

# --------------------------------------------------------------------------------------------------- protocols


@dataclass(frozen=True, kw_only=True)
class Motion3dProtocol(Protocol):
    """A 3D motion protocol: FID_k/FID_g/Div/BAS and the physical scores PFC and FSR on SMPL-24 joints.

    The field defaults are Bailando's recipe (``bailando3d``); the other protocols replace what differs.
    """

    kind: ClassVar[str] = "motion3d"
    METRICS: ClassVar = MOTION3D_METRICS

    input: str = doc_field(
        "SMPL-24 joint positions, metres, Y-up (other inputs converted by ma_data.core.formats.motion)"
    )
    manual_features: ManualFeatures = ManualFeatures.AIST_MANUAL_NEW_32
    fid_complex_mode: FidComplexMode = FidComplexMode.BAILANDO
    fid_sqrtm: FidSqrtm = FidSqrtm.LEGACY
    fid_eps: float = 1e-5
    diversity_mode: DiversityMode = DiversityMode.LOOP
    diversity_dtype: str = "float32"
    bas_sigma_smooth: float = 5.0
    bas_sigma_kernel: float = 3.0
    pfc_scale: float = 1e4
    fsr_ankle_height: float = 0.08
    fsr_toe_height: float = 0.05
    fsr_speed_threshold: float = 0.01
    fsr_ground: FsrGround = FsrGround.FRAME0_TOES
    max_frames: int | None = 1200
    feature_joints: int = 24
    geometric_joints: int = 24
    centering: Centering = Centering.FRAME0_ROOT
    kinetic: Kinetic = Kinetic.AIST
    kinetic_frame_time: float | str = 1 / 60
    acceleration_bug: bool = True
    manual_velocity_frame_time: float | str = 1 / 120
    axis_align: AxisAlign | None = None
    normalize_eps: float = 1e-10
    normalize_ddof: int = 0
    normalize_float32_torch: bool = False
    bas_joints: BasJoints = BasJoints.ALL
    bas_max_frames: int | None = None
    music_beats_cut: MusicBeatsCut | None = MusicBeatsCut.T_MINUS_1
    music_recipe: MusicRecipe = MusicRecipe.EDGE
    pfc_dt: float | str = 1 / 30
    pfc_up_index: int = 2
    fsr_tangent: FsrTangent = FsrTangent.MEAN
    bas_without_beats: BasWithoutBeats = BasWithoutBeats.ZERO


BAILANDO3D = Motion3dProtocol(
    name="bailando3d",
    version="1.0",
    description="Bailando/AIST++ 3D FID_k/FID_g/Div/BAS (EDGE's too), quirks kept",
)  # every field: the class default, which is Bailando's recipe

FINEDANCE3D = dataclasses.replace(
    BAILANDO3D,
    name="finedance3d",
    description="LODGE's FineDance 3D metrics (22 joints, 1024 frames), quirks kept",
    max_frames=1024,
    feature_joints=22,
    geometric_joints=22,
    centering=Centering.FRAME0_ROOT_THEN_ROOT_RELATIVE,
    music_beats_cut=None,
    music_recipe=MusicRecipe.LODGE,
)

MACE3D = dataclasses.replace(
    BAILANDO3D,
    name="mace3d",
    description="MACE-Dance Evaluation-Motion/metric.py 3D metric, quirks kept",
    max_frames=None,
    diversity_mode=DiversityMode.TRIU,
    feature_joints=22,
    kinetic=Kinetic.MACE,
    kinetic_frame_time=1 / 30,
    acceleration_bug=False,
    axis_align=AxisAlign.ROT_Z_90,
    normalize_eps=1e-4,
    normalize_ddof=1,
    normalize_float32_torch=True,
    music_beats_cut=MusicBeatsCut.T,
)

#: What every ``-strict`` variant changes (version 1.1: BAS undefined without music beats). The references
#: score a sample without music beats (or whose beat vector stops before the motion ends) as BAS 0 and
#: average it in; strict leaves its BAS undefined and out of the mean.
_STRICT_FIXES: dict[str, Any] = {
    "version": "1.1",
    "acceleration_bug": False,
    "kinetic_frame_time": PER_FPS,
    "manual_velocity_frame_time": PER_FPS,
    "pfc_dt": PER_FPS,
    "fsr_tangent": FsrTangent.NORM,
    "bas_without_beats": BasWithoutBeats.UNDEFINED,
}

BAILANDO3D_STRICT = dataclasses.replace(
    BAILANDO3D,
    name="bailando3d-strict",
    description="bailando3d with the acceleration bug fixed and true frame times",
    **_STRICT_FIXES,
)
FINEDANCE3D_STRICT = dataclasses.replace(
    FINEDANCE3D,
    name="finedance3d-strict",
    description="finedance3d with the acceleration bug fixed and true frame times",
    **_STRICT_FIXES,
)
MACE3D_STRICT = dataclasses.replace(
    MACE3D,
    name="mace3d-strict",
    description="mace3d without the axis misalignment (Y-up features, Z-up PFC), true frame times",
    **_STRICT_FIXES,
    axis_align=None,
)

#: The family by name (the registry, :mod:`benchmark.protocols`, lists these objects).
PROTOCOLS_3D: dict[str, Motion3dProtocol] = {
    p.name: p for p in (BAILANDO3D, FINEDANCE3D, MACE3D, BAILANDO3D_STRICT, FINEDANCE3D_STRICT, MACE3D_STRICT)
}

#: Metric keys of a 3D report, in reporting order.
METRIC_KEYS = tuple(m.key for m in MOTION3D_METRICS)


def resolve_protocol(protocol: Motion3dProtocol | str) -> Motion3dProtocol:
    """A 3D protocol object from itself or its name (one of :data:`PROTOCOLS_3D`)."""
    if isinstance(protocol, Motion3dProtocol):
        return protocol
    found = PROTOCOLS_3D.get(protocol) if isinstance(protocol, str) else None
    if found is None:
        if isinstance(protocol, Protocol):
            raise ValueError(f"protocol {protocol.name!r} is not a 3D motion protocol")
        raise MaceError(f"unknown 3D protocol {protocol!r}; known: {', '.join(sorted(PROTOCOLS_3D))}")
    return found


def music_recipe(protocol: Motion3dProtocol | str) -> str:
    """Which ``ma_data.core.music_features.beat_vector`` recipe a protocol uses for ``--music`` audio."""
    return resolve_protocol(protocol).music_recipe.value


# --------------------------------------------------------------------------------------------------- helpers

_ROT_Z_90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _as_motion(x: Motion | np.ndarray, stem: str) -> Motion:
    if isinstance(x, Motion):
        return x
    return from_joints_array(np.asarray(x), source=stem)


def _yup_joints(m: Motion) -> np.ndarray:
    """Y-up joints, keeping the file's dtype (the references compute in it)."""
    return np.asarray(m.to_up_axis("y").joints())


@dataclass
class _Sample:
    stem: str
    fps: float
    joints: np.ndarray  # Y-up, native dtype, all joints


def _motion_beats(joints: np.ndarray, sigma: float) -> tuple[np.ndarray, int]:
    """Motion beats in the joints' own dtype, as the references compute them (float32 data stays float32
    through the Gaussian filter, which can move a minimum by a frame against a float64 computation), and the
    length of the speed curve."""
    vel = common.kinetic_velocity(joints, keep_dtype=True)
    return common.motion_beats(vel, sigma, keep_dtype=True), len(vel)


def _aligned(j: np.ndarray, p: Motion3dProtocol) -> np.ndarray:
    """MACE-Dance's axis alignment (float32, as the reference), or the joints unchanged."""
    if p.axis_align is AxisAlign.ROT_Z_90:
        return (j.astype(np.float32) @ _ROT_Z_90.T.astype(np.float32)).astype(np.float32)
    return j


_GEOMETRIC = {ManualFeatures.AIST_MANUAL_NEW_32: manual_features_aist}


def _features(s: _Sample, p: Motion3dProtocol) -> tuple[np.ndarray, np.ndarray]:
    j = s.joints
    if p.max_frames:
        j = j[: p.max_frames]
    nj = p.feature_joints
    j = _aligned(j[:, : max(nj, p.geometric_joints)], p)
    j = j - j[:1, :1]
    if p.centering is Centering.FRAME0_ROOT_THEN_ROOT_RELATIVE:
        j = j.copy()
        j[:, 1:] = j[:, 1:] - j[:, 0:1]
    kt = frame_time(p.kinetic_frame_time, s.fps)
    if p.kinetic is Kinetic.AIST:
        kin = kinetic_features_aist(j[:, :nj], frame_time=kt, acceleration_bug=p.acceleration_bug)
    else:
        kin = kinetic_features_mace(j[:, :nj], frame_time=kt)
    geo = _GEOMETRIC[p.manual_features](
        j[:, : p.geometric_joints],
        velocity_frame_time=frame_time(p.manual_velocity_frame_time, s.fps),
    )
    return kin, geo


def _bas_joints(s: _Sample, p: Motion3dProtocol) -> np.ndarray:
    """The joints whose speed gives the motion beats (``bas_joints``), over the frames BAS reads."""
    j = s.joints if p.bas_joints is BasJoints.ALL else None
    return j[: p.bas_max_frames] if p.bas_max_frames else j


def _music_beats_used(beats: np.ndarray, n_vel: int, n_frames: int, p: Motion3dProtocol) -> np.ndarray:
    b = np.asarray(beats).reshape(-1)
    if p.music_beats_cut is MusicBeatsCut.T_MINUS_1:
        return b[:n_vel]
    if p.music_beats_cut is MusicBeatsCut.T:
        return b[:n_frames]
    return b


def _bas(s: _Sample, beats: np.ndarray, p: Motion3dProtocol) -> float:
    j = _aligned(_bas_joints(s, p), p)
    motion_b, n_vel = _motion_beats(j, p.bas_sigma_smooth)
    music_b = np.flatnonzero(_music_beats_used(beats, n_vel, len(j), p).astype(bool)).astype(np.int64)
    return common.beat_align_score(music_b, motion_b, sigma_kernel=p.bas_sigma_kernel)


def _pfc(s: _Sample, p: Motion3dProtocol) -> float:
    if p.axis_align is AxisAlign.ROT_Z_90:
        j = _aligned(s.joints, p)  # the reference runs PFC on the float32 aligned joints, index 2 as "up"
    else:
        j = y_up_to_z_up(s.joints)  # (x, y, z) -> (x, -z, y): exact, keeps the dtype
    return pfc_sequence(j, dt=frame_time(p.pfc_dt, s.fps), up_index=p.pfc_up_index) * float(p.pfc_scale)


def _fsr(s: _Sample, p: Motion3dProtocol) -> tuple[float, float]:
    return foot_skating_sequence(
        s.joints,
        ankle_height=p.fsr_ankle_height,
        toe_height=p.fsr_toe_height,
        speed_threshold=p.fsr_speed_threshold,
        tangent=p.fsr_tangent.value,
        ground=p.fsr_ground.value,
    )


def _prepare(
    motions: Mapping[str, Motion | np.ndarray], p: Motion3dProtocol, side: str, skipped: dict[str, str]
) -> list[_Sample]:
    out = []
    need = p.feature_joints
    for stem in sorted(motions):
        try:
            m = _as_motion(motions[stem], stem)
            j = _yup_joints(m)
        except Exception as exc:  # a bad sample is recorded, never fatal
            skipped[f"{side}:{stem}"] = str(exc)
            continue
        if j.shape[1] < need:
            skipped[f"{side}:{stem}"] = f"{stem}: protocol needs {need} joints, the motion has {j.shape[1]}"
            continue
        if j.shape[0] < 3:
            skipped[f"{side}:{stem}"] = f"{stem}: needs at least 3 frames, has {j.shape[0]}"
            continue
        problem = fps_problem(m.fps)
        if problem is not None:
            skipped[f"{side}:{stem}"] = f"{stem}: {problem}"
            continue
        out.append(_Sample(stem, float(m.fps), j))
    return out


def _bas_problem(s: _Sample, beats: np.ndarray, p: Motion3dProtocol) -> str | None:
    """Why this sample's BAS measures nothing, or None: the music-beat vector stops more than one frame
    before the frames BAS compares (so later motion beats have no music to align with), or holds no beat in
    the range BAS reads (silent or beatless music)."""
    n = len(_bas_joints(s, p))
    need = n - 1 if p.music_beats_cut is MusicBeatsCut.T_MINUS_1 else n
    b = np.asarray(beats).reshape(-1)
    if len(b) + 1 < need:
        return f"the music-beat vector covers {len(b)} frames, the motion {need}"
    used = b[:need] if p.music_beats_cut is not None else b
    if not np.any(used.astype(bool)):
        return "no music beat within the motion (silent or beatless music)"
    return None


def _safe_frechet(*args, **kwargs) -> float | complex:
    """The Frechet distance, or NaN when the covariances are not finite (features blown up by the GT-stats
    normalisation of a column that is constant in GT)."""
    try:
        return common.frechet_distance(*args, **kwargs)
    except (ValueError, np.linalg.LinAlgError):
        return float("nan")


def _set_metrics(
    gt_k: np.ndarray,
    gt_g: np.ndarray,
    pr_k: np.ndarray,
    pr_g: np.ndarray,
    p: Motion3dProtocol,
    info=None,
) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, gt, pr in (("k", gt_k, pr_k), ("g", gt_g, pr_g)):
        if info is not None:
            cols = common.gt_constant_columns(gt, pr)
            if cols:
                kind = "kinetic" if key == "k" else "geometric"
                shown = ", ".join(map(str, cols[:8])) + (", ..." if len(cols) > 8 else "")
                msg = (
                    f"fid_{key}/div_{key}: {len(cols)} {kind} feature column(s) ({shown}) are constant over "
                    f"the GT set but vary in the generated set; normalising by the GT std + "
                    f"{p.normalize_eps:g} scales their differences by up to "
                    f"{1 / p.normalize_eps:.0e}, so these values are dominated by them"
                )
                for name in (f"fid_{key}", f"div_{key}"):
                    info.setdefault("warnings", {}).setdefault(name, []).append(msg)
        g, q = common.normalize_by_gt(
            gt, pr, eps=p.normalize_eps, ddof=p.normalize_ddof, torch_like=p.normalize_float32_torch
        )
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if len(g) >= 2 and len(q) >= 2:
                mu_p, sig_p = common.feature_stats(q)
                mu_g, sig_g = common.feature_stats(g)
                fi: dict[str, Any] = {}
                fid = _safe_frechet(
                    mu_p,
                    sig_p,
                    mu_g,
                    sig_g,
                    complex_mode=p.fid_complex_mode.value,
                    eps=p.fid_eps,
                    sqrtm=p.fid_sqrtm.value,
                    info=fi,
                )
                if info is not None:
                    info[f"fid_{key}"] = {"raw": repr(fid), **fi}
                    flags = common.frechet_warnings(f"fid_{key}", float(np.real(fid)), sig_p, sig_g)
                    if flags:
                        info.setdefault("warnings", {}).setdefault(f"fid_{key}", []).extend(flags)
                out[f"fid_{key}"] = float(np.real(fid))
            else:
                out[f"fid_{key}"] = float("nan")
            div_kw = {"dtype": np.dtype(p.diversity_dtype), "mode": p.diversity_mode.value}
            out[f"div_{key}"] = common.diversity(q, **div_kw)
            out[f"div_{key}_gt"] = common.diversity(g, **div_kw)
    return out


# --------------------------------------------------------------------------------------------------- scoring


def score_3d(
    gt: Mapping[str, Motion | np.ndarray],
    pred: Mapping[str, Motion | np.ndarray],
    music_beats: Mapping[str, np.ndarray] | None,
    protocol: Motion3dProtocol | str,
    *,
    n_boot: int = 0,
    seed: int = 0,
    skipped: Mapping[str, str] | None = None,
) -> MetricReport:
    """Score generated 3D dances against ground truth under a named protocol.

    Args:
        gt, pred: ``{stem: Motion or (T, J, 3) Y-up joint array}``. As in the references, each side is a set:
            FID/Div compare the two feature sets, which need not hold the same stems.
        music_beats: ``{stem: 0/1 beat vector at the motion fps}``, looked up by each motion's stem (GT and
            generated). Missing stems are left out of BAS with a warning; None skips BAS.
        protocol: a registered 3D protocol or its name.
        n_boot: bootstrap resamples for 95% intervals (over generated samples; over both sides jointly when
            the stems are the same); 0 disables them.
        skipped: reasons for inputs dropped before scoring (e.g. unreadable files), carried into the report.

    Returns a :class:`~benchmark.results.MetricReport` with keys fid_k, fid_g, div_k, div_g, bas, div_k_gt,
    div_g_gt, bas_gt, pfc, pfc_gt, fsr, fsr_gt; per-sample bas/pfc/fsr (GT ones as ``*_gt``).
    """
    proto = resolve_protocol(protocol)
    skip: dict[str, str] = dict(skipped or {})
    warns: list[str] = []

    gts = _prepare(gt, proto, "gt", skip)
    prs = _prepare(pred, proto, "pred", skip)

    def feats(samples: list[_Sample], side: str) -> tuple[list[_Sample], np.ndarray, np.ndarray]:
        keep, ks, gs = [], [], []
        for s in samples:
            try:
                k, g = _features(s, proto)
            except Exception as exc:
                skip[f"{side}:{s.stem}"] = f"{s.stem}: feature extraction failed ({exc})"
                continue
            keep.append(s)
            ks.append(k)
            gs.append(g)
        dim_k = 3 * proto.feature_joints
        return (
            keep,
            np.stack(ks) if ks else np.zeros((0, dim_k), np.float32),
            np.stack(gs) if gs else np.zeros((0, 32), np.float32),
        )

    gts, gt_k, gt_g = feats(gts, "gt")
    prs, pr_k, pr_g = feats(prs, "pred")
    if not prs:
        raise MaceError("no usable generated motions left to score")
    if not gts:
        raise MaceError("no usable ground-truth motions left to score")
    if len(gts) < 2 or len(prs) < 2:
        warns.append("FID needs at least 2 samples per side; FID values are NaN")
    dims = {"kinetic": gt_k.shape[1], "geometric": gt_g.shape[1]}
    if min(len(gts), len(prs)) < max(dims.values()):
        # The references are silent here; a warning changes no number.
        warns.append(
            f"only {len(gts)} GT / {len(prs)} generated samples for {dims['kinetic']}-d kinetic / "
            f"{dims['geometric']}-d geometric features: the covariances are rank-deficient, so FID is unstable"
        )

    per_sample: dict[str, dict[str, float]] = {}

    def physical(samples: list[_Sample], suffix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pfc, fl, fr = [], [], []
        for s in samples:
            v = _pfc(s, proto)
            left, right = _fsr(s, proto)
            pfc.append(v)
            fl.append(left)
            fr.append(right)
            fsr_s = np.nanmean([left, right]) if np.isfinite([left, right]).any() else float("nan")
            per_sample.setdefault(s.stem, {}).update({f"pfc{suffix}": v, f"fsr{suffix}": float(fsr_s)})
        return np.array(pfc), np.array(fl), np.array(fr)

    undefined = proto.bas_without_beats is BasWithoutBeats.UNDEFINED
    bas_problems: dict[str, str] = {}

    def bas(samples: list[_Sample], suffix: str) -> np.ndarray:
        vals = []
        for s in samples:
            if music_beats is None:
                vals.append(np.nan)
                continue
            if s.stem not in music_beats:
                warns.append(f"{s.stem}: no music beats; left out of BAS{suffix.upper()}")
                vals.append(np.nan)
                continue
            problem = _bas_problem(s, music_beats[s.stem], proto)
            if problem is not None:
                bas_problems.setdefault(s.stem, problem)  # GT and generated share the stem's music
                if undefined:
                    vals.append(np.nan)
                    per_sample.setdefault(s.stem, {})[f"bas{suffix}"] = float("nan")
                    continue
            v = _bas(s, music_beats[s.stem], proto)
            vals.append(v)
            per_sample.setdefault(s.stem, {})[f"bas{suffix}"] = v
        return np.array(vals, dtype=np.float64)

    gt_pfc, gt_fl, gt_fr = physical(gts, "_gt")
    pr_pfc, pr_fl, pr_fr = physical(prs, "")
    gt_bas, pr_bas = bas(gts, "_gt"), bas(prs, "")
    if bas_problems:
        warns.append(common.bas_warning(bas_problems, undefined, "sample", "the reference"))

    def nanmean(x: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        f = x[np.isfinite(x)]
        return float(np.add.accumulate(f)[-1] / f.size) if f.size else float("nan")

    def fsr_of(fl: np.ndarray, fr: np.ndarray) -> float:
        return (nanmean(fl) + nanmean(fr)) / 2

    for name, arr in (("pfc_gt", gt_pfc), ("pfc", pr_pfc)):
        if not np.isfinite(arr).all():
            warns.append(f"{name}: {int((~np.isfinite(arr)).sum())} sequence(s) with a static root left out")
    for name, a, b in (("fsr_gt", gt_fl, gt_fr), ("fsr", pr_fl, pr_fr)):
        n_bad = int((~np.isfinite(a)).sum() + (~np.isfinite(b)).sum())
        if n_bad:
            warns.append(f"{name}: {n_bad} foot side(s) never touch the ground; left out of the FSR mean")

    fid_info: dict[str, Any] = {}
    values = _set_metrics(gt_k, gt_g, pr_k, pr_g, proto, info=fid_info)
    values.update(
        {
            "bas": nanmean(pr_bas) if music_beats is not None else float("nan"),
            "bas_gt": nanmean(gt_bas) if music_beats is not None else float("nan"),
            "pfc": nanmean(pr_pfc),
            "pfc_gt": nanmean(gt_pfc),
            "fsr": fsr_of(pr_fl, pr_fr),
            "fsr_gt": fsr_of(gt_fl, gt_fr),
        }
    )
    if music_beats is None:
        warns.append("no music beats given: BAS not computed")
    for key in ("fid_k", "fid_g"):
        raw = complex(fid_info.get(key, {}).get("raw", "0").strip("()") or 0)
        if abs(raw.imag) > 1e-6 * max(1.0, abs(raw.real)):
            warns.append(
                f"{key}: the reference's Frechet distance is complex here ({raw}); reporting its real part"
            )

    cis: dict[str, tuple[float, float]] = {}
    if n_boot > 0 and len(prs) >= 2:
        from benchmark.stats import bootstrap_ci

        paired = [s.stem for s in gts] == [s.stem for s in prs]

        def stat(idx: np.ndarray) -> dict[str, float]:
            try:
                return _stat(idx)
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                return {k: float("nan") for k in METRIC_KEYS}

        def _stat(idx: np.ndarray) -> dict[str, float]:
            gi = idx if paired else np.arange(len(gts))
            v = _set_metrics(gt_k[gi], gt_g[gi], pr_k[idx], pr_g[idx], proto)
            v.update(
                {
                    "bas": nanmean(pr_bas[idx]),
                    "pfc": nanmean(pr_pfc[idx]),
                    "fsr": fsr_of(pr_fl[idx], pr_fr[idx]),
                }
            )
            if paired:
                v.update(
                    {
                        "bas_gt": nanmean(gt_bas[idx]),
                        "pfc_gt": nanmean(gt_pfc[idx]),
                        "fsr_gt": fsr_of(gt_fl[idx], gt_fr[idx]),
                    }
                )
            return v

        cis = bootstrap_ci(stat, len(prs), n_boot=n_boot, seed=seed)

    flags: dict[str, list[str]] = fid_info.pop("warnings", {})
    for key in ("fid_k", "fid_g"):
        msg = common.fid_interval_warning(key, values[key], cis.get(key, (None, None))[1])
        if msg:
            flags.setdefault(key, []).append(msg)
    for msgs in flags.values():
        warns.extend(m for m in msgs if m not in warns)
    metrics = {
        k: MetricValue(float(values[k]), *(cis.get(k, (None, None))), warnings=list(flags.get(k, [])))
        for k in METRIC_KEYS
    }
    extra = {
        "n_gt": len(gts),
        "n_pred": len(prs),
        "feature_dims": {"kinetic": int(gt_k.shape[1]), "geometric": int(gt_g.shape[1])},
        "fid": fid_info,
        "gt_stems": [s.stem for s in gts],
        "pred_stems": [s.stem for s in prs],
    }
    if bas_problems:
        extra["bas_undefined" if undefined else "bas_without_beats"] = dict(sorted(bas_problems.items()))
    return MetricReport(metrics, per_sample, skip, len(prs), proto, warns, extra)
