"""Fine-tuning loop of the two Appearance-Expert stages (Accelerate, checkpoints + resume, metrics, EMA).

Paper settings (defaults): Adam, lr 1e-5 for stage 1 "kinematic" and 5e-5 for stage 2 "aesthetic", 50k
iterations each, batch 128 (global: ``batch_size x grad_accum x processes``), 81-frame samples (77 controlled
frames + reference slot) at 832x480 or 1280x720. The official scripts differ (stage-2 lr 1e-4, 2 epochs, no pose
in stage 2, whole adapter trained in stage 1); each difference is an option.

Per step and item: the frozen VAE / umT5 / CLIP encoders build the segment conditioning (:mod:`.encoding`),
the clean latents ``x0`` are [reference latent, window latents] (the reference slot is part of the target, as
it is a frame of the generated latent sequence), a noise level is drawn over the shifted schedule and the
transformer is trained on the weighted velocity MSE (:mod:`.flow_matching`). With ``relay_prob > 0`` the
window's first frame is also given as a relay frame (mask 1), training the relay conditioning of long videos.

Checkpoints hold only what changes (trainable tensors, optimizer, EMA, step, RNG), not the 14B base:
``OUT/checkpoints/step-N/``. ``resume="latest"`` continues from the newest one. Metrics go to
``OUT/metrics.jsonl``. The final weights are exported as ``OUT/body_adapter.safetensors`` (stage 1) or
``OUT/lora.safetensors`` (stage 2, diffusers LoRA format), from the EMA when enabled.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ma_data.core.errors import ConfigError, FormatError, check_choice
from ma_data.core.io.torch_files import load_torch_file
from models.ema import EMA

from .conditioning import DEFAULT_PROMPT
from .encoding import Conditioner, SegmentConditioning, transformer_forward
from .flow_matching import FlowMatchingConfig, add_noise, flow_matching_loss, sample_noise_levels
from .loading import MemoryOptions, load_pipeline, resolve_model_dir
from .stages import (
    DEFAULT_LORA_RANK,
    adapter_bypass,
    configure_aesthetic_stage,
    configure_kinematic_stage,
    load_body_adapter,
    save_body_adapter,
    save_lora,
    trainable_parameters,
)

STAGES = ("kinematic", "aesthetic")
DEFAULT_LR = {"kinematic": 1e-5, "aesthetic": 5e-5}


@dataclass
class TrainConfig:
    stage: str
    manifest: str
    output_dir: str
    data_root: str | None = None
    model_dir: str | None = None
    body_adapter: str | None = None  # stage-1 result to start stage 2 from (the official scripts always do)
    height: int = 832
    width: int = 480
    segment_frames: int = 77
    fps: float = 16.0
    lr: float | None = None
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_steps: int = 50_000
    batch_size: int = 1
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    lora_rank: int = DEFAULT_LORA_RANK
    lora_alpha: float | None = None
    train_full_adapter: bool = False
    pose_in_stage2: bool = True
    relay_prob: float = 0.0
    ema_decay: float | None = None
    save_every: int = 500
    log_every: int = 10
    seed: int = 0
    mixed_precision: str = "no"  # no | bf16 (Accelerate autocast)
    num_workers: int = 0
    max_sequence_length: int = 512
    default_prompt: str = DEFAULT_PROMPT
    resume: str | None = None  # None | "latest" | checkpoint directory
    flow: dict = field(default_factory=dict)  # FlowMatchingConfig overrides
    memory: dict = field(default_factory=dict)  # MemoryOptions overrides

    def __post_init__(self) -> None:
        check_choice("stage", self.stage, STAGES)
        if self.height % 16 or self.width % 16:
            raise ConfigError(f"height and width must be multiples of 16, got {self.height}x{self.width}")
        if not 0.0 <= self.relay_prob <= 1.0:
            raise ConfigError("relay_prob must be in [0, 1]")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.stage]


def compute_loss(
    transformer,
    cond: SegmentConditioning,
    x0: torch.Tensor,
    sigma: torch.Tensor,
    weight: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    bypass_adapter: bool = False,
) -> torch.Tensor:
    """The flow-matching loss of ``transformer`` on clean latents ``x0`` (B, C, 1+L, h, w) at ``sigma``."""
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator, dtype=torch.float32).to(x0.device)
    noisy, target = add_noise(x0.float(), noise, sigma.to(x0.device))
    timestep = (sigma * 1000).to(x0.device)
    ctx = adapter_bypass(transformer) if bypass_adapter else contextlib.nullcontext()
    with ctx:
        pred = transformer_forward(transformer, noisy, timestep, cond)
    return flow_matching_loss(pred, target, weight)


def prepare_stage(transformer, cfg: TrainConfig) -> list[str]:
    """Load the stage-1 adapter if given and set which parameters train; returns their names."""
    if cfg.body_adapter:
        load_body_adapter(transformer, cfg.body_adapter)
    if cfg.stage == "kinematic":
        return configure_kinematic_stage(transformer, cfg.train_full_adapter)
    return configure_aesthetic_stage(transformer, cfg.lora_rank, cfg.lora_alpha)


def _rng_state() -> dict:
    """RNG states as tensors, ints and tuples only, so ``optimizer.pt`` loads with ``weights_only=True``."""
    # Legacy global numpy state on purpose: third-party code (augmentations, samplers) draws from it.
    name, key, pos, has_gauss, gauss = np.random.get_state(legacy=True)  # noqa: NPY002
    numpy_state = {
        "bit_generator": str(name),
        "key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }
    return {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    st = state["numpy"]
    if isinstance(st, dict):
        key = np.asarray(st["key"].numpy() if torch.is_tensor(st["key"]) else st["key"], dtype=np.uint32)
        st = (st["bit_generator"], key, st["pos"], st["has_gauss"], st["gauss"])
    np.random.set_state(st)  # noqa: NPY002  (a tuple: the format of checkpoints written before this one)
    torch.set_rng_state(state["torch"])


def _checkpoints(out: Path) -> list[Path]:
    found = [p for p in (out / "checkpoints").glob("step-*") if (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def save_checkpoint(
    out: Path, step: int, model, optimizer, ema: EMA | None, cfg: TrainConfig, scheduler=None
) -> Path:
    from safetensors.torch import save_file

    ckpt = out / "checkpoints" / f"step-{step}"
    tmp = ckpt.with_name(ckpt.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    params = trainable_parameters(model)
    save_file(
        {n: p.detach().cpu().contiguous() for n, p in params.items()}, str(tmp / "trainable.safetensors")
    )
    if ema is not None:
        save_file(
            {n: t.cpu().contiguous() for n, t in ema.state_dict().items()}, str(tmp / "ema.safetensors")
        )
    extra = {"optimizer": optimizer.state_dict(), "rng": _rng_state()}
    if scheduler is not None:
        extra["scheduler"] = scheduler.state_dict()
    torch.save(extra, tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step, "config": asdict(cfg)}, indent=1, default=str))
    if ckpt.exists():
        import shutil

        shutil.rmtree(ckpt)
    tmp.rename(ckpt)  # a checkpoint directory exists only once complete
    return ckpt


def load_checkpoint(ckpt: Path, model, optimizer, ema: EMA | None, scheduler=None) -> int:
    from safetensors.torch import load_file

    state = json.loads((ckpt / "state.json").read_text())
    params = trainable_parameters(model)
    saved = load_file(str(ckpt / "trainable.safetensors"))
    if set(saved) != set(params):
        raise FormatError(f"{ckpt}: trainable tensors do not match this stage/configuration")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(saved[n].to(p.dtype))
    # weights_only: tensors and plain values; numpy arrays are admitted (rebuilt by checked functions) for
    # checkpoints written before the RNG state was stored as tensors.
    extra = load_torch_file(ckpt / "optimizer.pt", allow_numpy=True)
    if not isinstance(extra, dict) or "optimizer" not in extra or "rng" not in extra:
        raise FormatError(
            f"{ckpt / 'optimizer.pt'}: not an optimizer checkpoint (needs 'optimizer' and 'rng')"
        )
    optimizer.load_state_dict(extra["optimizer"])
    if scheduler is not None and "scheduler" in extra:
        scheduler.load_state_dict(extra["scheduler"])
    _set_rng_state(extra["rng"])
    if ema is not None and (ckpt / "ema.safetensors").is_file():
        ema.load_state_dict(load_file(str(ckpt / "ema.safetensors")))
    return int(state["step"])


def _item_batch(conditioner: Conditioner, item, cfg: TrainConfig, rng: random.Random):
    """Conditioning and clean latents of one training window."""
    from PIL import Image

    reference = Image.fromarray(item.reference)
    relay = item.video[:1] if rng.random() < cfg.relay_prob else None
    cond = conditioner.segment(
        reference_image=reference,
        pose_frames=item.pose,
        face_frames=item.face,
        prompt=item.prompt,
        height=cfg.height,
        width=cfg.width,
        prev_frames=relay,
    )
    ref_latent = cond.reference_latents[:, 4:, :1]  # drop the 4 mask channels: the reference slot's target
    x0 = torch.cat([ref_latent, conditioner.video_latents(item.video, cfg.height, cfg.width)], dim=2)
    return cond, x0


def train(cfg: TrainConfig, pipe=None) -> dict:
    """Run (or resume) one stage. ``pipe`` may be given pre-loaded; otherwise it is loaded from the cache."""
    from accelerate import Accelerator
    from torch.utils.data import DataLoader

    from .data import ManifestClips, collate_windows

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    memory = MemoryOptions(**cfg.memory)
    flow = FlowMatchingConfig(**cfg.flow)
    accelerator = Accelerator(gradient_accumulation_steps=cfg.grad_accum, mixed_precision=cfg.mixed_precision)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)  # noqa: NPY002
    torch.manual_seed(cfg.seed)

    if pipe is None:
        pipe = load_pipeline(resolve_model_dir(cfg.model_dir), memory)
    transformer = pipe.transformer
    names = prepare_stage(transformer, cfg)
    if memory.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    transformer.train()
    device = accelerator.device
    for module in (pipe.vae, pipe.text_encoder, pipe.image_encoder):
        module.requires_grad_(False).eval().to(device)
    transformer.to(device)

    dataset = ManifestClips(
        cfg.manifest,
        cfg.data_root,
        n_frames=cfg.segment_frames,
        fps=cfg.fps,
        height=cfg.height,
        width=cfg.width,
        face_size=transformer.config.motion_encoder_size,
        seed=cfg.seed,
        default_prompt=cfg.default_prompt,
    )
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=True,
        num_workers=cfg.num_workers,
        collate_fn=collate_windows,
        drop_last=len(dataset) >= cfg.batch_size,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    params = trainable_parameters(transformer)
    optimizer = torch.optim.AdamW(
        list(params.values()), lr=cfg.learning_rate, weight_decay=cfg.weight_decay, betas=(0.9, 0.999)
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    )
    model, optimizer, loader, scheduler = accelerator.prepare(transformer, optimizer, loader, scheduler)
    ema = EMA(trainable_parameters(model), cfg.ema_decay) if cfg.ema_decay else None

    step = 0
    if cfg.resume:
        ckpt = _checkpoints(out)[-1] if cfg.resume == "latest" and _checkpoints(out) else None
        if cfg.resume != "latest":
            ckpt = Path(cfg.resume)
        if ckpt is not None:
            step = load_checkpoint(ckpt, model, optimizer, ema, scheduler)

    conditioner = Conditioner(pipe, device, cfg.max_sequence_length)
    bypass = cfg.stage == "aesthetic" and not cfg.pose_in_stage2
    rng = random.Random(cfg.seed + step)
    gen = torch.Generator().manual_seed(cfg.seed + step)
    metrics_path = out / "metrics.jsonl"
    n_trainable = sum(p.numel() for p in params.values())
    if accelerator.is_main_process:
        (out / "train_config.json").write_text(json.dumps(asdict(cfg), indent=1, default=str))
    t0 = time.time()
    epoch = step * cfg.grad_accum // max(1, len(loader))
    while step < cfg.max_steps:
        dataset.set_epoch(epoch)
        for batch in loader:
            with accelerator.accumulate(model):
                losses = []
                for item in batch:
                    cond, x0 = _item_batch(conditioner, item, cfg, rng)
                    sigma, weight = sample_noise_levels(flow, 1, gen)
                    with accelerator.autocast():
                        loss = compute_loss(
                            model, cond, x0, sigma, weight, generator=gen, bypass_adapter=bypass
                        )
                    accelerator.backward(loss / len(batch))
                    losses.append(float(loss.detach()))
                if accelerator.sync_gradients and cfg.max_grad_norm:
                    grad_norm = float(accelerator.clip_grad_norm_(list(params.values()), cfg.max_grad_norm))
                else:
                    grad_norm = float("nan")
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            if not accelerator.sync_gradients:
                continue
            step += 1
            if ema is not None:
                ema.update(trainable_parameters(model))
            if accelerator.is_main_process and (step % cfg.log_every == 0 or step == 1):
                rec = {
                    "step": step,
                    "loss": float(np.mean(losses)),
                    "lr": scheduler.get_last_lr()[0],
                    "grad_norm": grad_norm,
                    "sigma": float(sigma.mean()),
                    "elapsed_s": round(time.time() - t0, 3),
                }
                with open(metrics_path, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
            if accelerator.is_main_process and (step % cfg.save_every == 0 or step == cfg.max_steps):
                save_checkpoint(out, step, accelerator.unwrap_model(model), optimizer, ema, cfg, scheduler)
            if step >= cfg.max_steps:
                break
        epoch += 1
        if math.isinf(cfg.max_steps):
            break

    accelerator.wait_for_everyone()
    final = accelerator.unwrap_model(model)
    if ema is not None:
        ema.copy_to(trainable_parameters(final))
    export = None
    if accelerator.is_main_process:
        if cfg.stage == "kinematic":
            export = save_body_adapter(final, out / "body_adapter.safetensors", full=cfg.train_full_adapter)
        else:
            export = save_lora(final, out / "lora.safetensors")
    return {
        "step": step,
        "trainable_parameters": n_trainable,
        "trainable_names": names,
        "export": str(export),
    }


def latest_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    found = _checkpoints(Path(output_dir))
    return found[-1] if found else None
