"""Command-line options shared by several ``mace-bench`` commands, one decorator per group:

- :func:`pose_options` (``--pose``, ``--detector``), :data:`pose_executor_options` (``--executor``,
  ``--workers``, ``--address``) and :func:`pose_speed_options` (``--batch-size``, ``--pose-dtype``): the
  commands that extract keypoints (``keypoints``, ``evaluate``);
- :func:`results_options` (``--out``, ``--markdown``, ``--plots``, ``--report``) and
  :func:`bootstrap_options` (``--n-boot``, ``--seed``): the commands that score (``evaluate``,
  ``evaluate-3d``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from ma_data.core.cli import executor_options
from ma_data.core.errors import MaceError
from ma_data.core.pose.batching import DTYPES
from ma_data.core.pose.detector import DETECTORS
from ma_data.core.pose.registry import BACKENDS, DEFAULT_BACKEND


def pose_options(auto_detector: str) -> Callable[[Callable], Callable]:
    """``--pose`` (a registered backend) and ``--detector`` (``auto`` or a registered person detector);
    ``auto_detector`` says what ``--detector auto`` picks for this command."""

    def decorate(fn: Callable) -> Callable:
        fn = click.option(
            "--detector",
            type=click.Choice(["auto", *DETECTORS]),
            default="auto",
            help="Person detector of --pose vitpose: yolov8s (the official one; its weights are AGPL-3.0) or "
            f"rtdetr (Apache-2.0). auto: {auto_detector}",
        )(fn)
        return click.option(
            "--pose",
            type=click.Choice(list(BACKENDS)),
            default=DEFAULT_BACKEND,
            help="Keypoint extractor: " + "; ".join(f"{k} = {v[2]}" for k, v in BACKENDS.items()) + ".",
        )(fn)

    return decorate


#: ``--executor``, ``--workers``, ``--address`` of the commands that extract keypoints.
pose_executor_options = executor_options(
    default="serial",
    where="Where the videos' keypoints are extracted, one video per task: this process, a local process pool, "
    "or Ray (vitpose: one actor per GPU). Tracks are the same whichever runs them.",
    workers="Pool size / local Ray CPUs (default: one worker per GPU for vitpose, per core for mediapipe).",
)


def pose_speed_options(fn: Callable) -> Callable:
    """``--batch-size`` and ``--pose-dtype`` of ``--pose vitpose``."""
    fn = click.option(
        "--pose-dtype",
        type=click.Choice(list(DTYPES)),
        default=None,
        help="--pose vitpose: ViTPose in float32 (default; the reference numbers) or bfloat16 (faster on "
        "recent GPUs, keypoints differ by a fraction of a pixel; recorded, cached apart from float32).",
    )(fn)
    return click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=None,
        help="--pose vitpose: frames per detector batch and crops per ViTPose batch (default 32; lowered to "
        "fit two batches of frames in 1 GiB). Float32 results do not depend on it.",
    )(fn)


def pose_speed_kwargs(pose: str, batch_size: int | None, pose_dtype: str | None) -> dict:
    """Backend options from ``--batch-size``/``--pose-dtype`` (only those given; refused for other backends)."""
    given = {k: v for k, v in (("batch_size", batch_size), ("dtype", pose_dtype)) if v is not None}
    if given and pose != "vitpose":
        raise MaceError("--batch-size and --pose-dtype apply to --pose vitpose")
    return given


def results_options(fn: Callable) -> Callable:
    """``--out`` (results JSON), ``--markdown``, ``--plots`` and ``--report``: what a scoring command writes
    (:func:`benchmark.cli_output.report_evaluation`)."""
    path = click.Path(path_type=Path)
    fn = click.option(
        "--report",
        type=path,
        help="Write an HTML report (REPORT/index.html: metrics, per-sample table, plots, provenance; no network).",
    )(fn)
    fn = click.option("--plots", type=path, help="Write per-sample beat-alignment plots here.")(fn)
    fn = click.option("--markdown", type=path, help="Also write the summary table as Markdown.")(fn)
    return click.option("--out", type=path, help="Write the results JSON here.")(fn)


def bootstrap_options(default: int, cost: str = "") -> Callable[[Callable], Callable]:
    """``--n-boot`` (``default`` resamples; ``cost`` says what each costs, if worth saying) and ``--seed``."""

    def decorate(fn: Callable) -> Callable:
        fn = click.option("--seed", type=click.IntRange(min=0), default=0, help="Seed of the bootstrap.")(fn)
        return click.option(
            "--n-boot",
            type=click.IntRange(min=0),
            default=default,
            help=f"Bootstrap resamples for 95% intervals (0 = off{'; ' + cost if cost else ''}).",
        )(fn)

    return decorate
