"""``ma-data``: build, validate and summarise MA-Data.

Exit codes: 0 success; 1 some clips failed / some files are bad (each named); 2 bad usage or nothing usable
(one line, never a traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ma_data.core.cli import executor_options, new_output_folder, toolkit_group, verbose_option
from ma_data.core.commands import TOOLKIT_COMMANDS
from ma_data.crawl.cli import crawl, status


@toolkit_group("ma-data")
@verbose_option
def main() -> None:
    """Build, validate and summarise MA-Data (the MACE-Dance dataset).

    \b
    Typical use:
      ma-data build --demo --subsets render,internet --out data/ma
      ma-data crawl --urls manifests/urls/example.csv --out data/ma
      ma-data validate data/ma
      ma-data stats data/ma
    """


@main.command()
@click.option(
    "--finedance",
    "finedance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="FineDance root (motion/, music_wav/, label_json/).",
)
@click.option("--demo", is_flag=True, help="Build from the bundled SYNTHETIC FineDance-format sample.")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Dataset root to create or resume.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="YAML/JSON overrides of the build config (render, slicing, sources).",
)
@click.option("--subsets", default="render", help="Comma-separated subsets to build: render, internet.")
@executor_options(
    default="process",
    where="Where items run: this process, a local process pool, or Ray.",
    workers="Pool size / local Ray CPUs (default: CPU count).",
)
@click.option("--preset", default=None, help="Render preset (default, demo); overrides the config.")
@click.option(
    "--render-path",
    type=click.Choice(["auto", "cpu-composite", "gpu-scene"]),
    default=None,
    help="How frames are drawn: auto (cpu-composite on Mesa's CPU rasteriser, gpu-scene on a GPU), or "
    "either explicitly (pin it to build identical bytes on both kinds of machine); overrides the config.",
)
@click.option(
    "--smpl-model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with SMPL model files: render the SMPL mesh instead of the built-in mannequin.",
)
def build(
    finedance,
    demo,
    out,
    config_file,
    subsets,
    executor,
    workers,
    address,
    preset,
    render_path,
    smpl_model_dir,
):
    """Build (or resume) a dataset root: clips, per-clip files and manifest.parquet.

    Re-running the same command resumes: finished clips are kept, interrupted ones redone.
    """
    from ma_data.build.pipeline import build as run_build
    from ma_data.build.pipeline import load_config

    if finedance is None and not demo:
        raise click.UsageError("give --finedance DIR or --demo")
    names = tuple(s.strip() for s in subsets.split(",") if s.strip())
    cfg = load_config(config_file, demo=demo and finedance is None)
    if preset:
        cfg["render"]["preset"] = preset
    if render_path:
        cfg["render"]["render_path"] = render_path
    if smpl_model_dir:
        cfg["render"].update(body="smpl", smpl_model_dir=str(smpl_model_dir.resolve()))
    if finedance is not None:
        from ma_data.sources.finedance import FineDanceSource

        FineDanceSource(finedance)  # a wrong folder is refused before the dataset root is created
    new_output_folder(out)  # removed again if the build fails before writing anything
    res = run_build(out, finedance_dir=finedance, demo=demo, subsets=names, config=cfg,
                    executor=executor, workers=workers, address=address,
                    log=lambda line: click.echo(line, err=True))  # fmt: skip
    click.echo(f"{res.out}: {res.n_ok} clips ok, {res.n_failed} failed; manifest {res.manifest}")
    for clip_id, _, err in res.failures:
        click.echo(f"failed: {clip_id}: {err}", err=True)
    if res.n_failed:
        sys.exit(2 if res.n_ok == 0 else 1)


@main.command()
@click.argument("root", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--no-decode", is_flag=True, help="Skip full decoding (probe and hash only).")
def validate(root, no_decode):
    """Check every clip of ROOT against manifest.parquet: files, decoding, frame counts, durations, audio,
    keypoint/motion/feature lengths and video hashes. Names every bad file; exit 1 if any."""
    from ma_data.validate import validate_dataset

    report = validate_dataset(root, decode=not no_decode)
    for problem in report.problems:
        click.echo(f"BAD {problem}", err=True)
    click.echo(f"{root}: {report.n_clips} clips checked, {len(report.problems)} problems")
    if report.problems:
        sys.exit(1)


@main.command()
@click.argument("root", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Chart path (default ROOT/stats.png).",
)
def stats(root, png):
    """Hours and clips per genre, subset and split, printed and drawn as a PNG chart."""
    from ma_data.stats import dataset_stats, format_stats, plot_stats

    st = dataset_stats(root)
    path = plot_stats(st, png or root / "stats.png")
    click.echo(format_stats(st))
    click.echo(f"chart: {path}")


# Subcommands defined in their own modules: registered here, one place for the whole CLI.
for _command in (crawl, status, *TOOLKIT_COMMANDS):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
