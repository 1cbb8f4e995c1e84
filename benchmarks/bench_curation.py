"""Curation cost of the internet subset, as multiples of a plain decode of the same video (same run).

For a synthetic 640x360 30 fps source with three shots (8, 7 and 5 s of moving shapes, no person, so every
filter runs on every shot and the person filter drops them all), prints in process CPU time (all threads;
the machine's other load does not count):

- a plain decode of every frame to RGB (``ma_data.core.io.video.iter_frames``): the baseline;
- each stage of ``curate_source`` alone: shot detection (PySceneDetect's ContentDetector, its own decode),
  the shared analysis decode (every frame decoded, only the sampled ones converted), the static filter's
  optical flow on its sampled pairs, the person filter (people counter + pose model) on its sampled frames,
  and the dedupe signature;
- ``curate_source`` with every filter, end to end (no shot survives, so no clip is written), and with the
  person filter skipped (the three shots' clips are written: x264 encoding, which is output, not a filter).

Models are loaded before timing (a worker loads them once, not per source); the load is printed apart.
Median of ``--repeats`` runs per row. Multiply "x realtime" by your corpus' hours to plan a crawl.

    .venv/bin/python benchmarks/bench_curation.py [--seconds 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ma_data.core.io.video import iter_frames, probe_video  # noqa: E402
from ma_data.crawl.synthetic import make_source_video  # noqa: E402
from ma_data.curation.curate import CurationConfig, analysis_plan, curate_source, quiet_av_logs  # noqa: E402
from ma_data.curation.decode import iter_selected_frames  # noqa: E402
from ma_data.curation.dedupe import clip_signature  # noqa: E402
from ma_data.curation.person import person_check  # noqa: E402
from ma_data.curation.shots import detect_shots  # noqa: E402
from ma_data.curation.static import STEP_S, flow_speed, to_analysis_gray  # noqa: E402


def _cpu(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the synthetic source")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    quiet_av_logs()
    cfg = CurationConfig()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = args.seconds
        src = make_source_video(tmp / "src.mp4", [(n * 0.4, "moving"), (n * 0.35, "moving"), (n * 0.25, "moving")],
                                width=640, height=360, seed=1)  # fmt: skip
        info = probe_video(src)
        fps = info.fps
        shots = detect_shots(src, info.n_frames)
        step = max(1, round(STEP_S * fps))
        plan_pairs, plan_people = analysis_plan(shots, fps, cfg)  # what curate_source samples
        pairs = [p for ps in plan_pairs.values() for p in ps]
        people = list(plan_people.values())
        flow_idx = sorted({i for p in pairs for i in p})
        person_idx = sorted({i for p in people for i in p})
        frames = dict(iter_selected_frames(src, set(flow_idx) | set(person_idx)))
        gray = {i: to_analysis_gray(frames[i]) for i in flow_idx}

        t = time.process_time()
        person_check([frames[i] for i in people[0]][:2])  # loads the pose model and the people counter
        load = time.process_time() - t

        def curate(skip: list[str], out: str):
            payload = {"source_id": out, "key": out, "video": str(src), "out_dir": str(tmp / out), "url": "x"}
            return curate_source({**payload, "config": {**cfg.to_dict(), "skip": skip}})

        rows = [
            ("decode, every frame to RGB (baseline)", lambda: sum(1 for _ in iter_frames(src))),
            ("shot detection (ContentDetector)", lambda: detect_shots(src, info.n_frames)),
            ("analysis decode (sampled frames to RGB)",
             lambda: sum(1 for _ in iter_selected_frames(src, set(flow_idx) | set(person_idx)))),
            (f"static filter ({len(pairs)} flow pairs)",
             lambda: flow_speed([(gray[a], gray[b]) for a, b in pairs], step / fps)),
            (f"person filter ({len(person_idx)} frames)", lambda: [person_check([frames[i] for i in p]) for p in people]),
            ("dedupe signature (5 frames a clip)", lambda: [clip_signature([frames[i] for i in p][:5]) for p in people]),
            ("curate_source, all filters", lambda: curate([], "all")),
            ("curate_source, person skipped (writes clips)", lambda: curate(["person"], "np")),
        ]  # fmt: skip
        base = _cpu(rows[0][1], args.repeats)
        print(f"source: {info.duration_s:.1f} s, {info.width}x{info.height} @ {fps:g} fps, shots "
              f"{[round(s.n_frames / fps, 1) for s in shots]} s; person filter {cfg.person_samples_per_s}/s "
              f"({cfg.person_min_samples}-{cfg.person_samples} a shot), flow {cfg.flow_pairs_per_s} pairs/s")  # fmt: skip
        print(f"{'stage (process CPU time, median of ' + str(args.repeats) + ')':<48}{'seconds':>9}{'x decode':>10}"
              f"{'x realtime':>12}")  # fmt: skip
        for name, fn in rows:
            t = base if fn is rows[0][1] else _cpu(fn, args.repeats)
            print(f"{name:<48}{t:>9.2f}{t / base:>10.2f}{t / info.duration_s:>12.3f}")
        print(f"(pose model + people counter load, once per worker: {load:.2f} s)")


if __name__ == "__main__":
    main()
