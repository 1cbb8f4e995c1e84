"""``mace-bench weights list|fetch|verify`` and ``mace-bench selfcheck appearance``.

The weights commands are thin views of :mod:`ma_data.core.weights` (the registry in ``manifests/weights.yaml``);
nothing is downloaded unless ``fetch`` is run. ``selfcheck appearance`` scores the five demo videos of the
official MACE-Dance repository (``Evaluation-Appearance/Pred/``) and compares every dimension with the
official VBench results shipped beside them (``manifests/reference/vbench_demo_results.json``).
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import click

from ma_data.core.cli import cli_errors
from ma_data.core.errors import MaceError

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
    text = resources.files("manifests").joinpath("reference/vbench_demo_results.json").read_text()
    return json.loads(text)


# --------------------------------------------------------------------------------------------- weights
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def weights() -> None:
    """List, download (only when asked) and checksum the model weights of the benchmark.

    The cache is $MACE_DANCE_CACHE/weights (default ~/.cache/mace-dance/weights).
    """


@weights.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@cli_errors
def weights_list(as_json: bool) -> None:
    """Every registered weight: present or missing, cache path, licence, and who uses it."""
    from ma_data.core.weights import registry, weight_path

    rows = []
    for name, spec in sorted(registry().items()):
        path = weight_path(name)
        rows.append(
            {
                "name": name,
                "present": path.exists(),
                "path": str(path),
                "sha256": spec.sha256,
                "license": spec.license,
                "url": spec.url,
                "used_by": list(spec.used_by),
                "description": spec.description,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = "present" if r["present"] else "missing"
        click.echo(f"{r['name']:<28} {state:<8} {r['path']}")
        click.echo(f"    {r['description']}")
        click.echo(f"    licence: {r['license'] or 'unknown'}; sha256: {r['sha256'] or 'not recorded'}")


@weights.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Fetch every registered weight that has a URL.")
@click.option("--force", is_flag=True, help="Download again even if the file is already cached.")
@cli_errors
def weights_fetch(names: tuple[str, ...], fetch_all: bool, force: bool) -> None:
    """Download NAMES into the cache and check their sha256 (when the registry records one)."""
    from ma_data.core.weights import fetch_weight, get_spec, registry

    if fetch_all:
        names = tuple(n for n, s in sorted(registry().items()) if s.url and not s.is_dir)
    if not names:
        raise MaceError("name at least one weight (see `mace-bench weights list`) or pass --all")
    failed = 0
    for name in names:
        get_spec(name)
        try:
            path = fetch_weight(name, force=force)
        except MaceError as exc:
            click.echo(f"FAIL {name}: {exc}", err=True)
            failed += 1
            continue
        except OSError as exc:  # network errors
            click.echo(f"FAIL {name}: download failed ({exc})", err=True)
            failed += 1
            continue
        click.echo(f"ok   {name}: {path}")
    if failed:
        sys.exit(1)


@weights.command("verify")
@click.argument("names", nargs=-1)
@cli_errors
def weights_verify(names: tuple[str, ...]) -> None:
    """Check the sha256 of cached weights (default: every weight present in the cache)."""
    from ma_data.core.errors import MissingWeightError
    from ma_data.core.weights import registry, verify_weight, weight_path

    if not names:
        names = tuple(n for n in sorted(registry()) if weight_path(n).exists())
        if not names:
            click.echo("no weights in the cache; see `mace-bench weights list`")
            return
    bad = 0
    for name in names:
        try:
            ok, message = verify_weight(name)
        except MissingWeightError as exc:
            ok, message = False, str(exc)
        click.echo(("ok   " if ok else "FAIL ") + message)
        bad += not ok
    if bad:
        sys.exit(1)


# ------------------------------------------------------------------------------------------- selfcheck
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--batch-size", default=16, show_default=True, help="Frames per model batch.")
@click.option(
    "--rtol",
    type=float,
    default=None,
    help="Relative tolerance for every dimension (default: 1e-6 for TF, 1e-3..1e-2 for the model-backed ones).",
)
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the comparison here.")
@cli_errors
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
