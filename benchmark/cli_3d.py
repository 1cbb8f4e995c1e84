"""``mace-bench evaluate-3d``: score generated 3D dances (SMPL motion or joints) under a named 3D protocol."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.cli_options import bootstrap_options, results_options
from benchmark.protocol_base import PLAUSIBLE_FPS
from ma_data.core.cli import check_outputs, command


@command("evaluate-3d")
@click.option(
    "--protocol",
    default="bailando3d",
    show_default=True,
    help="Named 3D protocol: bailando3d, finedance3d, mace3d and their -strict variants "
    "(see `mace-bench protocols --kind motion3d`).",
)
@click.option(
    "--gt",
    "gt",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of ground-truth motions: FineDance .npy (T,315), joint .npy (T,24,3) Y-up metres, "
    "Motion Expert/EDGE/AIST++ .pkl, or motion .npz.",
)
@click.option(
    "--pred", "pred", required=True, type=click.Path(path_type=Path), help="Folder of generated motions."
)
@click.option(
    "--music-beats",
    "music_beats",
    type=click.Path(path_type=Path),
    help="Folder of <stem>.npy 0/1 music-beat vectors at the motion fps (may be longer than the motion), "
    "or (T,35) baseline features (column 34).",
)
@click.option(
    "--music",
    "music",
    type=click.Path(path_type=Path),
    help="Folder of <stem>.wav music; beats are extracted with the protocol's own recipe.",
)
@results_options
@click.option(
    "--fps",
    type=click.FloatRange(*PLAUSIBLE_FPS),
    default=None,
    help="Frame rate of the inputs. Default: the format's own (30 for joint .npy and FineDance, 60 for AIST++).",
)
@bootstrap_options(default=100, cost="each costs two FIDs and four diversities")
def evaluate_3d(
    out: Path | None, markdown: Path | None, plots: Path | None, report: Path | None, **options
) -> None:
    """Score generated 3D dances against ground truth: FID_k, FID_g, Div_k, Div_g, BAS, PFC, FSR.

    Files are matched by stem: music beats are looked up by each motion's stem. As in the reference code,
    FID/Div compare the whole GT set with the whole generated set. Unreadable files are skipped with their
    reason (recorded in the results); when nothing usable is left the command exits with code 2.
    """
    from benchmark.cli_output import report_evaluation
    from benchmark.runner import evaluate_motion3d

    if options["music_beats"] is not None and options["music"] is not None:
        raise click.UsageError("give either --music-beats or --music, not both")
    check_outputs(
        files={"--out": out, "--markdown": markdown}, folders={"--plots": plots, "--report": report}
    )
    report_evaluation(evaluate_motion3d(**options, progress=True), out, markdown, plots, report=report)
