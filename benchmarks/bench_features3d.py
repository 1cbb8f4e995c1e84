"""Speed of the vectorised 3D dance features against a per-frame loop baseline measured in the same run.

    .venv/bin/python benchmarks/bench_features3d.py [--frames 1200] [--repeat 3]

Prints seconds per clip and the speed-up ratio (loop / vectorised) for the AIST++ kinetic and manual features.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmark.motion.features3d import kinetic_features_aist, manual_features_aist
from ma_data.core.synthetic import synthetic_dance_3d


def _kinetic_loop(p: np.ndarray, dt: float = 1 / 60, w: int = 2) -> np.ndarray:
    """Baseline: the reference's per-joint, per-frame window loops (buggy acceleration included)."""
    T, J, _ = p.shape
    out = []
    for j in range(J):
        kh = kv = ee = 0.0
        for i in range(1, T):
            v, n = np.zeros(3), 0
            a, m = np.zeros(3), 0
            for k in range(i - w, i + w + 1):
                if k - 1 >= 0 and k < T:
                    v += p[k, j] - p[k - 1, j]
                    n += 1
                if k - 1 >= 0 and k + 1 < T:
                    a += ((p[k + 1, j] - p[k, j]) / dt - (p[k, j] - p[k - 1, j] / dt)) / dt
                    m += 1
            v /= n * dt
            kh += v[0] ** 2 + v[2] ** 2
            kv += v[1] ** 2
            ee += np.linalg.norm(a / m)
        out += [kh / (T - 1), kv / (T - 1), ee / (T - 1)]
    return np.array(out, dtype=np.float32)


def _time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    p = synthetic_dance_3d(args.frames, seed=0, dtype=np.float32)
    base = _time(lambda: _kinetic_loop(p), 1)
    fast = _time(lambda: kinetic_features_aist(p), args.repeat)
    print(f"kinetic  loop {base:8.3f} s  vectorised {fast:8.4f} s  ratio {base / fast:8.1f}x")
    err = np.max(
        np.abs(_kinetic_loop(p[:120]) - kinetic_features_aist(p[:120]))
        / (np.abs(_kinetic_loop(p[:120])) + 1e-9)
    )
    print(f"kinetic  max relative difference on 120 frames: {err:.2e}")
    man = _time(lambda: manual_features_aist(p), args.repeat)
    print(f"manual   vectorised {man:8.4f} s per {args.frames}-frame clip")


if __name__ == "__main__":
    main()
