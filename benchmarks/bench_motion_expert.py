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


def timed(fn, device: str, repeats: int) -> float:
    """Best of ``repeats`` wall times after one warm-up call (seconds)."""
    fn()
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - t0)
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
    fps = {}
    for guidance in ("gft", "cfg"):
        before = model.n_calls
        t = timed(lambda g=guidance: diff.ddim_sample(music, genre, steps=args.ddim_steps, guidance=g), dev,
                  args.repeats)  # fmt: skip
        calls = (model.n_calls - before) // (args.repeats + 1)
        fps[guidance] = args.batch * args.frames / t
        print(f"{guidance.upper()}: {fps[guidance]:10.1f} frames/s  ({t:.3f} s, {calls} network calls)")
    print(f"GFT / CFG throughput: {fps['gft'] / fps['cfg']:.2f}x  (paper: 770 / 475 = 1.62x)")

    print("\n== selective scan (one Mamba block, forward + backward) ==")
    block = Mamba(cfg.model.width, d_state=cfg.model.d_state).to(dev)
    x = torch.randn(args.batch, args.frames, cfg.model.width, device=dev)
    impls = ["sequential", "doubling", "chunked"] + (
        ["cuda"] if dev.startswith("cuda") and cuda_selective_scan() else []
    )
    times = {}
    for impl in impls:
        block.scan_impl = impl
        times[impl] = timed(lambda: block(x).square().mean().backward(), dev, args.repeats)
    for impl in impls:
        print(
            f"{impl:10s} {times[impl] * 1e3:9.2f} ms   speed-up vs sequential {times['sequential'] / times[impl]:.2f}x"
        )

    print("\n== training step (forward, backward, Adan) ==")
    step_t = {}
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

        step_t[objective] = timed(step, dev, args.repeats)
        print(f"{objective.upper()}: {step_t[objective] * 1e3:9.1f} ms/step")
    print(f"GFT / CFG step time: {step_t['gft'] / step_t['cfg']:.2f}x")


if __name__ == "__main__":
    main()
