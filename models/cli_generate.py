"""``mace-dance generate``: the cascade from the command line (music + photo -> dance video).

The work is :func:`models.cascade.run_cascade`; this module only maps options to a :class:`CascadeConfig`.
"""

from __future__ import annotations

from pathlib import Path

import click

from ma_data.core.cli import command
from models.appearance_expert.cli import parse_resolution, with_animation_options, with_memory_options


@command("generate")
@click.option(
    "--music", type=click.Path(path_type=Path), required=True, help="Music file (wav, mp3, mp4 ...)."
)
@click.option("--ref", "reference", type=click.Path(path_type=Path), required=True, help="Reference photo.")
@click.option("--genre", required=True, help="FineDance style2 genre (e.g. Hiphop, Jazz, Korean) or id 0-15.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output video (.mp4).")
@click.option(
    "--appearance",
    type=click.Choice(["wan", "none"]),
    default="wan",
    show_default=True,
    help="wan: Appearance Expert; none: stop at the pose video and mannequin render (no appearance weights).",
)
@click.option(
    "--motion-ckpt",
    type=click.Path(path_type=Path),
    default=None,
    help="Motion Expert checkpoint (train-motion last.pt or official train-3750.pt); default: weights cache. "
    "None yet? `mace-dance train-motion --demo --preset tiny --out runs/me` trains one in about a minute.",
)
@click.option("--motion-steps", type=int, default=50, show_default=True, help="Motion Expert DDIM steps.")
@click.option("--beta", type=float, default=0.75, show_default=True, help="Motion Expert GFT temperature.")
@with_animation_options
@click.option("--fps", type=float, default=16.0, show_default=True, help="Pose/output video fps.")
@click.option("--prompt", default=None, help="Text prompt (default: the released '视频中的人在跳舞').")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of both experts.")
@click.option("--max-seconds", type=float, default=None, help="Use only the first seconds of the music.")
@click.option(
    "--mannequin/--no-mannequin", default=True, show_default=True, help="Also render a mannequin video."
)
@click.option("--device", default=None, help="torch device (default: cuda when available, else cpu).")
@click.option(
    "--threads",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="torch CPU threads (0 = torch's default; 1 suits the tiny Motion Expert on a busy machine).",
)
@with_memory_options
def generate(music, reference, genre, out, appearance, motion_ckpt, motion_steps, beta, model_dir, body_adapter,
             lora, lora_strength, resolution, steps, guidance_scale, overlap, fps, prompt, seed, max_seconds,
             mannequin, device, threads, dtype, offload, vae_tiling):  # fmt: skip
    """Music + photo -> dance video: Motion Expert -> pose video -> Appearance Expert -> video with the music.

    Intermediates (motion.npz, pose_video.mp4, mannequin.mp4, reference.png, cascade.json) are kept in
    OUT_STEM_cascade/ beside the output.
    """
    import torch

    from models.cascade import CascadeConfig, intermediates_dir, run_cascade

    if threads > 0:
        torch.set_num_threads(threads)
    height, width = parse_resolution(resolution)
    cfg = CascadeConfig(
        music=str(music),
        reference=str(reference),
        genre=genre,
        out=str(out),
        appearance=appearance,
        motion_ckpt=str(motion_ckpt) if motion_ckpt else None,
        motion_steps=motion_steps,
        beta=beta,
        model_dir=str(model_dir) if model_dir else None,
        body_adapter=str(body_adapter) if body_adapter else None,
        lora=str(lora) if lora else None,
        lora_strength=lora_strength,
        height=height,
        width=width,
        fps=fps,
        steps=steps,
        guidance_scale=guidance_scale,
        overlap=int(overlap),
        prompt=prompt,
        seed=seed,
        max_seconds=max_seconds,
        device=device or ("cuda" if torch.cuda.is_available() else "cpu"),
        mannequin=mannequin,
        memory={"dtype": dtype, "offload": offload, "vae_tiling": vae_tiling},
    )
    from ma_data.core.cli import new_output_folder
    from models.cascade import motion_checkpoint

    motion_checkpoint(cfg)  # before anything is created: says how to train or get one
    new_output_folder(out.parent)  # removed again if generation fails before writing into it
    new_output_folder(intermediates_dir(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    record = run_cascade(cfg, progress=True)
    skipped = "; ".join(f"{k}: {v}" for k, v in record["skipped"].items())
    click.echo(
        f"wrote {out} (intermediates in {intermediates_dir(out)})"
        + (f"; skipped {skipped}" if skipped else "")
    )
