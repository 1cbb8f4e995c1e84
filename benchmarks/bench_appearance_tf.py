"""Temporal flickering: our streaming scorer against VBench's hold-every-frame loop, measured in the same run.

    .venv/bin/python benchmarks/bench_appearance_tf.py [--frames 120] [--size 512] [--repeat 3]

Writes one H.264 clip to a temporary folder, scores it both ways, checks the values are identical and prints
seconds per video, the speed ratio (baseline / ours) and the peak number of frames each holds in memory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmark.appearance.temporal_flickering import temporal_flickering_video
from ma_data.core.io.video import write_video


def _baseline(path: Path) -> float:
    """VBench's algorithm as documented: list every BGR frame, then float32 per-pair means."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while cap.isOpened():
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    maes = [
        np.mean(cv2.absdiff(np.array(a, dtype=np.float32), np.array(b, dtype=np.float32)))
        for a, b in zip(frames[:-1], frames[1:], strict=True)
    ]
    return (255.0 - np.mean(np.array(maes)).item()) / 255.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    frames = (np.roll(base, 3 * i, axis=1) for i in range(args.frames))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        write_video(path, frames, fps=16)
        t_ours, t_base = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ours = temporal_flickering_video(path)
            t1 = time.perf_counter()
            ref = _baseline(path)
            t2 = time.perf_counter()
            t_ours.append(t1 - t0)
            t_base.append(t2 - t1)
        assert ours == ref, (ours, ref)
    o, b = min(t_ours), min(t_base)
    print(f"frames={args.frames} size={args.size}  TF={ours:.10f} (identical to baseline)")
    print(f"ours     {o:.3f} s/video  peak frames held: 2")
    print(f"baseline {b:.3f} s/video  peak frames held: {args.frames}")
    print(f"ratio baseline/ours: {b / o:.2f}x")


if __name__ == "__main__":
    main()
