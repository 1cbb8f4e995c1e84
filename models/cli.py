"""``mace-dance``: train and run the reference MACE-Dance models."""

from __future__ import annotations

from pathlib import Path

import click

from ma_data.core.cli import toolkit_group, verbose_option
from ma_data.core.commands import TOOLKIT_COMMANDS
from ma_data.core.errors import ConfigError, MediaError
from models.appearance_expert.cli import appearance
from models.cli_generate import generate

OFFICIAL_WEIGHT = "mace-dance-motion-expert"  # manifests/weights.yaml entry for the released train-3750.pt


@toolkit_group("mace-dance")
@verbose_option
def main() -> None:
    """MACE-Dance reference models: the Motion Expert (music -> SMPL dance), the Appearance Expert and the
    cascade that chains them (music + photo -> dance video).

    \b
    Typical use:
      mace-dance train-motion --finedance /data/FineDance --out runs/me --preset paper
      mace-dance sample-motion --ckpt runs/me/last.pt --music song.wav --genre Popping --out dance.npz
      mace-dance generate --music song.wav --ref photo.png --genre Popping --out video.mp4
      mace-dance appearance --help     # the Appearance Expert's training stages and animation
    """


@main.command("train-motion")
@click.option(
    "--finedance",
    type=click.Path(path_type=Path),
    default=None,
    help="FineDance directory with motion/, music_wav/, label_json/ (music_npy/ used if present).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Train on the bundled SYNTHETIC FineDance-format sample (written to OUT/finedance_sample): a first "
    "checkpoint for `generate` in about a minute with --preset tiny.",
)
@click.option(
    "--out",
    "run",
    type=click.Path(path_type=Path),
    required=True,
    help="Run directory: metrics.jsonl, last.pt, normalizer.npz, config.json.",
)
@click.option(
    "--preset",
    type=click.Choice(["tiny", "paper"]),
    default=None,
    help="tiny: CPU-sized model for development (the default with --demo); paper: the released configuration "
    "(the default with --finedance).",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    help="Total optimisation steps (default: the preset's: tiny 300, about a minute on 2 CPU cores; paper "
    "100000). The expected time is printed after the first steps.",
)
@click.option("--batch-size", type=int, default=None, help="Batch size (default: preset; paper 128).")
@click.option("--lr", type=float, default=None, help="Adan learning rate (default: preset; paper 4e-4).")
@click.option(
    "--window", type=int, default=None, help="Training clip length in frames (default: preset; paper 240)."
)
@click.option(
    "--stride", type=int, default=None, help="Frames between clip starts (default: preset; paper 30)."
)
@click.option(
    "--heads", type=int, default=None, help="Attention heads (paper preset: 8 as released; the paper says 4)."
)
@click.option(
    "--objective",
    type=click.Choice(["gft", "cfg"]),
    default=None,
    help="gft (default): guidance-free training; cfg: classifier-free baseline with music dropout.",
)
@click.option(
    "--gft-uncond-beta",
    type=click.Choice(["same", "one"]),
    default=None,
    help="Beta fed to the stop-gradient unconditional branch: same (code, default) or one (paper).",
)
@click.option(
    "--split",
    type=click.Choice(["train", "test", "all"]),
    default=None,
    help="FineDance@Genre split to train on (default train).",
)
@click.option(
    "--log-every", type=int, default=None, help="Steps between metrics.jsonl lines (default: preset)."
)
@click.option("--save-every", type=int, default=None, help="Steps between last.pt saves (default: preset).")
@click.option("--seed", type=int, default=None, help="Random seed (default 42).")
@click.option(
    "--threads",
    type=int,
    default=None,
    help="torch CPU threads (default: preset; tiny 1, paper torch's default).",
)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Continue from RUN/last.pt when it exists (--no-resume starts over and overwrites).",
)
def train_motion(finedance, demo, run, preset, steps, batch_size, lr, window, stride, heads, objective,
                 gft_uncond_beta, split, log_every, save_every, seed, threads, device, resume):  # fmt: skip
    """Train the Motion Expert on FineDance (or, with --demo, on the bundled synthetic sample).

    \b
      mace-dance train-motion --demo --preset tiny --out runs/me       # a first checkpoint in about a minute
      mace-dance train-motion --finedance /data/FineDance --preset paper --out runs/me
    """
    from dataclasses import replace

    from ma_data.core.cli import check_outputs
    from models.motion_expert.train import PRESETS, train

    if (finedance is None) == (not demo):
        raise click.UsageError("give --finedance DIR or --demo (the bundled synthetic sample)")
    check_outputs(folders={"--out": run})
    if demo:
        from ma_data.sample import write_sample

        finedance = write_sample(run / "finedance_sample")
        split = split or "all"  # four sequences: train on every one
    preset = preset or ("tiny" if demo else "paper")
    cfg = PRESETS[preset]
    if steps is None:
        click.echo(f"steps: {cfg.steps} (the {preset} preset's default; --steps N to change)", err=True)
    overrides = dict(steps=steps, batch_size=batch_size, lr=lr, window=window, stride=stride,
                     objective=objective, gft_uncond_beta=gft_uncond_beta, split=split,
                     log_every=log_every, save_every=save_every, seed=seed, threads=threads)  # fmt: skip
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if heads is not None:
        cfg = replace(cfg, model=replace(cfg.model, num_heads=heads))
    if not resume and run.exists():
        for name in ("last.pt", "metrics.jsonl"):
            (run / name).unlink(missing_ok=True)
    summary = train(finedance, run, cfg, resume=resume, device=device, echo=lambda m: click.echo(m, err=True))
    click.echo(
        f"trained to step {summary['step']} in {summary['elapsed_s']:.1f} s; checkpoint {run / 'last.pt'}"
    )


@main.command("sample-motion")
@click.option(
    "--ckpt",
    type=click.Path(path_type=Path),
    required=True,
    help="Checkpoint: a train-motion last.pt, the official train-3750.pt, or 'official' (the weights cache).",
)
@click.option(
    "--music", type=click.Path(path_type=Path), required=True, help="Audio file (wav, mp3, mp4 ...)."
)
@click.option(
    "--genre",
    required=True,
    help="FineDance style2 genre name (e.g. Hiphop) or id; runs trained on other labels also know those.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output file (.npz or .pkl).")
@click.option("--beta", type=float, default=0.75, show_default=True, help="GFT temperature at inference.")
@click.option("--steps", type=int, default=50, show_default=True, help="DDIM steps.")
@click.option(
    "--eta", type=float, default=1.0, show_default=True, help="DDIM eta (1 = the release's stochastic DDIM)."
)
@click.option("--seed", type=int, default=None, help="Random seed for a reproducible sample.")
@click.option(
    "--guidance",
    type=click.Choice(["gft", "cfg"]),
    default="gft",
    show_default=True,
    help="gft: one network call per step; cfg: two (cond + uncond).",
)
@click.option(
    "--cfg-scale", type=float, default=2.0, show_default=True, help="Guidance scale for --guidance cfg."
)
@click.option(
    "--weights",
    type=click.Choice(["model", "ema"]),
    default="model",
    show_default=True,
    help="Which weights to use (the release's test.py uses the non-EMA model weights).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "npz", "official"]),
    default="auto",
    show_default=True,
    help="npz: poses, trans, joints, fps, up_axis; official: the release's pickle (.pkl); auto: by --out suffix.",
)
@click.option(
    "--heads", type=int, default=None, help="Attention heads for the official checkpoint (default 8)."
)
@click.option(
    "--edit",
    type=click.Choice(["inbetween", "joints", "trajectory"]),
    default=None,
    help="Masked-denoising edit of --reference: keep frames, keep joints, or follow its root path.",
)
@click.option(
    "--reference",
    type=click.Path(path_type=Path),
    default=None,
    help="Motion file (npz / pkl / FineDance npy, 30 fps) the edit keeps parts of.",
)
@click.option(
    "--keep-frames",
    default=None,
    help="inbetween: frames to keep, e.g. '0-29,210-239' (default: first and last 30).",
)
@click.option(
    "--keep-joints",
    default=None,
    help="joints: SMPL-24 joint ids to keep (default: lower body 0,1,2,4,5,7,8,10,11).",
)
@click.option(
    "--trajectory-axes",
    type=click.Choice(["xy", "xyz"]),
    default="xy",
    show_default=True,
    help="trajectory: keep the ground-plane path (xy, Z-up) or the full root translation.",
)
@click.option(
    "--threads", type=int, default=0, show_default=True, help="torch CPU threads (0 = torch's default)."
)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
def sample_motion(
    ckpt,
    music,
    genre,
    out,
    beta,
    steps,
    eta,
    seed,
    guidance,
    cfg_scale,
    weights,
    fmt,
    heads,
    edit,
    reference,
    keep_frames,
    keep_joints,
    trajectory_axes,
    threads,
    device,
):
    """Generate a Z-up SMPL-24 dance for MUSIC in GENRE (length follows the music at 30 fps)."""
    from models.motion_expert.checkpoint import load_expert
    from models.motion_expert.data import genre_id
    from models.motion_expert.sample import music_frames, sample_motion, write_official_pickle

    if not music.is_file():
        raise MediaError(f"{music}: music file not found")
    if fmt == "auto":
        fmt = "official" if out.suffix.lower() in (".pkl", ".pickle") else "npz"
    if (
        fmt == "official"
        and out.suffix.lower() == ".npz"
        or fmt == "npz"
        and out.suffix.lower() in (".pkl", ".pickle")
    ):
        raise ConfigError(
            f"--format {fmt} does not match the file name {out.name} (npz -> .npz, official -> .pkl)"
        )
    if not 0.0 <= beta <= 1.0:
        raise ConfigError(f"--beta must be in [0, 1], got {beta}")
    if str(ckpt) == "official" and not ckpt.exists():
        from ma_data.core.weights import resolve_weight

        ckpt = resolve_weight(OFFICIAL_WEIGHT)
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    expert = load_expert(ckpt, weights=weights, map_location=device, num_heads=heads)
    gid = genre_id(genre, expert.genres)
    feats, n = music_frames(music)
    constraint = _edit_constraint(edit, reference, keep_frames, keep_joints, trajectory_axes, expert, n)
    motion, _ = sample_motion(expert, feats[:n], gid, beta=beta, steps=steps, eta=eta, seed=seed,
                              guidance=guidance, cfg_scale=cfg_scale, device=device,
                              constraint=constraint)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "official":
        write_official_pickle(motion, out)
    else:
        motion.save_npz(out)
    click.echo(f"wrote {out} ({motion.n_frames} frames at {motion.fps:g} fps, up axis {motion.up_axis})")


def _edit_constraint(edit, reference, keep_frames, keep_joints, axes, expert, n_frames):
    if edit is None:
        if reference is not None:
            raise ConfigError("--reference is only used with --edit")
        return None
    if reference is None:
        raise ConfigError(f"--edit {edit} needs --reference MOTION")
    from ma_data.core.formats.motion import load_motion
    from models.motion_expert import editing

    value = editing.reference_value(load_motion(reference), expert.normalizer, n_frames)
    if edit == "inbetween":
        default = f"0-{min(29, n_frames - 1)},{max(0, n_frames - 30)}-{n_frames - 1}"
        return editing.inbetween_constraint(value, editing.parse_index_list(keep_frames or default, n_frames))
    if edit == "joints":
        joints = editing.parse_index_list(keep_joints, 24) if keep_joints else editing.LOWER_BODY
        return editing.joint_constraint(value, joints)
    return editing.trajectory_constraint(value, axes=axes)


# Subcommands defined in their own modules: registered here, one place for the whole CLI.
for _command in (generate, appearance, *TOOLKIT_COMMANDS):
    main.add_command(_command)


if __name__ == "__main__":
    main()
