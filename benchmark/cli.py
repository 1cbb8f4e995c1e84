"""``mace-bench``: score generated dance videos with the MACE-Dance motion–appearance protocol."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.cli_3d import evaluate_3d
from benchmark.cli_appearance import selfcheck
from benchmark.cli_keypoints import keypoints
from benchmark.cli_leaderboard import leaderboard, submission, testset
from benchmark.cli_options import (
    bootstrap_options,
    pose_executor_options,
    pose_options,
    pose_speed_options,
    results_options,
)
from benchmark.cli_reproduce import reproduce
from benchmark.cli_table import table
from ma_data.core.cli import check_outputs, toolkit_group
from ma_data.core.commands import TOOLKIT_COMMANDS


@toolkit_group("mace-bench")
def main() -> None:
    """MACE-Dance benchmark: motion (2D keypoints, 3D SMPL) and appearance (VBench) metrics.

    \b
    Typical use:
      mace-bench evaluate --pred generated/ --gt ground_truth/ --out results.json
      mace-bench evaluate --pred-keypoints P/ --gt-keypoints G/ --audio A/ --out results.json
      mace-bench reproduce --config methods.yaml --out repro/   # the paper's tables with your rows
      mace-bench protocols            # list the named protocols and their parameters
      mace-bench doctor               # check the installation
    """


@main.command()
@click.option("--pred", "pred_dir", type=click.Path(path_type=Path), help="Folder of generated videos.")
@click.option(
    "--gt", "gt_dir", type=click.Path(path_type=Path), help="Folder of ground-truth videos (same stems)."
)
@click.option(
    "--pred-keypoints",
    type=click.Path(path_type=Path),
    help="Folder of generated keypoints: official JSON {'keypoints': ...} or our .npz tracks.",
)
@click.option("--gt-keypoints", type=click.Path(path_type=Path), help="Folder of ground-truth keypoints.")
@click.option(
    "--audio",
    "audio_dir",
    type=click.Path(path_type=Path),
    help="Folder of GT music (.mp4 as in the official release, or .wav). Default: the GT videos' audio.",
)
@click.option(
    "--protocol",
    default="mace2d-official",
    show_default=True,
    help="Motion protocol: mace2d-official (bit-compatible with the official release) or mace2d-strict "
    "(see `mace-bench protocols --kind motion2d`).",
)
@pose_options(
    auto_detector="the protocol's preference among those whose weights are cached (mace2d-official: yolov8s "
    "first; mace2d-strict: rtdetr first)."
)
@click.option(
    "--dims",
    default="motion",
    show_default=True,
    help="Comma-separated dimensions to score: motion, appearance.",
)
@click.option(
    "--appearance-dims",
    default=None,
    help="Comma-separated VBench/animation dimensions (default: all six VBench ones, plus "
    "fvd,ssim,lpips,psnr when --gt is given).",
)
@click.option(
    "--fvd-clips",
    type=click.Choice(["all-runs", "stylegan-v"]),
    default=None,
    help="FVD clip policy (recorded in the results): all-runs = every non-overlapping 16-frame run of each "
    "video (the vbench-appearance default); stylegan-v = one 16-frame clip per video, as StyleGAN-V's fvd2048_16f.",
)
@results_options
@bootstrap_options(default=1000)
@click.option("--device", default="cpu", show_default=True, help="Torch device for model-backed metrics.")
@click.option("--no-cache", is_flag=True, help="Re-extract keypoints even when cached.")
@pose_speed_options
@pose_executor_options
def evaluate(**opts) -> None:
    """Score generated dance videos (or their keypoints) against ground truth.

    Stems are matched across folders; a stem missing on one side, or whose files are unreadable, is skipped
    with its reason (recorded in the results), as the official protocol does. When nothing usable is left the
    command exits with code 2 and a one-line error.
    """
    from benchmark.cli_output import report_evaluation
    from benchmark.evaluate import EvaluateOptions, run_evaluate

    report = opts.pop("report")
    check_outputs(
        files={"--out": opts["out"], "--markdown": opts["markdown"]},
        folders={"--plots": opts["plots"], "--report": report},
    )
    evaluation = run_evaluate(
        EvaluateOptions(**opts), progress=True, log=lambda line: click.echo(line, err=True)
    )
    report_evaluation(evaluation, opts["out"], opts["markdown"], opts["plots"], report=report)


@main.command()
@click.option("--kind", type=click.Choice(["motion2d", "motion3d", "appearance"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def protocols(kind: str | None, as_json: bool) -> None:
    """List the named evaluation protocols with their version, parameters and metrics."""
    import json

    from benchmark.protocols import list_protocols

    items = list_protocols(kind)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in items], indent=2))
        return
    for p in items:
        click.echo(f"{p.name}  v{p.version}  [{p.kind}]  {p.description}")
        for key, value in p.params.items():
            click.echo(f"    {key} = {value!r}")
        arrows = {True: " ↑", False: " ↓", None: ""}
        click.echo("    metrics: " + ", ".join(f"{m.label}{arrows[m.higher_is_better]}" for m in p.metrics))


# Subcommands defined in their own modules: registered here, one place for the whole CLI.
for _command in (
    evaluate_3d,
    reproduce,
    table,
    keypoints,
    selfcheck,
    testset,
    submission,
    leaderboard,
    *TOOLKIT_COMMANDS,
):
    main.add_command(_command)


if __name__ == "__main__":
    main()
