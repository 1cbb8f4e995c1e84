"""Command-line options shared by the commands that extract keypoints (``keypoints``, ``evaluate``): where the
videos run (``--executor``, ``--workers``, ``--address``) and how the vitpose backend batches them
(``--batch-size``, ``--pose-dtype``)."""

from __future__ import annotations

from collections.abc import Callable

import click

from ma_data.core.errors import MaceError
from ma_data.core.executors import EXECUTORS
from ma_data.core.pose.batching import DTYPES


def executor_options(fn: Callable) -> Callable:
    """``--executor serial|process|ray``, ``--workers``, ``--address`` (as ``ma-data build``)."""
    fn = click.option("--address", default=None, help="Ray cluster address (e.g. auto, ray://host:10001).")(
        fn
    )
    fn = click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Pool size / local Ray CPUs (default: one worker per GPU for vitpose, per core for mediapipe).",
    )(fn)
    return click.option(
        "--executor",
        type=click.Choice(list(EXECUTORS)),
        default="serial",
        show_default=True,
        help="Where the videos' keypoints are extracted, one video per task: this process, a local process "
        "pool, or Ray (vitpose: one actor per GPU). Tracks are the same whichever runs them.",
    )(fn)


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
