"""Motion Expert speed: GFT vs CFG sampling throughput, selective-scan implementations, training step.

    .venv/bin/python benchmarks/bench_motion_expert.py                    # tiny model, CPU
    .venv/bin/python benchmarks/bench_motion_expert.py --preset paper --device cuda

Every figure is measured in the same run as its baseline and printed as a ratio:
- sampling frames/s (DDIM, batch x frames / wall time) with GFT (1 network call per step) and CFG (2),
  ratio GFT/CFG (the paper reports 770 vs 475 FPS, 1.62x, on its GPU);
- one Mamba block forward+backward with each scan implementation, ratio to the sequential recurrence;
- a training step (forward, backward, Adan) with the GFT objective (a graph-free second pass) and the
  CFG objective (one pass), ratio GFT/CFG.
"""

from __future__ import annotations

import argparse
import time

import torch

from models.motion_expert.denoiser import MotionDenoiser
from models.motion_expert.diffusion import MotionDiffusion
from models.motion_expert.mamba import Mamba
from models.motion_expert.selective_scan import cuda_selective_scan
from models.motion_expert.train import PRESETS, make_optimizer


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="model size (default tiny)")
    ap.add_argument("--device", default="cpu", help="torch device (default cpu)")
    ap.add_argument("--frames", type=int, default=240, help="sequence length (default 240, 8 s)")
    ap.add_argument("--batch", type=int, default=4, help="sampling and training batch (default 4)")
    ap.add_argument("--ddim-steps", type=int, default=50, help="DDIM steps (default 50, the release)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, best kept (default 3)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev, cfg = args.device, PRESETS[args.preset]
    torch.manual_seed(0)
    model = MotionDenoiser(cfg.model).to(dev).eval()
    n_params = sum(p.numel() for p in model.parameters())
    music = torch.randn(args.batch, args.frames, 35, device=dev)
    genre = torch.randint(0, 16, (args.batch,), device=dev)
    diff = MotionDiffusion(model)
    print(f"device {dev} ({torch.cuda.get_device_name() if dev.startswith('cuda') else 'cpu'}), "
          f"threads {torch.get_num_threads()}, preset {args.preset} ({n_params / 1e6:.2f} M params), "
          f"batch {args.batch} x {args.frames} frames, DDIM {args.ddim_steps} steps, "
          f"mamba_ssm kernel: {'yes' if dev.startswith('cuda') and cuda_selective_scan() else 'no'}")  # fmt: skip

    print("\n== sampling ==")
    before = model.n_calls
    t = timed({g: (lambda g=g: diff.ddim_sample(music, genre, steps=args.ddim_steps, guidance=g))
               for g in ("gft", "cfg")}, dev, args.repeats)  # fmt: skip
    calls_total = model.n_calls - before
    fps = {g: args.batch * args.frames / t[g] for g in t}
    for g in ("gft", "cfg"):
        calls = args.ddim_steps * (1 if g == "gft" else 2)
        print(f"{g.upper()}: {fps[g]:10.1f} frames/s  ({t[g]:.3f} s, {calls} network calls)")
    assert calls_total == (args.repeats + 1) * 3 * args.ddim_steps  # 1 + 2 calls per step, counted
    print(f"GFT / CFG throughput: {fps['gft'] / fps['cfg']:.2f}x  (paper: 770 / 475 = 1.62x)")

    print("\n== selective scan (one Mamba block, forward + backward) ==")
    block = Mamba(cfg.model.width, d_state=cfg.model.d_state).to(dev)
    x = torch.randn(args.batch, args.frames, cfg.model.width, device=dev)
    impls = ["sequential", "doubling", "chunked"] + (
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
