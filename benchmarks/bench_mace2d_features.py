"""Speed of the 2D motion features: kinetic + geometric on 2000 clips x 64 frames x 25 joints.

Baseline, measured in the same run on the same array: a minimal numpy pass (frame differences of the (x, y)
channels and their norms). Target: features <= 15x the baseline (the official per-sample/per-frame code is
about 360x). Prints best-of-N wall times and the ratio.

    .venv/bin/python benchmarks/bench_mace2d_features.py [--clips 2000] [--frames 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmark.motion.mace2d import geometric_features, kinetic_features


def make_clips(n: int, t: int, seed: int = 0) -> np.ndarray:
    """Float64 keypoints as the official JSON loads them: smooth motion, 5% missed (all-zero) frames."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 60, (1, 1, 25, 2)) + rng.uniform(200, 800, (n, 1, 1, 2))
    tt = np.arange(t)[None, :, None, None]
    pos = base + rng.uniform(2, 40, (n, 1, 25, 2)) * np.sin(rng.uniform(0.05, 0.5, (n, 1, 25, 2)) * tt)
    kp = np.concatenate([pos, rng.uniform(0.2, 1, (n, t, 25, 1))], axis=-1)
    kp[rng.random((n, t)) < 0.05] = 0.0
    return kp.astype(np.float32).astype(np.float64)


def baseline(kp: np.ndarray) -> np.ndarray:
    d = kp[:, 1:, :, :2] - kp[:, :-1, :, :2]
    return np.sqrt(np.sum(d * d, axis=-1))


def features(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return kinetic_features(kp), geometric_features(kp)


def best_of(fn, arg, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=2000, help="number of clips (default 2000)")
    ap.add_argument("--frames", type=int, default=64, help="frames per clip (default 64)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repetitions, best kept (default 5)")
    args = ap.parse_args()
    kp = make_clips(args.clips, args.frames)
    features(kp[:8])  # warm-up (imports, allocator)
    # Interleave the two measurements so background load hits both alike.
    t_base, t_feat = [], []
    for _ in range(args.repeats):
        t_base.append(best_of(baseline, kp, 1))
        t_feat.append(best_of(features, kp, 1))
    base, feat = min(t_base), min(t_feat)
    kin = best_of(kinetic_features, kp, args.repeats)
    geo = best_of(geometric_features, kp, args.repeats)
    print(f"clips={args.clips} frames={args.frames} joints=25 dtype={kp.dtype}")
    print(f"baseline (frame differences + norms): {base * 1e3:8.1f} ms")
    print(f"kinetic + geometric features:         {feat * 1e3:8.1f} ms")
    print(f"  kinetic alone {kin * 1e3:.1f} ms, geometric alone {geo * 1e3:.1f} ms")
    print(f"ratio features / baseline: {feat / base:.1f}x (target <= 15x; official code ~360x)")


if __name__ == "__main__":
    main()
