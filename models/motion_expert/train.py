"""Training loop for the Motion Expert: presets, Adan + EMA, metrics.jsonl, checkpoints, resume.

Run layout (``RUN/``): ``config.json``, ``normalizer.npz``, ``metrics.jsonl`` (one JSON object per logged
step: ``step``, ``loss`` = mean total loss since the previous log line, the four loss parts, ``lr``,
``elapsed_s``), ``last.pt`` (written every ``save_every`` steps and at the end) and ``step-NNNNNNN.pt``
snapshots every ``snapshot_every`` steps (0 = none), ``features/`` (cached music features).

Resuming (the default when ``RUN/last.pt`` exists) restores the model, EMA, optimiser, normaliser, RNG
states and the run's own configuration; only the total ``steps`` is taken from the new command line.
``metrics.jsonl`` is cut back to the resumed step first, so no step is logged twice.
Single device; the release's multi-GPU Accelerate set-up is not reproduced.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch

from ma_data.core.errors import TrainingError
from ma_data.core.progress import progress_bar
from ma_data.sources.finedance import FINEDANCE_GENRES
from models.ema import EMA

from .checkpoint import read_checkpoint, save_checkpoint
from .data import load_finedance, make_windows
from .denoiser import DenoiserConfig, MotionDenoiser
from .diffusion import MotionDiffusion
from .normalizer import MinMaxNormalizer

log = logging.getLogger(__name__)

MIN_WINDOW = 8  # frames; shorter clips are too short to learn motion from


@dataclass
class TrainConfig:
    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    window: int = 240  # frames per training clip (8 s at 30 fps, the paper)
    stride: int = 30  # frames between window starts (1 s)
    batch_size: int = 128
    lr: float = 4e-4
    weight_decay: float = 0.02
    adan_betas: tuple[float, float, float] = (0.98, 0.92, 0.99)  # = lucidrains' (0.02, 0.08, 0.01)
    ema_decay: float = 0.9999
    objective: str = "gft"
    gft_uncond_beta: str = "same"
    cfg_drop_prob: float = 0.1
    fk_space: str = "normalized"
    grad_clip: float = 0.0  # 0 = off (the release does not clip)
    steps: int = 100_000
    log_every: int = 50
    save_every: int = 1000
    snapshot_every: int = 10_000
    split: str = "train"
    seed: int = 42
    threads: int = 0  # torch intra-op threads; 0 = torch's default

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known and k != "model"}
        if "adan_betas" in kw:
            kw["adan_betas"] = tuple(kw["adan_betas"])
        return cls(model=DenoiserConfig(**d.get("model", {})), **kw)


PRESETS: dict[str, TrainConfig] = {
    # The release: width 512, 8 heads, 8 dance + 2 music layers, batch 128, Adan 4e-4, EMA 0.9999.
    "paper": TrainConfig(),
    # A CPU-sized model with the same structure for development, tests and the demo: 300 steps by default
    # (about a minute on two CPU cores; the loss is still falling, the dances are crude but move to the beat).
    "tiny": TrainConfig(
        steps=300,
        model=DenoiserConfig(width=64, ff_size=128, num_heads=4, dance_layers=2, music_layers=1, d_state=8),
        window=60,
        stride=10,
        batch_size=8,
        lr=2e-3,
        weight_decay=0.0,
        ema_decay=0.99,
        log_every=10,
        save_every=100,
        snapshot_every=0,
        # Tiny tensors gain nothing from intra-op threads, and on a busy machine OpenMP threads
        # that oversubscribe the cores slow each step down tenfold.
        threads=1,
    ),
}


def save_training_checkpoint(
    path: Path,
    cfg: TrainConfig,
    model: MotionDenoiser,
    ema: EMA,
    optimizer: torch.optim.Optimizer,
    normalizer: MinMaxNormalizer,
    step: int,
    genres: list[str],
    rng: dict[str, torch.Tensor],
    **extra,
) -> None:
    """Write everything a run resumes from (``last.pt``, snapshots): configs, model, EMA and optimiser states,
    normaliser, step, genre vocabulary and RNG states (``rng``: ``torch`` global and ``data`` generator)."""
    save_checkpoint(
        path,
        config=cfg.model.to_dict(),
        train_config=cfg.to_dict(),
        model_state_dict=model.state_dict(),
        ema_state_dict=ema.state_dict(),
        optimizer_state_dict=optimizer.state_dict(),
        normalizer=normalizer.state_dict(),
        step=step,
        genres=list(genres),
        rng=rng,
        **extra,
    )


def _duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``11.3 h``: an estimate's precision."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def truncate_metrics(path: Path, step: int) -> None:
    """Keep only the ``metrics.jsonl`` lines of steps <= ``step`` (atomically; a torn last line is dropped).

    A resumed run restarts from its last checkpoint, so lines an interrupted run logged after it would
    otherwise appear twice; a fresh run (``step`` 0) starts an empty log.
    """
    from ma_data.core.io.atomic import atomic_write

    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("step"), int) and rec["step"] <= step:
            keep.append(line + "\n")
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.writelines(keep)


def make_optimizer(params, cfg: TrainConfig):
    from pytorch_optimizer import Adan

    # weight_decouple=False is Adan's proximal decay, p / (1 + lr * wd), as in lucidrains' version.
    return Adan(params, lr=cfg.lr, betas=cfg.adan_betas, weight_decay=cfg.weight_decay, weight_decouple=False)


def _prepare_data(
    finedance: Path, run: Path, cfg: TrainConfig, normalizer: MinMaxNormalizer | None, genres=None
):
    def bar(it):
        return progress_bar(it, desc="loading FineDance", unit="seq")

    seqs, failed, genres = load_finedance(finedance, cfg.split, run / "features", progress=bar, genres=genres)
    if not seqs:
        first = next(iter(failed.items()))
        raise_msg = f"{finedance}: no usable sequence ({len(failed)} failed; first: {first[0]}: {first[1]})"
        from ma_data.core.errors import FormatError

        raise FormatError(raise_msg)
    window, longest = cfg.window, max(len(s.motion) for s in seqs)
    if longest < cfg.window and longest >= MIN_WINDOW:
        # Every sequence is shorter than a window (short clips): train on the longest length all share.
        shortest = min(len(s.motion) for s in seqs)
        window = max(shortest, MIN_WINDOW)
        log.warning("no sequence reaches %d frames; training on %d-frame windows", cfg.window, window)
    windows = make_windows(seqs, window, cfg.stride)
    if windows.short:
        log.warning(
            "skipped %d sequence(s) shorter than %d frames: %s",
            len(windows.short),
            window,
            ", ".join(windows.short),
        )
    if normalizer is None:
        normalizer = MinMaxNormalizer.fit(windows.motion)
    windows.motion = normalizer.normalize(windows.motion).astype(np.float32)
    info = {"sequences": len(seqs), "failed": failed, "windows": len(windows), "short": windows.short}
    return windows, normalizer, genres, info


def train(
    finedance: Path,
    run: Path,
    cfg: TrainConfig,
    resume: bool = True,
    device: str = "cpu",
    echo=print,
) -> dict:
    """Train (or resume) a Motion Expert run; returns a summary dict."""
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    last = run / "last.pt"
    ckpt = read_checkpoint(last) if resume and last.is_file() else None
    normalizer = genres = None
    if ckpt is not None:
        cfg = replace(TrainConfig.from_dict(ckpt["train_config"]), steps=cfg.steps)
        normalizer = MinMaxNormalizer.from_state_dict(ckpt["normalizer"])
        genres = tuple(ckpt.get("genres", FINEDANCE_GENRES))
        echo(f"resuming {last} at step {ckpt['step']}")

    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    windows, normalizer, genres, info = _prepare_data(Path(finedance), run, cfg, normalizer, genres)
    if windows.window != cfg.window:
        cfg = replace(cfg, window=windows.window)
    if cfg.model.n_genres != len(genres):
        cfg = replace(cfg, model=replace(cfg.model, n_genres=len(genres)))
        echo(f"genre vocabulary: {len(genres)} (the 16 FineDance genres + {', '.join(genres[16:])})")
    echo(
        f"{info['sequences']} sequences ({len(info['failed'])} failed), {info['windows']} windows of "
        f"{cfg.window} frames (stride {cfg.stride})"
    )
    normalizer.save(run / "normalizer.npz")
    (run / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    model = MotionDenoiser(cfg.model).to(device)
    ema = EMA(model, cfg.ema_decay)
    opt = make_optimizer(model.parameters(), cfg)
    step = 0
    gen = torch.Generator().manual_seed(cfg.seed)
    if ckpt is not None:
        model.load_state_dict(ckpt["model_state_dict"])
        ema.load_state_dict(ckpt["ema_state_dict"])
        opt.load_state_dict(ckpt["optimizer_state_dict"])
        step = int(ckpt["step"])
        if "rng" in ckpt:
            torch.set_rng_state(ckpt["rng"]["torch"])
            gen.set_state(ckpt["rng"]["data"])
    diffusion = MotionDiffusion(
        model,
        objective=cfg.objective,
        gft_uncond_beta=cfg.gft_uncond_beta,
        cfg_drop_prob=cfg.cfg_drop_prob,
        fk_space=cfg.fk_space,
        normalizer=normalizer,
    )

    def save(path: Path) -> None:
        rng = {"torch": torch.get_rng_state(), "data": gen.get_state()}
        save_training_checkpoint(path, cfg, model, ema, opt, normalizer, step, genres, rng)

    n = len(windows)
    bs = min(cfg.batch_size, n)
    order, pos = torch.randperm(n, generator=gen), 0
    # Lines past the restored step were logged by the interrupted run and will be logged again.
    truncate_metrics(run / "metrics.jsonl", step)
    metrics = (run / "metrics.jsonl").open("a")
    bar = progress_bar(total=cfg.steps, initial=step, desc="train-motion", unit="step")
    acc, acc_parts, acc_n = 0.0, {}, 0
    t0 = time.perf_counter()
    start_step, eta_told = step, False
    model.train()
    if step < cfg.steps:
        echo(f"training steps {step + 1}-{cfg.steps} on {device}")
    while step < cfg.steps:
        if pos + bs > n:  # drop_last, reshuffle each epoch
            order, pos = torch.randperm(n, generator=gen), 0
        x0, music, genre = (
            torch.from_numpy(a).to(device) for a in windows.batch(order[pos : pos + bs].numpy())
        )
        pos += bs
        loss, parts = diffusion.training_loss(x0, music, genre)
        if not torch.isfinite(loss):
            raise TrainingError(f"loss became {loss.item()} at step {step + 1}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        ema.update(model)
        step += 1
        acc += loss.item()
        for k, v in parts.items():
            acc_parts[k] = acc_parts.get(k, 0.0) + v.item()
        acc_n += 1
        bar.update(1)
        if not eta_told and (step - start_step == 10 or step == cfg.steps):
            eta_told = True  # measured, not guessed: the first steps' rate on this machine
            rate = (time.perf_counter() - t0) / (step - start_step)
            echo(
                f"{rate:.2f} s/step here: the remaining {cfg.steps - step} steps take about "
                f"{_duration(rate * (cfg.steps - step))} (checkpoint every {cfg.save_every} steps; Ctrl-C and "
                "re-run to resume)"
            )
        if step == 1 or step % cfg.log_every == 0 or step == cfg.steps:
            rec = {"step": step, "loss": acc / acc_n, **{k: v / acc_n for k, v in acc_parts.items()}}
            rec.update(lr=cfg.lr, elapsed_s=round(time.perf_counter() - t0, 3))
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()
            bar.set_postfix(loss=f"{rec['loss']:.4f}")
            acc, acc_parts, acc_n = 0.0, {}, 0
        if cfg.snapshot_every and step % cfg.snapshot_every == 0:
            save(run / f"step-{step:07d}.pt")
        if step % cfg.save_every == 0 and step != cfg.steps:
            save(last)
    bar.close()
    metrics.close()
    save(last)
    return {"step": step, "elapsed_s": time.perf_counter() - t0, **info}
