"""The ``appearance`` command group: the Appearance Expert's two training stages, animation, the tiny model.

Registered on ``mace-dance`` (``mace-dance appearance ...``) and runnable alone as
``python -m models.appearance_expert``. The cascade (``mace-dance generate``) is in :mod:`models.cli_generate`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ma_data.core.cli import group

from .loading import OFFLOAD_MODES, WEIGHT_DTYPES

memory_options = [
    click.option(
        "--dtype",
        type=click.Choice(WEIGHT_DTYPES),
        default="bfloat16",
        show_default=True,
        help="Weights dtype of the DiT and encoders (the VAE stays float32). bf16 halves memory (~33 GB DiT).",
    ),
    click.option(
        "--offload",
        type=click.Choice(OFFLOAD_MODES),
        default="none",
        show_default=True,
        help="CPU offload: model (whole components, peak = DiT), group (DiT blocks, a few GB, slower), "
        "sequential (smallest, slowest).",
    ),
    click.option(
        "--vae-tiling/--no-vae-tiling", default=False, show_default=True, help="Tiled VAE (less memory)."
    ),
]


def with_memory_options(fn):
    """The dtype/offload/VAE-tiling options shared by every command that runs the Appearance Expert."""
    for opt in reversed(memory_options):
        fn = opt(fn)
    return fn


animation_options = [
    click.option(
        "--model-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Wan2.2-Animate-14B in diffusers layout; default: weights cache (wan2.2-animate-14b-diffusers).",
    ),
    click.option(
        "--body-adapter", type=click.Path(path_type=Path), default=None, help="Stage-1 adapter file."
    ),
    click.option("--lora", type=click.Path(path_type=Path), default=None, help="Stage-2 LoRA file."),
    click.option("--lora-strength", type=float, default=0.5, help="LoRA strength (official 0.5)."),
    click.option("--resolution", default="720p", help="480p (832x480), 720p (1280x720) or HxW, portrait."),
    click.option("--steps", type=int, default=20, help="Appearance Expert denoising steps."),
    click.option("--guidance-scale", type=float, default=1.0, help="CFG scale (1 = none)."),
    click.option(
        "--overlap",
        type=click.Choice(["1", "5"]),
        default="1",
        help="Relay frames shared by consecutive 77-frame segments (1 = the paper's last frame).",
    ),
]


def with_animation_options(fn):
    """The model (base, Body Adapter, LoRA) and sampling options of every command that animates a reference
    image with the Appearance Expert (``appearance animate``, ``generate``)."""
    for opt in reversed(animation_options):
        fn = opt(fn)
    return fn


def parse_resolution(value: str) -> tuple[int, int]:
    from .inference import RESOLUTIONS

    if value in RESOLUTIONS:
        return RESOLUTIONS[value]
    try:
        h, w = (int(v) for v in value.lower().split("x"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: use 480p, 720p or HEIGHTxWIDTH") from exc
    return h, w


@group("appearance")
@click.version_option(package_name="mace-dance", prog_name="mace-dance appearance")
def appearance() -> None:
    """Appearance Expert: two-stage fine-tuning of Wan2.2-Animate, animation, tiny test model."""


def _train_options(fn):
    opts = [
        click.option("--manifest", type=click.Path(path_type=Path), required=True, help="MA-Data manifest (Parquet)."),
        click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory."),
        click.option("--data-root", type=click.Path(path_type=Path), default=None, help="Dataset root (default: manifest folder)."),
        click.option("--model-dir", type=click.Path(path_type=Path), default=None, help="Base model (default: weights cache)."),
        click.option("--resolution", default="480p", show_default=True, help="480p, 720p or HxW (portrait)."),
        click.option("--frames", type=int, default=77, show_default=True, help="Controlled frames per window (4k+1; 77 = official 81)."),
        click.option("--fps", type=float, default=16.0, show_default=True, help="Training fps (clips are resampled)."),
        click.option("--lr", type=float, default=None, help="Learning rate (default: paper, 1e-5 stage 1 / 5e-5 stage 2)."),
        click.option("--steps", type=int, default=50_000, show_default=True, help="Optimizer steps (paper 50k)."),
        click.option("--batch-size", type=int, default=1, show_default=True, help="Windows per GPU per micro-step."),
        click.option("--grad-accum", type=int, default=1, show_default=True, help="Gradient accumulation steps."),
        click.option("--ema", type=float, default=None, help="EMA decay of the trained weights (off by default)."),
        click.option("--relay-prob", type=float, default=0.0, show_default=True, help="Probability of a relay-frame conditioning."),
        click.option("--save-every", type=int, default=500, show_default=True, help="Steps between checkpoints."),
        click.option("--log-every", type=int, default=10, show_default=True, help="Steps between metrics lines."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed."),
        click.option("--mixed-precision", type=click.Choice(["no", "bf16"]), default="no", show_default=True, help="Accelerate autocast."),
        click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=True, show_default=True, help="Recompute DiT blocks (less memory, ~1.3x time)."),
        click.option("--vae-tiling/--no-vae-tiling", default=False, show_default=True, help="Tiled VAE encoding (less memory at 720p)."),
        click.option("--resume", default=None, help="'latest' or a checkpoint directory."),
        click.option("--dtype", type=click.Choice(WEIGHT_DTYPES), default="bfloat16", show_default=True, help="Frozen weights dtype (trainables are fp32)."),
    ]  # fmt: skip
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _train(stage, manifest, out, data_root, model_dir, resolution, frames, fps, lr, steps, batch_size, grad_accum,
           ema, relay_prob, save_every, log_every, seed, mixed_precision, gradient_checkpointing, vae_tiling,
           resume, dtype, **extra):  # fmt: skip
    from .training import TrainConfig, train

    height, width = parse_resolution(resolution)
    cfg = TrainConfig(
        stage=stage, manifest=str(manifest), output_dir=str(out),
        data_root=str(data_root) if data_root else None, model_dir=str(model_dir) if model_dir else None,
        height=height, width=width, segment_frames=frames, fps=fps, lr=lr, max_steps=steps,
        batch_size=batch_size, grad_accum=grad_accum, ema_decay=ema, relay_prob=relay_prob,
        save_every=save_every, log_every=log_every, seed=seed, mixed_precision=mixed_precision, resume=resume,
        memory={"dtype": dtype, "gradient_checkpointing": gradient_checkpointing, "vae_tiling": vae_tiling},
        **extra,
    )  # fmt: skip
    summary = train(cfg)
    click.echo(json.dumps({k: v for k, v in summary.items() if k != "trainable_names"}))


@appearance.command("train-kinematic")
@_train_options
@click.option(
    "--full-adapter",
    is_flag=True,
    help="Train the whole animate adapter (official scripts), not only the pose embedding.",
)
def train_kinematic(full_adapter, **kw):
    """Stage 1: train only the Body Adapter (pose_patch_embedding); exports OUT/body_adapter.safetensors."""
    _train("kinematic", train_full_adapter=full_adapter, **kw)


@appearance.command("train-aesthetic")
@_train_options
@click.option(
    "--body-adapter", type=click.Path(path_type=Path), required=True, help="Stage-1 result to start from."
)
@click.option("--rank", type=int, default=32, show_default=True, help="LoRA rank (alpha = rank).")
@click.option(
    "--no-pose-in-stage2",
    is_flag=True,
    help="Do not feed pose/face (reproduces the official stage-2 scripts).",
)
def train_aesthetic(body_adapter, rank, no_pose_in_stage2, **kw):
    """Stage 2: LoRA on every DiT block, kinematic path frozen; exports OUT/lora.safetensors."""
    _train(
        "aesthetic",
        body_adapter=str(body_adapter),
        lora_rank=rank,
        pose_in_stage2=not no_pose_in_stage2,
        **kw,
    )


@appearance.command("write-tiny-model")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Initialisation seed.")
def write_tiny_model(directory, seed):
    """Write a tiny random Wan-Animate in diffusers layout (for smoke tests; outputs are noise)."""
    from .tiny import save_tiny_model

    click.echo(str(save_tiny_model(directory, seed)))


@appearance.command("animate")
@click.option("--ref", "reference", type=click.Path(path_type=Path), required=True, help="Reference image.")
@click.option("--pose-video", type=click.Path(path_type=Path), required=True, help="Pose video (any fps).")
@click.option(
    "--face-video", type=click.Path(path_type=Path), default=None, help="Face crops (default: null face)."
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output video (.mp4).")
@with_animation_options
@click.option(
    "--fps", type=float, default=16.0, show_default=True, help="Output fps (the pose video is resampled)."
)
@click.option("--prompt", default=None, help="Prompt (default: '视频中的人在跳舞').")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed.")
@click.option("--device", default=None, help="torch device (default: cuda when available).")
@with_memory_options
def animate(reference, pose_video, face_video, out, model_dir, body_adapter, lora, lora_strength, resolution, steps,
            guidance_scale, overlap, fps, prompt, seed, device, dtype, offload, vae_tiling):  # fmt: skip
    """Animate a reference image along a pose video (pose-driven image animation, paper Table 3)."""
    from ma_data.core.io.video import read_video, write_video

    from .conditioning import DEFAULT_PROMPT, load_reference_image, resample_frames
    from .inference import AppearanceExpert
    from .loading import MemoryOptions

    height, width = parse_resolution(resolution)
    ref = load_reference_image(reference)
    pose, pose_fps = read_video(pose_video)
    pose = resample_frames(pose, pose_fps, fps)
    face = None
    if face_video is not None:
        face, face_fps = read_video(face_video)
        face = resample_frames(face, face_fps, fps, len(pose))
    expert = AppearanceExpert.from_pretrained(
        model_dir, body_adapter, lora, lora_strength, MemoryOptions(dtype=dtype, offload=offload, vae_tiling=vae_tiling), device
    )  # fmt: skip
    result = expert.animate(
        ref, pose, face, prompt=prompt or DEFAULT_PROMPT, height=height, width=width, fps=fps, steps=steps,
        guidance_scale=guidance_scale, seed=seed, overlap=int(overlap),
    )  # fmt: skip
    write_video(out, result.frames, fps=fps)
    click.echo(f"wrote {out} ({len(result.frames)} frames, {len(result.segments)} segment(s))")
