"""Render throughput (frames/s on one core) and whole-build throughput of the MA-Data render subset.

Run: ``.venv/bin/python benchmarks/bench_render.py [--frames 90] [--skip-build]``

Measured in this run:

1. the production renderer (mannequin merged into one CPU-skinned mesh, tessellation by frame size, floor and
   sky rendered once per clip and the body composited over them) against the straightforward design built
   here: one pyrender node per part (25 draw calls), the 10k-triangle mannequin, the floor shaded in every
   frame. Both with Mesa llvmpipe pinned to one thread (``LP_NUM_THREADS=1``), at the demo preset and at
   720x1280. Times are process CPU time, so other load on the machine does not inflate them;
2. a whole serial build (features, render, x264 + AAC, keypoints, motion, pose video) of a short synthetic
   sequence at the demo preset, as frames/s, against the render-only rate (the pipeline's overhead ratio).

It then extrapolates to a paper-scale build (~20k clips, ~3M frames at 720x1280).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LP_NUM_THREADS", "1")  # one rasteriser thread: numbers are per core
os.environ.setdefault("MACE_DANCE_NO_PROGRESS", "1")


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ma_data.render import PRESETS  # noqa: E402
from ma_data.render.renderer import ClipRenderer, _mannequin_parts, offscreen_renderer  # noqa: E402
from ma_data.sample import DEMO_SEQUENCES, SampleSequence, dance_motion  # noqa: E402


def _per_part_baseline(renderer: ClipRenderer, prep) -> float:
    """One pyrender node per part, poses set per frame, floor in the scene (the straightforward design)."""
    import pyrender

    cfg = renderer.config
    r = offscreen_renderer(cfg.width, cfg.height)
    scene = renderer._scene(prep)
    mat = renderer._material()
    nodes = [
        (scene.add(pyrender.Mesh.from_trimesh(p.mesh, material=mat)), p.name) for p in _mannequin_parts()
    ]
    r.render(scene)  # warm-up (shader compile)
    t0 = time.perf_counter()
    for t in range(prep.n_frames):
        for node, name in nodes:
            scene.set_pose(node, prep.transforms[name][t])
        r.render(scene)
    return prep.n_frames / (time.perf_counter() - t0)


def _production(renderer: ClipRenderer, prep) -> float:
    it = renderer.frames(prep)
    next(it)  # warm-up
    t0 = time.process_time()
    n = sum(1 for _ in it)
    return n / (time.process_time() - t0)


def bench_render(n_frames: int) -> dict[str, float]:
    poses, trans, _ = dance_motion(DEMO_SEQUENCES[0])
    out = {}
    for name, cfg in (("demo 180x320", PRESETS["demo"]), ("default 720x1280", PRESETS["default"])):
        r = ClipRenderer(cfg)
        prep = r.prepare(poses[: n_frames + 1], trans[: n_frames + 1])
        base = _per_part_baseline(r, prep)
        prod = _production(r, prep)
        out[name] = prod
        print(f"render {name:18s} production {prod:7.1f} fps/core | per-part baseline {base:7.1f} fps/core "
              f"| ratio {prod / base:4.2f}x")  # fmt: skip
    return out


def bench_build(render_fps: float, preset: str, duration_s: float) -> float:
    from ma_data.build.pipeline import DEMO_CONFIG, build
    from ma_data.manifest import read_manifest
    from ma_data.sample import write_sample

    cfg = {**DEMO_CONFIG, "render": {"preset": preset}}
    with tempfile.TemporaryDirectory() as tmp:
        seq = SampleSequence("001", "Popping", "Street", 120.0, duration_s, 0.9, 110.0)
        fd = write_sample(Path(tmp) / "fd", sequences=(seq,))
        # warm the per-process costs (librosa/numba import, GL context) so the number is steady-state
        warm = write_sample(
            Path(tmp) / "fdw", sequences=(SampleSequence("002", "Jazz", "Modern", 100.0, 6.0, 0.3, 98.0),)
        )
        build(Path(tmp) / "warm", finedance_dir=warm, config=cfg, executor="serial")
        t0 = time.process_time()
        res = build(Path(tmp) / "ds", finedance_dir=fd, config=cfg, executor="serial")
        dt = time.process_time() - t0
        frames = int(read_manifest(res.manifest)["n_frames"].sum())
    fps = frames / dt
    w, h = PRESETS[preset].width, PRESETS[preset].height
    print(f"build  {preset:7s} {w}x{h:<6d} {res.n_ok} clips, {frames} frames in {dt:.1f} CPU s = {fps:.1f} "
          f"frames/s/core | render-only {render_fps:.1f} | pipeline overhead x{render_fps / fps:.2f}")  # fmt: skip
    return fps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    fps = bench_render(args.frames)
    build_fps = None if args.skip_build else bench_build(fps["demo 180x320"], "demo", 20.0)
    hd_build = None if args.skip_build else bench_build(fps["default 720x1280"], "default", 6.0)
    hd = fps["default 720x1280"]
    total = 3_000_000
    print(f"\nextrapolation, ~20k clips = {total / 1e6:.0f}M frames at 720x1280, render only:")
    print(f"  one core: {total / hd / 3600:8.1f} h   ({hd:.1f} fps/core)")
    for cores in (16, 64, 256):
        print(
            f"  Ray, {cores:3d} cores (near-linear: items are independent): {total / hd / 3600 / cores:6.2f} h"
        )
    if build_fps is not None:
        print(f"whole build at the demo preset: {build_fps:.1f} frames/s/core")
    if hd_build is not None:
        print(
            f"whole build (render + 2 x264 encodes + features + files) at 720x1280: {hd_build:.1f} frames/s/core"
        )
        print(
            f"  one core: {total / hd_build / 3600:8.1f} h; 64 Ray CPUs: {total / hd_build / 3600 / 64:.2f} h"
        )


if __name__ == "__main__":
    main()
