"""``mace-bench selfcheck appearance``: scores the five demo videos of the
official MACE-Dance repository (``Evaluation-Appearance/Pred/``) and compares every dimension with the
official VBench results shipped beside them (``manifests/reference/vbench_demo_results.json``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ma_data.core.cli import check_outputs, group
from ma_data.core.errors import MaceError
from ma_data.core.packaged import read_packaged_text

#: Default relative tolerance per dimension for the self-check. TF is model-free and exact; the model-backed
#: dimensions differ from VBench's run by its fp16 CLIP on CUDA, GPU kernels and decoder versions.
SELFCHECK_RTOL = {
    "temporal_flickering": 1e-6,
    "imaging_quality": 1e-2,
    "aesthetic_quality": 1e-2,
    "subject_consistency": 5e-3,
    "background_consistency": 5e-3,
    "motion_smoothness": 1e-3,
}


def load_demo_reference() -> dict:
    """The official per-video and aggregate VBench values of the demo videos."""
    text = read_packaged_text("reference", "vbench_demo_results.json")
    return json.loads(text)


# ------------------------------------------------------------------------------------------- selfcheck
@group("selfcheck")
def selfcheck() -> None:
    """Reproduce official reference numbers to check an installation."""


def compare_with_reference(
    report_metrics: dict[str, float],
    per_sample: dict[str, dict[str, float]],
    reference: dict,
    rtol: dict[str, float],
) -> list[dict]:
    """Rows of (dimension, ours, official, relative error, pass) for the dimensions we computed."""
    rows = []
    for dim, official in reference["aggregates"].items():
        if dim not in report_metrics:
            continue
        ours = report_metrics[dim]
        rel = abs(ours - official) / abs(official)
        per_video = {}
        for stem, ref_vals in reference["per_video"].items():
            if stem in per_sample and dim in per_sample[stem]:
                ref = ref_vals[dim] / 100.0 if dim == "imaging_quality" else ref_vals[dim]
                per_video[stem] = abs(per_sample[stem][dim] - ref) / abs(ref)
        rows.append(
            {
                "dimension": dim,
                "ours": ours,
                "official": official,
                "rel_error": rel,
                "rtol": rtol[dim],
                "passed": rel <= rtol[dim],
                "per_video_rel_error": per_video,
            }
        )
    return rows


@selfcheck.command("appearance")
@click.option(
    "--videos",
    "videos_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder holding the five demo videos of AMAP-ML/MACE-Dance Evaluation-Appearance/Pred/.",
)
@click.option(
    "--dims",
    default=None,
    help="Comma-separated dimensions to check (default: all six; a dimension whose weights are missing "
    "is reported as SKIP).",
)
@click.option("--device", default="cpu", show_default=True, help="Torch device for the models.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=16, show_default=True, help="Frames per model batch."
)
@click.option(
    "--rtol",
    type=click.FloatRange(min=0),
    default=None,
    help="Relative tolerance for every dimension (default: 1e-6 for TF, 1e-3..1e-2 for the model-backed ones).",
)
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the comparison here.")
def selfcheck_appearance(
    videos_dir: Path,
    dims: str | None,
    device: str,
    batch_size: int,
    rtol: float | None,
    json_out: Path | None,
) -> None:
    """Score the official demo videos and compare with the official VBench results (pass/fail per dim)."""
    from benchmark.appearance import VBENCH_DIMS, score_appearance

    check_outputs(files={"--json": json_out})
    reference = load_demo_reference()
    videos = {}
    for stem in reference["stems"]:
        path = videos_dir / f"{stem}.mp4"
        if not path.is_file():
            raise MaceError(
                f"{path}: demo video missing (copy Evaluation-Appearance/Pred/*.mp4 into {videos_dir})"
            )
        videos[stem] = path
    dim_list = [d.strip() for d in dims.split(",")] if dims else list(VBENCH_DIMS)
    bad = [d for d in dim_list if d not in VBENCH_DIMS]
    if bad:
        raise MaceError(f"selfcheck covers the VBench dimensions only; not: {bad}")
    report = score_appearance(videos, None, dims=dim_list, device=device, batch_size=batch_size, n_boot=0)
    tol = {d: (rtol if rtol is not None else SELFCHECK_RTOL[d]) for d in VBENCH_DIMS}
    rows = compare_with_reference(
        {k: v.value for k, v in report.metrics.items()}, report.per_sample, reference, tol
    )
    skipped = report.extra.get("skipped_dims", {})
    click.echo(f"{'dimension':<24} {'ours':>12} {'official':>12} {'rel.err':>10} {'rtol':>8}  result")
    for row in rows:
        verdict = "PASS" if row["passed"] else "FAIL"
        click.echo(
            f"{row['dimension']:<24} {row['ours']:>12.8f} {row['official']:>12.8f} "
            f"{row['rel_error']:>10.2e} {row['rtol']:>8.0e}  {verdict}"
        )
    for dim in dim_list:
        if dim in skipped:
            click.echo(f"{dim:<24} {'':>12} {'':>12} {'':>10} {'':>8}  SKIP ({skipped[dim]})")
    for stem, reason in report.skipped.items():
        click.echo(f"video {stem} not scored: {reason}", err=True)
    if json_out is not None:
        json_out.write_text(json.dumps({"rows": rows, "skipped_dims": skipped}, indent=2))
    if not rows or any(not r["passed"] for r in rows) or report.skipped:
        sys.exit(1)
