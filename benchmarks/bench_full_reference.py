"""Full-reference appearance metrics speed: SSIM, PSNR and LPIPS on the same frames, against baselines.

    .venv/bin/python benchmarks/bench_full_reference.py                   # 205 frames of 180x320, CPU
    .venv/bin/python benchmarks/bench_full_reference.py --frames 64 --height 720 --width 1280

Every figure is measured in the same run as its baseline and printed as a ratio:
- SSIM: ours (``ssim_frames``, chunks of ``--chunk`` frames as the evaluation feeds it) against
  scikit-image's ``structural_similarity`` frame by frame (when installed; the ``bench`` extra) and
  against the former toolkit implementation (float64 depthwise ``torch`` convolutions, kept here),
  with the largest difference of the per-frame values;
- PSNR: ours against the former float64 formula and scikit-image's ``peak_signal_noise_ratio``;
- LPIPS (random AlexNet weights: the speed does not depend on them): frames per forward pass 1 against
  ``--chunk``, on the CPU, and on CUDA when present.
Frames are synthetic (a moving gradient pattern plus noise), so the script needs no data.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.appearance.full_reference import psnr_frames, ssim_frames
from benchmark.appearance.lpips import AlexLpips, LpipsDimension


def best_of(fn, repeats: int) -> float:
    return timed({"fn": fn}, repeats)["fn"]


def timed(fns: dict, repeats: int) -> dict:
    """Best wall time of each function over ``repeats`` interleaved rounds (shared CPUs: load hits all)."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def frames(n: int, h: int, w: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    t = np.arange(n)[:, None, None, None]
    base = 128 + 80 * np.sin((x[None, ..., None] + 3 * t) / 17.0 + np.arange(3)) * np.cos(
        y[None, ..., None] / 23.0
    )
    gt = np.clip(base + rng.normal(0, 10, (n, h, w, 3)), 0, 255).astype(np.uint8)
    pred = np.clip(gt + rng.normal(0, 8, gt.shape), 0, 255).astype(np.uint8)
    return pred, gt


def former_ssim(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The toolkit's SSIM before vectorisation: float64 depthwise torch convolutions ('valid')."""
    p = torch.as_tensor(pred).permute(0, 3, 1, 2).to(torch.float64)
    t = torch.as_tensor(gt).permute(0, 3, 1, 2).to(torch.float64)
    x = torch.arange(11, dtype=torch.float64) - 5
    g = torch.exp(-(x**2) / (2 * 1.5**2))
    g = g / g.sum()

    def filt(v):
        c = v.shape[1]
        v = F.conv2d(v, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
        return F.conv2d(v, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_p, mu_t = filt(p), filt(t)
    var_p, var_t = filt(p * p) - mu_p**2, filt(t * t) - mu_t**2
    cov = filt(p * t) - mu_p * mu_t
    m = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / ((mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2))
    return m.mean(dim=(1, 2, 3)).numpy()


def former_psnr(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    diff = pred.astype(np.float64) - gt.astype(np.float64)
    mse = (diff**2).reshape(len(diff), -1).mean(axis=1)
    return 10 * np.log10(255.0**2 / np.maximum(mse, 1e-12))


def chunked(fn, pred, gt, chunk: int) -> np.ndarray:
    return np.concatenate([fn(pred[i : i + chunk], gt[i : i + chunk]) for i in range(0, len(pred), chunk)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=205, help="frame pairs (default 205)")
    ap.add_argument("--height", type=int, default=180)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--chunk", type=int, default=16, help="frames per update, as --batch-size (default 16)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, best kept (default 3)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--skip-former", action="store_true", help="do not time the slow former SSIM")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pred, gt = frames(args.frames, args.height, args.width, seed=0)
    try:
        from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    except ImportError:
        structural_similarity = peak_signal_noise_ratio = None
    print(f"{args.frames} frame pairs of {args.height}x{args.width}, chunks of {args.chunk}, "
          f"torch threads {args.threads}, scikit-image: {'yes' if structural_similarity else 'no (pip install scikit-image)'}")  # fmt: skip

    print("\n== SSIM ==")
    ours = chunked(ssim_frames, pred, gt, args.chunk)
    t_ours = best_of(lambda: chunked(ssim_frames, pred, gt, args.chunk), args.repeats)
    print(f"ours        {t_ours:8.3f} s   {args.frames / t_ours:8.1f} frames/s")
    if structural_similarity is not None:
        kw = dict(
            channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
        )

        def sk_ssim():
            return np.array([structural_similarity(a, b, **kw) for a, b in zip(pred, gt, strict=True)])

        ref = sk_ssim()
        t_sk = best_of(sk_ssim, args.repeats)
        print(f"skimage     {t_sk:8.3f} s   {args.frames / t_sk:8.1f} frames/s")
        print(f"ours / scikit-image time: {t_ours / t_sk:.2f}x (target <= 1.5x); "
              f"max |ours - skimage| = {np.abs(ours - ref).max():.1e}")  # fmt: skip
    if not args.skip_former:
        old = chunked(former_ssim, pred, gt, args.chunk)
        t_old = best_of(lambda: chunked(former_ssim, pred, gt, args.chunk), 1)
        print(f"former      {t_old:8.3f} s   {args.frames / t_old:8.1f} frames/s   "
              f"former / ours time: {t_old / t_ours:.1f}x; max |ours - former| = {np.abs(ours - old).max():.1e}")  # fmt: skip

    print("\n== PSNR ==")
    times = timed(
        {
            "ours": lambda: chunked(psnr_frames, pred, gt, args.chunk),
            "former": lambda: chunked(former_psnr, pred, gt, args.chunk),
        },
        args.repeats,
    )
    t_ours, t_old = times["ours"], times["former"]
    same = np.array_equal(
        chunked(psnr_frames, pred, gt, args.chunk), chunked(former_psnr, pred, gt, args.chunk)
    )
    print(f"ours {t_ours * 1e3:8.1f} ms   former float64 {t_old * 1e3:8.1f} ms   "
          f"former / ours: {t_old / t_ours:.1f}x   identical values: {same}")  # fmt: skip
    if peak_signal_noise_ratio is not None:
        t_sk = best_of(
            lambda: [peak_signal_noise_ratio(b, a, data_range=255) for a, b in zip(pred, gt, strict=True)],
            args.repeats,
        )
        print(f"skimage {t_sk * 1e3:8.1f} ms   ours / scikit-image time: {t_ours / t_sk:.2f}x")

    print("\n== LPIPS (random AlexNet weights) ==")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    n = min(args.frames, 4 * args.chunk)
    for dev in devices:
        times = {}
        for batch in (1, args.chunk):
            torch.manual_seed(0)
            dim = LpipsDimension(model=AlexLpips().eval(), device=dev, batch_size=batch)

            def run(dim=dim):
                dim.start("bench")
                for i in range(0, n, args.chunk):
                    dim.update(pred[i : i + args.chunk], gt[i : i + args.chunk])
                return dim.finish()

            run()
            times[batch] = best_of(run, args.repeats)
        name = torch.cuda.get_device_name() if dev == "cuda" else "cpu"
        print(f"{dev} ({name}): {n} frames, 1 per pass {n / times[1]:8.1f} frames/s, "
              f"{args.chunk} per pass {n / times[args.chunk]:8.1f} frames/s, ratio {times[1] / times[args.chunk]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
