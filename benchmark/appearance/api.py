"""``score_appearance``: every requested appearance dimension over a set of videos, one decode per video."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.decode import iter_frames_bgr
from benchmark.appearance.dimensions import DIMENSIONS, dimension_keys
from benchmark.appearance.protocol import VBENCH_APPEARANCE, AppearanceProtocol, appearance_protocol
from benchmark.inputs import item_failure
from benchmark.report import MetricReport, MetricValue
from benchmark.stats import bootstrap_ci
from ma_data.core.errors import MaceError, MissingWeightError
from ma_data.core.progress import progress_bar

#: The built-in VBench dimensions (Table 1) and full-reference metrics (Table 3), in reporting order.
VBENCH_DIMS = dimension_keys(vbench=True)
FULL_REFERENCE_DIMS = dimension_keys(needs_gt=True)
ALL_DIMS = VBENCH_DIMS + FULL_REFERENCE_DIMS


def _load_factory(spec: str | Callable[..., VideoDimension]) -> Callable[..., VideoDimension]:
    """The dimension factory of a spec: a callable as is, ``"module:name"`` imported on use."""
    if callable(spec):
        return spec
    module, attr = spec.split(":")
    return getattr(importlib.import_module(module), attr)


def build_dimensions(
    dims: list[str], device: str = "cpu", batch_size: int = 16, options: dict[str, dict] | None = None
) -> tuple[list[VideoDimension], dict[str, str]]:
    """Instantiate the dimensions for ``dims`` (registered keys, :mod:`benchmark.appearance.dimensions`);
    returns (instances, {dim: reason it cannot run}). ``options`` maps a metric key to extra constructor
    arguments of its dimension (e.g. ``{"fvd": {"clip_policy": "stylegan-v"}}``)."""
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise MaceError(f"unknown appearance dimension(s) {unknown}; known: {', '.join(DIMENSIONS)}")
    groups: dict[str, list[str]] = {}
    for d in dims:
        groups.setdefault(DIMENSIONS[d].factory, []).append(d)
    instances: list[VideoDimension] = []
    failed: dict[str, str] = {}
    for spec, keys in groups.items():
        try:
            factory = _load_factory(spec)
            extra = {k: v for key in keys for k, v in (options or {}).get(key, {}).items()}
            instances.append(factory(tuple(keys), device=device, batch_size=batch_size, **extra))
        except MissingWeightError as exc:
            failed.update({k: str(exc) for k in keys})
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("benchmark.appearance"):
                failed.update({k: f"{k}: not implemented in this version of the toolkit" for k in keys})
            else:  # an optional dependency (transformers, scipy) is not installed
                failed.update(
                    {
                        k: f"{k}: needs the Python package {exc.name!r} (pip install 'mace-dance[models]')"
                        for k in keys
                    }
                )
    return instances, failed


def default_dims(have_gt: bool) -> list[str]:
    """The dimensions scored when none are named: the VBench six, plus the full-reference ones with GT."""
    return list(VBENCH_DIMS) + (list(FULL_REFERENCE_DIMS) if have_gt else [])


def unavailable_dims(dims: list[str] | None, have_gt: bool) -> dict[str, str]:
    """{dimension: why it cannot run} for the requested ``dims`` (default: :func:`default_dims`), checked
    before any work: a full-reference dimension without GT videos, or a weight the dimension loads that is
    not in the cache (presence only; hashes are checked when the weight is loaded). Each reason says how to
    get what is missing. Unknown dimensions raise a :class:`MaceError`."""
    from ma_data.core.weights import resolve_weight

    dims = default_dims(have_gt) if dims is None else list(dict.fromkeys(dims))
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise MaceError(f"unknown appearance dimension(s) {unknown}; known: {', '.join(DIMENSIONS)}")
    out: dict[str, str] = {}
    for d in dims:
        spec = DIMENSIONS[d]
        if spec.needs_gt and not have_gt:
            out[d] = f"{d}: needs GT videos (--gt)"
            continue
        for name in spec.weights:
            try:
                resolve_weight(name, verify=False)
            except MissingWeightError:
                out[d] = _how_to_get(name)
                break
    return out


def _how_to_get(name: str) -> str:
    """One short line: which weight is missing, where it belongs, the command that fetches it."""
    from ma_data.core.weights import get_spec, weight_path

    spec = get_spec(name)
    how = (
        f"`mace-bench weights fetch {name}`" if spec.url and not spec.is_dir else "see manifests/weights.yaml"
    )
    return f"needs weight {name!r} ({weight_path(name)}): {how}"


def _chunks(it: Iterator[np.ndarray], n: int) -> Iterator[np.ndarray]:
    while True:
        block = list(islice(it, n))
        if not block:
            return
        yield np.stack(block)


def score_video(
    pred: Path, gt: Path | None, dimensions: list[VideoDimension], chunk: int = 16
) -> dict[str, VideoValue]:
    """Decode ``pred`` (and ``gt``) once, feed every dimension, and collect per-video values."""
    if gt is None:
        dimensions = [d for d in dimensions if not d.needs_gt]
    if not dimensions:
        return {}
    for d in dimensions:
        d.start(str(pred))
    pred_chunks = _chunks(iter_frames_bgr(pred), chunk)
    # Both streams are cut into chunks of the same size, so chunk i of each holds frames [i*n, (i+1)*n).
    gt_chunks = _chunks(iter_frames_bgr(gt), chunk) if gt is not None else iter(())
    for block in pred_chunks:
        gt_block = next(gt_chunks, None)
        for d in dimensions:
            if not d.needs_gt:
                d.update(block)
            elif gt_block is not None:  # frames past the end of the GT are not compared
                n = min(len(block), len(gt_block))
                d.update(block[:n], gt_block[:n])
    out: dict[str, VideoValue] = {}
    for d in dimensions:
        out.update(d.finish())
    return out


def _aggregate(values: list[VideoValue], n_boot: int, seed: int = 0) -> MetricValue:
    """Set value sum(num) / sum(den) with a bootstrap CI over videos.

    When every video weighs 1 (a plain mean over videos) the point value is ``np.mean`` of the per-video
    floats, exactly VBench's aggregation (bit-level parity for temporal flickering).
    """
    num = np.array([v.num for v in values], dtype=np.float64)
    den = np.array([v.den for v in values], dtype=np.float64)
    if np.all(den == 1.0):
        point = float(np.mean([v.value for v in values]))
    else:
        point = float(num.sum() / den.sum())
    cis = bootstrap_ci(
        lambda idx: {"v": float(num[idx].sum() / den[idx].sum())}, len(values), n_boot=n_boot, seed=seed
    )
    lo, hi = cis.get("v", (None, None))
    return MetricValue(point, lo, hi)


def score_appearance(
    pred_videos: dict[str, Path],
    gt_videos: dict[str, Path] | None = None,
    dims: list[str] | None = None,
    device: str = "cpu",
    batch_size: int = 16,
    progress: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
    protocol: AppearanceProtocol = VBENCH_APPEARANCE,
    fvd_clips: str | None = None,
) -> MetricReport:
    """Score ``pred_videos`` (stem -> path) on the VBench appearance dimensions and, with ``gt_videos``,
    the full-reference metrics. Values are on VBench's raw scale (IQ / 100 as VBench's aggregate).

    ``dims`` defaults to the six VBench dimensions plus ``ssim, psnr, lpips, fvd`` when GT is given. A
    dimension that cannot run (missing weight) is reported in ``warnings`` and ``extra['skipped_dims']``
    while the others run; a video that cannot be decoded is listed in ``skipped`` with the reason.
    ``n_boot``/``seed``: the bootstrap over videos (0 disables the intervals). Never prints; ``progress``
    shows a bar on a terminal. ``fvd_clips`` is the FVD clip policy (``"all-runs"``, the protocol's
    default, or ``"stylegan-v"``); the report's protocol records it.
    """
    protocol = appearance_protocol(
        fvd_clips, base=protocol
    )  # ConfigError (a MaceError) for an unknown policy
    fvd_policy = protocol.fvd.policy()
    if dims is None:
        dims = default_dims(bool(gt_videos))
    dims = list(dict.fromkeys(dims))
    warnings: list[str] = []
    skipped_dims: dict[str, str] = {}
    if not gt_videos:
        for d in dims:
            if d in DIMENSIONS and DIMENSIONS[d].needs_gt:
                skipped_dims[d] = f"{d}: needs GT videos (--gt)"
        dims = [d for d in dims if d not in skipped_dims]
    dimensions, failed = build_dimensions(
        dims, device=device, batch_size=batch_size, options={"fvd": {"clip_policy": fvd_policy}}
    )
    skipped_dims.update(failed)
    if not dimensions:
        reasons = "; ".join(skipped_dims.values()) or "no dimension requested"
        raise MaceError(f"no appearance dimension can run: {reasons}")
    warnings.extend(skipped_dims.values())

    per_sample: dict[str, dict[str, float]] = {}
    parts: dict[str, dict[str, VideoValue]] = {}
    skipped: dict[str, str] = {}
    stems = sorted(pred_videos)
    for stem in progress_bar(stems, progress, desc="appearance", unit="video"):
        gt = gt_videos.get(stem) if gt_videos else None
        if gt_videos and gt is None and any(d.needs_gt for d in dimensions):
            warnings.append(f"{stem}: no GT video with this name; full-reference metrics not computed for it")
        try:  # per-item boundary (see benchmark.inputs): a video that fails to decode or score is named
            values = score_video(Path(pred_videos[stem]), Path(gt) if gt else None, dimensions, batch_size)
        except Exception as exc:
            skipped[stem] = item_failure(pred_videos[stem], exc)
            continue
        parts[stem] = values
        per_sample[stem] = {k: v.value for k, v in values.items()}

    metrics: dict[str, MetricValue] = {}
    scored = sorted(parts)
    for key in DIMENSIONS:
        have = [s for s in scored if key in parts[s]]
        if have:
            metrics[key] = _aggregate([parts[s][key] for s in have], n_boot, seed)
    extra: dict = {}
    for inst in dimensions:
        for k, v in inst.set_level().items():
            metrics[k] = MetricValue(v)  # set-level values (FVD): no per-video bootstrap
        n_clips = getattr(inst, "n_clips", None)
        if n_clips is not None:
            extra["fvd_clips"] = n_clips
            extra["fvd_clip_policy"] = fvd_policy
            if 0 < n_clips <= 400:
                warnings.append(f"fvd: {n_clips} clips for 400-d I3D features; covariances are singular")
    for dim in dims:
        if dim not in skipped_dims and dim not in metrics:
            warnings.append(f"{dim}: no video could be scored")
    if len(scored) == 1 and n_boot:
        warnings.append("only 1 video scored: the values are that video's, with no confidence interval")
    elif 1 < len(scored) < 10 and n_boot:
        warnings.append(f"only {len(scored)} videos scored: the bootstrap intervals rest on very few samples")
    return MetricReport(
        metrics=metrics,
        per_sample=per_sample,
        skipped=skipped,
        n_samples=len(scored),
        protocol=protocol,
        warnings=warnings,
        extra={
            "dims_requested": dims + sorted(set(skipped_dims) - set(dims)),
            "skipped_dims": skipped_dims,
            **extra,
        },
    )
