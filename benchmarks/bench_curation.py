"""Curation cost of the internet subset, as ratios to a plain decode of the same video (same run).

Prints, for a synthetic 640x360 30 fps source with cuts: the time of one PyAV decode pass (baseline), of
shot detection, of the static filter's analysis, of the whole ``curate_source`` without and with the person
filter, and each as a multiple of the decode pass. Multiply by your corpus' hours of video to plan a crawl. (The
person-filter row includes loading the pose model once; a worker pays that once, not per source.)

    .venv/bin/python benchmarks/bench_curation.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ma_data.core.io.video import iter_frames, probe_video
from ma_data.crawl.synthetic import make_source_video
from ma_data.curation.curate import curate_source, quiet_av_logs
from ma_data.curation.shots import detect_shots


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the synthetic source")
    args = ap.parse_args()
    quiet_av_logs()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = args.seconds
        segs = [(n * 0.4, "moving"), (n * 0.35, "moving"), (n * 0.25, "moving")]
        src = make_source_video(tmp / "src.mp4", segs, width=640, height=360, seed=1)
        info = probe_video(src)
        base = _timed(lambda: sum(1 for _ in iter_frames(src)))
        shots = _timed(lambda: detect_shots(src, info.n_frames))

        def curate(skip: list[str], out: str):
            payload = {"source_id": out, "key": out, "video": str(src), "out_dir": str(tmp / out), "url": "x"}
            return curate_source({**payload, "config": {"skip": skip}})

        no_person = _timed(lambda: curate(["person"], "a"))
        with_person = _timed(lambda: curate([], "b"))
        print(f"source: {info.duration_s:.1f} s, {info.width}x{info.height} @ {info.fps:g} fps")
        print(f"{'stage':<32}{'seconds':>9}{'x decode':>10}{'x realtime':>12}")
        for name, t in (
            ("decode (baseline)", base),
            ("shot detection (ContentDetector)", shots),
            ("curate, person filter skipped", no_person),
            ("curate, all filters", with_person),
        ):
            print(f"{name:<32}{t:>9.2f}{t / base:>10.2f}{t / info.duration_s:>12.3f}")


if __name__ == "__main__":
    main()
