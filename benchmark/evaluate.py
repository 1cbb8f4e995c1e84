"""``mace-bench evaluate``: the requested dimensions (2D motion, appearance) of one set of dances.

:class:`EvaluateOptions` are the command's options; :func:`run_evaluate` runs each requested dimension
through the runner (:mod:`benchmark.runner`) and returns one :class:`~benchmark.runner.Evaluation`. Nothing
here prints: the command prints the summary (:mod:`benchmark.cli_output`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmark.cli_options import pose_speed_kwargs
from benchmark.runner import Evaluation, combine, evaluate_appearance, evaluate_motion2d
from ma_data.core.errors import MaceError

KNOWN_DIMS = ("motion", "appearance")


@dataclass
class EvaluateOptions:
    pred_dir: Path | None = None
    gt_dir: Path | None = None
    pred_keypoints: Path | None = None
    gt_keypoints: Path | None = None
    audio_dir: Path | None = None
    protocol: str = "mace2d-official"
    pose: str = "mediapipe"
    detector: str = "auto"
    dims: str = "motion"
    appearance_dims: str | None = None
    out: Path | None = None
    markdown: Path | None = None
    plots: Path | None = None
    n_boot: int = 1000
    seed: int = 0
    device: str = "cpu"
    no_cache: bool = False
    fvd_clips: str | None = None
    batch_size: int | None = None
    pose_dtype: str | None = None
    executor: str = "serial"
    workers: int | None = None
    address: str | None = None

    def dim_list(self) -> list[str]:
        dims = [d.strip() for d in self.dims.split(",") if d.strip()]
        unknown = [d for d in dims if d not in KNOWN_DIMS]
        if unknown or not dims:
            raise MaceError(
                f"--dims: unknown dimension(s) {unknown or dims}; choose from {', '.join(KNOWN_DIMS)}"
            )
        return dims

    def appearance_dim_list(self) -> list[str] | None:
        if not self.appearance_dims:
            return None
        return [d.strip() for d in self.appearance_dims.split(",") if d.strip()]


def check_appearance(opts: EvaluateOptions, log: Callable[[str], None] | None = None) -> dict[str, str]:
    """Before any work: the requested appearance dimensions that cannot run (missing weights, no GT), each
    logged with how to get what it needs; a :class:`MaceError` when none can run."""
    from benchmark.appearance.api import default_dims, unavailable_dims
    from benchmark.appearance.dimensions import DIMENSIONS

    have_gt = opts.gt_dir is not None
    wanted = opts.appearance_dim_list() or default_dims(have_gt)
    skipped = unavailable_dims(wanted, have_gt)
    for dim, reason in skipped.items():
        if log is not None:
            log(f"skipping appearance dimension {dim} ({DIMENSIONS[dim].metric.label}): {reason}")
    if len(skipped) == len(set(wanted)):
        raise MaceError("no appearance dimension can run: " + "; ".join(skipped.values()))
    if skipped and log is not None:
        runnable = [d for d in wanted if d not in skipped]
        log(
            f"scoring appearance dimensions {', '.join(runnable)} (the skipped ones are recorded in the results)"
        )
    return skipped


def run_evaluate(
    opts: EvaluateOptions, *, progress: bool = False, log: Callable[[str], None] | None = None
) -> Evaluation:
    """Score every requested dimension; one evaluation (motion and appearance share the results file).

    Appearance dimensions that cannot run are found (and logged) before any work (:func:`check_appearance`).
    """
    dims = opts.dim_list()
    if "appearance" in dims:
        check_appearance(opts, log)
    evaluations = []
    for dim in dims:
        if dim == "motion":
            evaluations.append(
                evaluate_motion2d(
                    opts.protocol,
                    pred_keypoints=opts.pred_keypoints,
                    gt_keypoints=opts.gt_keypoints,
                    audio=opts.audio_dir,
                    pred_videos=opts.pred_dir,
                    gt_videos=opts.gt_dir,
                    pose=opts.pose,
                    detector=opts.detector,
                    n_boot=opts.n_boot,
                    seed=opts.seed,
                    cache=not opts.no_cache,
                    progress=progress,
                    log=log,
                    pose_options=pose_speed_kwargs(opts.pose, opts.batch_size, opts.pose_dtype),
                    executor=opts.executor,
                    workers=opts.workers,
                    address=opts.address,
                )
            )
        else:
            evaluations.append(
                evaluate_appearance(
                    opts.pred_dir,
                    opts.gt_dir,
                    dims=opts.appearance_dim_list(),
                    device=opts.device,
                    fvd_clips=opts.fvd_clips,
                    n_boot=opts.n_boot,
                    seed=opts.seed,
                    progress=progress,
                )
            )
    return combine(evaluations)
