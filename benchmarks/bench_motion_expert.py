"""Motion Expert speed: sampling throughput (optimised vs the literal loop), scans, training step.

    .venv/bin/python benchmarks/bench_motion_expert.py                    # tiny model, CPU
    .venv/bin/python benchmarks/bench_motion_expert.py --preset paper --device cuda

Every figure is measured in the same run as its baseline and printed as a ratio:
- sampling frames/s (DDIM, batch x frames / wall time of a whole ``ddim_sample`` call) at each
  ``--batches`` size, GFT (1 network call per step) and CFG (2): the optimised sampler (step-invariant
  work hoisted, CUDA-graph replay on CUDA, ``--compile`` adds torch.compile) against the unoptimised path
  (``ddim_sample_reference`` with the former default scan: mamba_ssm's kernel on CUDA when it imports,
  else the chunked scan), with the speed-up, the GFT/CFG ratio of each (the paper reports 770 vs 475
  FPS at batch 1 on its GPU, 1.62x) and the largest difference between the two paths' samples;
- one Mamba block forward+backward with each scan implementation, ratio to the sequential recurrence;
- a training step (forward, backward, Adan) with the GFT objective (a graph-free second pass) and the
  CFG objective (one pass), ratio GFT/CFG.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from models.motion_expert.denoiser import MotionDenoiser
from models.motion_expert.diffusion import MotionDiffusion
from models.motion_expert.mamba import Mamba
from models.motion_expert.sampling_step import captured_graphs
from models.motion_expert.selective_scan import cuda_selective_scan
from models.motion_expert.train import PRESETS, make_optimizer

PAPER_GFT_FPS = 770.0  # batch 1, 240 frames, DDIM 50, the paper's GPU


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fns: dict, device: str, repeats: int) -> dict:
    """Best of ``repeats`` wall times per function (seconds), after one warm-up call each.

    The functions are interleaved, so a change in machine load (shared CPUs) hits all of them alike.
    """
    best = dict.fromkeys(fns, float("inf"))
    for fn in fns.values():
        fn()
    sync(device)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync(device)
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def set_scan(model: torch.nn.Module, impl: str) -> None:
    for m in model.modules():
        if isinstance(m, Mamba):
            m.scan_impl = impl


def bench_sampling(model, args, dev: str) -> None:
    """Optimised vs reference sampler at each batch size, GFT and CFG, interleaved."""
    for batch in args.batches:
        bench_sampling_batch(model, batch, args, dev)


def bench_sampling_batch(model, batch: int, args, dev: str) -> None:
    diff = MotionDiffusion(model)
    old_scan = "auto" if dev.startswith("cuda") and cuda_selective_scan() else "chunked"
    paths = ["reference", "optimised"] + (["compiled"] if args.compile else [])
    music = torch.randn(batch, args.frames, 35, device=dev)
    genre = torch.randint(0, 16, (batch,), device=dev)

    def run(path: str, guidance: str, seed: int | None = None):
        gen = torch.Generator(device=dev).manual_seed(seed) if seed is not None else None
        kw = dict(steps=args.ddim_steps, guidance=guidance, generator=gen)
        if path == "reference":
            set_scan(model, old_scan)
            return diff.ddim_sample_reference(music, genre, **kw)
        set_scan(model, "auto")
        return diff.ddim_sample(music, genre, compile=path == "compiled", **kw)

    fns = {(p, g): (lambda p=p, g=g: run(p, g)) for p in paths for g in ("gft", "cfg")}
    t = timed(fns, dev, args.repeats)
    fps = {k: batch * args.frames / v for k, v in t.items()}
    graphs = f", CUDA graphs captured: {captured_graphs(model)}" if dev.startswith("cuda") else ""
    print(f"-- batch {batch} x {args.frames} frames{graphs} --")
    for p in paths:
        line = "  ".join(f"{g.upper()} {fps[p, g]:9.1f} frames/s" for g in ("gft", "cfg"))
        speed = "  ".join(f"{g.upper()} x{fps[p, g] / fps['reference', g]:.2f}" for g in ("gft", "cfg"))
        print(f"{p:10s} {line}   GFT/CFG {fps[p, 'gft'] / fps[p, 'cfg']:.2f}x   vs reference: {speed}")
    for p in paths[1:]:
        diffs = []
        for g in ("gft", "cfg"):
            before = model.n_calls
            sample = run(p, g, seed=0)
            assert model.n_calls - before == args.ddim_steps * (1 if g == "gft" else 2)  # calls counted
            diffs.append((sample - run("reference", g, seed=0)).abs().max().item())
        print(f"{p:10s} max |sample - reference| (same seed): GFT {diffs[0]:.2e}  CFG {diffs[1]:.2e}")
    if batch == 1 and args.frames == 240 and args.ddim_steps == 50 and args.preset == "paper":
        got = fps["optimised", "gft"]
        print(f"target batch-1 GFT >= {PAPER_GFT_FPS:.0f} frames/s: {got:.1f} "
              f"({'met' if got >= PAPER_GFT_FPS else 'NOT met'} on {dev})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="model size (default tiny)")
    ap.add_argument("--device", default="cpu", help="torch device (default cpu)")
    ap.add_argument("--frames", type=int, default=240, help="sequence length (default 240, 8 s)")
    ap.add_argument("--batch", type=int, default=4, help="scan and training batch (default 4)")
    ap.add_argument("--batches", default="1,16", help="sampling batch sizes (default 1,16)")
    ap.add_argument("--ddim-steps", type=int, default=50, help="DDIM steps (default 50, the release)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, best kept (default 3)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
    ap.add_argument("--compile", action="store_true", help="also time the sampler under torch.compile")
    ap.add_argument("--only", choices=("sampling", "scan", "train"), help="run one section")
    args = ap.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("MACE_DANCE_NO_PROGRESS", "1")
    dev, cfg = args.device, PRESETS[args.preset]
    torch.manual_seed(0)
    model = MotionDenoiser(cfg.model).to(dev).eval()
    n_params = sum(p.numel() for p in model.parameters())
    music = torch.randn(args.batch, args.frames, 35, device=dev)
    genre = torch.randint(0, 16, (args.batch,), device=dev)
    print(f"device {dev} ({torch.cuda.get_device_name() if dev.startswith('cuda') else 'cpu'}), "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"preset {args.preset} ({n_params / 1e6:.2f} M params), DDIM {args.ddim_steps} steps, "
          f"mamba_ssm kernel: {'yes' if dev.startswith('cuda') and cuda_selective_scan() else 'no'}")  # fmt: skip

    if args.only in (None, "sampling"):
        print("\n== sampling (optimised vs reference loop) ==")
        bench_sampling(model, args, dev)
    if args.only not in (None, "scan", "train"):
        return

    if args.only in (None, "scan"):
        bench_scans(cfg, args, dev)
    if args.only in (None, "train"):
        bench_training(cfg, args, dev, music, genre)


def bench_scans(cfg, args, dev: str) -> None:
    print("\n== selective scan (one Mamba block, forward + backward) ==")
    block = Mamba(cfg.model.width, d_state=cfg.model.d_state).to(dev)
    x = torch.randn(args.batch, args.frames, cfg.model.width, device=dev)
    impls = ["sequential", "doubling", "chunked", "blocked"] + (
        ["cuda"] if dev.startswith("cuda") and cuda_selective_scan() else []
    )

    def run_block(impl):
        block.scan_impl = impl
        block(x).square().mean().backward()

    times = timed({impl: (lambda impl=impl: run_block(impl)) for impl in impls}, dev, args.repeats)
    for impl in impls:
        print(
            f"{impl:10s} {times[impl] * 1e3:9.2f} ms   speed-up vs sequential {times['sequential'] / times[impl]:.2f}x"
        )


def bench_training(cfg, args, dev: str, music, genre) -> None:
    print("\n== training step (forward, backward, Adan) ==")
    steps = {}
    for objective in ("gft", "cfg"):
        torch.manual_seed(0)
        m = MotionDenoiser(cfg.model).to(dev).train()
        d = MotionDiffusion(m, objective=objective)
        opt = make_optimizer(m.parameters(), cfg)
        x0 = torch.rand(args.batch, args.frames, 151, device=dev) * 2 - 1

        def step(d=d, opt=opt, x0=x0):
            loss, _ = d.training_loss(x0, music, genre)
            opt.zero_grad()
            loss.backward()
            opt.step()

        steps[objective] = step
    step_t = timed(steps, dev, args.repeats)
    for objective in ("gft", "cfg"):
        print(f"{objective.upper()}: {step_t[objective] * 1e3:9.1f} ms/step")
    print(f"GFT / CFG step time: {step_t['gft'] / step_t['cfg']:.2f}x")


if __name__ == "__main__":
    main()
