"""Render throughput (frames/s on one core) of the render paths, and whole-build throughput.

Run: ``.venv/bin/python benchmarks/bench_render.py [--frames 30] [--rounds 3] [--breakdown] [--skip-build]``

Measured in this run, at the demo preset (180x320) and at 720x1280, as process CPU time (so other load on
the machine does not inflate it; with ``LP_NUM_THREADS=1`` Mesa rasterises on one thread), variants
interleaved in rounds of ``--frames`` frames (each chunk's first frame, which pays the per-clip setup, is
not timed):

- ``per-part``: the straightforward design, one pyrender node per part (25 draw calls), the 10k-triangle
  mannequin, the floor shaded in every frame, pyrender's whole-frame readback;
- ``whole-frame``: the renderer before the render paths (``ma_data.render.reference``): the CPU-skinned
  mannequin in one mesh, the floor drawn once and the body composited over it, every pixel every frame;
- ``cpu-composite`` and ``gpu-scene``: the render paths (``ma_data.render.paths``); ``auto`` is the one
  the EGL device selects.

The EGL device this process gets is measured first. When it is a hardware GPU, the script runs itself again
with Mesa's EGL (``__EGL_VENDOR_LIBRARY_FILENAMES``), so CPU figures are printed on every machine and GPU
figures only where EGL reports a GPU. ``--breakdown`` prints where a 720x1280 frame's CPU time goes for
``whole-frame`` and the paths (each stage ends in ``glFinish``, so rasterisation is its own line). A whole
serial build (features, render, x264 + AAC, keypoints, motion, pose video) follows, and the extrapolation
to a paper-scale build (~20k clips, ~3M frames at 720x1280).
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LP_NUM_THREADS", "1")  # one rasteriser thread: numbers are per core
os.environ.setdefault("MACE_DANCE_NO_PROGRESS", "1")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ma_data.render import PRESETS  # noqa: E402
from ma_data.render.gl import offscreen_renderer  # noqa: E402
from ma_data.render.paths import gl_target  # noqa: E402
from ma_data.render.reference import reference_frames  # noqa: E402
from ma_data.render.renderer import ClipRenderer, mannequin_parts  # noqa: E402
from ma_data.sample import DEMO_SEQUENCES, SampleSequence, dance_motion  # noqa: E402

SIZES = (("demo 180x320", "demo"), ("720x1280", "default"))
VARIANTS = ("per-part", "whole-frame", "cpu-composite", "gpu-scene")
MESA_VENDOR_FILES = ("/usr/share/glvnd/egl_vendor.d/50_mesa.json",)


def _per_part_frames(renderer: ClipRenderer, prep):
    """One pyrender node per part, poses set per frame, floor in the scene (the straightforward design)."""
    import pyrender

    cfg = renderer.config
    r = offscreen_renderer(cfg.width, cfg.height)
    scene = renderer.scene(prep)
    mat = renderer.material()
    nodes = [(scene.add(pyrender.Mesh.from_trimesh(p.mesh, material=mat)), p.name) for p in mannequin_parts()]
    for t in range(prep.n_frames):
        for node, name in nodes:
            scene.set_pose(node, prep.transforms[name][t])
        yield r.render(scene)[0]


def _frames(variant: str, preset: str, prep_args):
    if variant == "per-part":
        r = ClipRenderer(PRESETS[preset])
        return _per_part_frames(r, r.prepare(*prep_args))
    if variant == "whole-frame":
        r = ClipRenderer(PRESETS[preset])
        return reference_frames(r, r.prepare(*prep_args))
    r = ClipRenderer(PRESETS[preset].with_(render_path=variant))
    return r.frames(r.prepare(*prep_args))


def _cpu_seconds(frames) -> tuple[float, int]:
    next(frames)  # per-clip setup (backdrop, shader compile on first use) is not timed
    t0 = time.process_time()
    n = sum(1 for _ in frames)
    return time.process_time() - t0, n


def bench_render(n_frames: int, rounds: int) -> dict[str, dict[str, float]]:
    """frames/s/core per size and variant, interleaved over ``rounds`` chunks of ``n_frames`` frames."""
    poses, trans, _ = dance_motion(DEMO_SEQUENCES[0])
    out: dict[str, dict[str, float]] = {}
    for label, preset in SIZES:
        secs = dict.fromkeys(VARIANTS, 0.0)
        count = dict.fromkeys(VARIANTS, 0)
        for k in range(rounds):
            s = (k * n_frames) % max(1, len(poses) - n_frames - 1)
            chunk = (poses[s : s + n_frames + 1], trans[s : s + n_frames + 1])
            for v in VARIANTS:
                dt, n = _cpu_seconds(_frames(v, preset, chunk))
                secs[v] += dt
                count[v] += n
        out[label] = {v: count[v] / secs[v] for v in VARIANTS}
    return out


def breakdown(n_frames: int) -> None:
    """Where a 720x1280 frame's CPU time goes, stage by stage (each stage ends in glFinish)."""
    from OpenGL import GL as gl

    poses, trans, _ = dance_motion(DEMO_SEQUENCES[0])
    args = (poses[: n_frames + 1], trans[: n_frames + 1])
    cfg = PRESETS["default"]
    tg = gl_target(cfg.width, cfg.height)
    R = offscreen_renderer(cfg.width, cfg.height)._renderer
    acc: dict[str, float] = {}

    def timed(obj, name: str, key: str, finish_first: str | None = None) -> None:
        """Shadow ``obj.name`` by a wrapper adding its CPU time to ``acc[key]`` (undone by delattr)."""
        f = getattr(obj, name)

        def g(*a, **kw):
            t0 = time.process_time()
            if finish_first:  # work queued before the call (rasterisation) gets its own line
                gl.glFinish()
                t1 = time.process_time()
                acc[finish_first] = acc.get(finish_first, 0.0) + t1 - t0
                t0 = t1
            res = f(*a, **kw)
            gl.glFinish()
            acc[key] = acc.get(key, 0.0) + time.process_time() - t0
            return res

        setattr(obj, name, g)

    # whole-frame: a new primitive uploaded per frame, pyrender's draw calls, rasterisation, its readback
    # (MSAA resolve, depth read and conversion in numpy, colour read), then the composite in numpy
    timed(R, "_update_context", "upload (a new primitive every frame)")
    timed(R, "_read_main_framebuffer", "readback: resolve, depth + numpy, colour", "rasterise (glFinish)")
    r = ClipRenderer(cfg)
    frames = reference_frames(r, r.prepare(*args))
    next(frames)
    acc.clear()
    total, n = _cpu_seconds(itertools.chain([None], frames))
    for name in ("_update_context", "_read_main_framebuffer"):
        delattr(R, name)
    _print_breakdown("whole-frame", acc, total, n, rest="skinning, draw calls, composite in numpy")

    stages = {
        "begin": "scissor box",
        "clear": "clear box",
        "restore_backdrop": "restore floor samples in box",
        "draw": "draw + rasterise (glFinish)",
        "resolve": "MSAA resolve of box",
        "read": "read box",
    }
    for path in ("cpu-composite", "gpu-scene"):
        for name, key in stages.items():
            timed(tg, name, key)
        r = ClipRenderer(cfg.with_(render_path=path))
        frames = r.frames(r.prepare(*args))
        next(frames)
        acc.clear()
        total, n = _cpu_seconds(itertools.chain([None], frames))
        for name in stages:
            delattr(tg, name)
        _print_breakdown(path, acc, total, n, rest="box, skinning + upload / bones, composite, frame copy")


def _print_breakdown(name: str, acc: dict, total: float, n: int, rest: str = "skinning, composite, rest"):
    print(f"  {name}: {total / n * 1e3:.1f} ms/frame ({n / total:.1f} frames/s/core)")
    for key, v in [*acc.items(), (rest, total - sum(acc.values()))]:
        print(f"    {key:52s} {v / n * 1e3:7.2f} ms {100 * v / total:5.1f}%")


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


def _device() -> tuple[str, bool]:
    tg = gl_target(64, 64)
    return tg.info.renderer, tg.info.software


def _report(fps: dict[str, dict[str, float]], device: str, kind: str) -> None:
    auto = "cpu-composite" if kind == "CPU" else "gpu-scene"
    print(f"\n{kind} figures, EGL device {device!r} (auto path here: {auto}); frames/s per core:")
    print(
        f"  {'size':14s}" + "".join(f"{v:>15s}" for v in VARIANTS) + f"{'auto/whole':>12s}{'auto/part':>11s}"
    )
    for label, row in fps.items():
        ratio = row[auto] / row["whole-frame"]
        print(f"  {label:14s}" + "".join(f"{row[v]:15.1f}" for v in VARIANTS)
              + f"{ratio:11.2f}x{row[auto] / row['per-part']:10.2f}x")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=30, help="frames per variant per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--breakdown", action="store_true", help="per-stage CPU time of a 720x1280 frame")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--json", dest="json_only", action="store_true", help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args()
    device, software = _device()
    fps = bench_render(args.frames, args.rounds)
    if args.json_only:
        print(json.dumps({"device": device, "fps": fps}))
        return
    cpu_fps = fps if software else None
    _report(fps, device, "CPU" if software else "GPU")
    if not software:
        mesa = [f for f in MESA_VENDOR_FILES + tuple(glob.glob("/usr/share/glvnd/egl_vendor.d/*mesa*.json"))
                if os.path.exists(f)]  # fmt: skip
        if mesa:
            env = {**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": mesa[0]}
            cmd = [
                sys.executable,
                __file__,
                "--frames",
                str(args.frames),
                "--rounds",
                str(args.rounds),
                "--json",
            ]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            child = json.loads(out.strip().splitlines()[-1])
            cpu_fps = child["fps"]
            _report(cpu_fps, child["device"], "CPU")
        else:
            print("\nCPU figures: no Mesa EGL vendor file found, not measured")
    else:
        print("\nGPU figures: EGL reports no hardware device here, not measured")
    if args.breakdown:
        print(f"\nwhere a 720x1280 frame's CPU time goes, on {device!r}:")
        breakdown(args.frames)
    hd = fps["720x1280"]["cpu-composite" if software else "gpu-scene"]
    build_fps = None if args.skip_build else bench_build(fps["demo 180x320"]["cpu-composite"], "demo", 20.0)
    hd_build = None if args.skip_build else bench_build(hd, "default", 6.0)
    total = 3_000_000
    print(f"\nextrapolation, ~20k clips = {total / 1e6:.0f}M frames at 720x1280, render only (auto path):")
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
    if cpu_fps is not None and not software:
        print(f"(CPU-only machines: {cpu_fps['720x1280']['cpu-composite']:.1f} fps/core at 720x1280)")


if __name__ == "__main__":
    main()
