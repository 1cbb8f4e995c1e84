"""``make demo``: the toolkit's main job end to end, offline, on the bundled synthetic sample.

Videos in, a results report out, a ranked entry on a board. Each step runs the real command in this process
(printed before it runs, so it can be copied) and says how long it took:

1. render a small GT test set (8 clips of 5 s) from the bundled SYNTHETIC FineDance-format sample with the
   render subset's machinery (``ma-data build --demo``), and write its test-set manifest
   (``mace-bench testset create``);
2. train a tiny Motion Expert on the same sample (``mace-dance train-motion --demo``, about a minute);
3. generate a video for the music of every GT clip with the baseline cascade (``mace-dance generate
   --appearance none``: the Motion Expert's dance rendered as a mannequin);
4. score them (``mace-bench evaluate --dims motion,appearance``: 2D motion through the offline MediaPipe
   pose backend, the model-free appearance dimensions and the full-reference metrics; each model-backed
   dimension is reported as skipped with the weight it needs) with an HTML report;
5. print Table 1 with the demo's rows beside the paper's (``mace-bench table``);
6. pack a leaderboard submission and build the board (``mace-bench submission pack``, ``leaderboard build``);
7. write a ``mace-bench reproduce`` config for your own method's videos, and print the paths to open.

Re-running resumes: the build, the training and the keypoint tracks are cached.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: The demo test set: fixed 5-s clips (the paper's test clips are 5 s), about two per sample song.
BUILD_CONFIG = """\
# ma-data build config of the demo's GT test set (written by tools/demo.py)
render: {preset: demo}
slicing: {min_len_s: 5.0, max_len_s: 5.0, min_stride_s: 10.5, max_stride_s: 11.5, max_offset_s: 1.0, seed: 0}
"""
TRAIN_STEPS = 200
GEN_RESOLUTION = "320x176"  # HxW, multiples of 16, close to the GT renders' 320x180
N_BOOT = 200
META = """\
# Submission metadata of the demo's baseline row (written by tools/demo.py)
method: MACE-Dance baseline (demo)
method_version: "tiny Motion Expert, {steps} steps; mannequin render"
generated_by: make demo (mace-dance generate --appearance none)
evaluated_by: make demo (mace-bench evaluate)
paper_url: https://arxiv.org/abs/2512.18181
code_url: null
license: Apache-2.0
sampling: {{seed: 0, motion_steps: 50, beta: 0.75, resolution: [176, 320], fps: 30}}
"""
REPRODUCE = """\
# mace-bench reproduce config (written by tools/demo.py): the demo's baseline on the demo test set.
# Add your method: its generated videos, one <stem>.mp4 per GT clip of {gt}, then run
#   mace-bench reproduce --config {cfg} --out {out}/reproduce --report {out}/reproduce/report
testset:
  manifest: testset/demo-v1.yaml
  gt: testset/demo-v1
methods:
  - name: MACE-Dance baseline (demo)
    videos: generated
#  - name: My method
#    videos: /path/to/my/videos
options:
  appearance_dims: [temporal_flickering, ssim, psnr]
  n_boot: {n_boot}
"""


class Demo:
    def __init__(self, out: Path, n_steps: int) -> None:
        self.out, self.n_steps, self.step_no = out, n_steps, 0
        self.t0 = time.perf_counter()
        self.timings: list[tuple[str, float]] = []

    def step(self, title: str) -> None:
        self.step_no += 1
        print(f"\n=== [{self.step_no}/{self.n_steps}] {title}", flush=True)
        self._t = time.perf_counter()

    def done(self) -> None:
        dt = time.perf_counter() - self._t
        self.timings.append((f"step {self.step_no}", dt))
        print(
            f"--- step {self.step_no} done in {dt:.0f} s (total {time.perf_counter() - self.t0:.0f} s)",
            flush=True,
        )

    def run(self, main: Callable, prog: str, args: list, show: bool = True) -> None:
        """Run one toolkit command in this process, printed first; a failure stops the demo."""
        args = [str(a) for a in args]
        if show:
            print("$ " + " ".join([prog, *(_quote(a) for a in args)]), flush=True)
        try:
            main(args, prog_name=prog, standalone_mode=False)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise SystemExit(f"make demo stopped: `{prog} {args[0]}` failed (exit {exc.code})") from None


def _quote(a: str) -> str:
    return f"'{a}'" if any(c in a for c in " ()<>&;") else a


def _manifest_rows(root: Path) -> list[dict]:
    from ma_data.manifest import read_manifest

    table = read_manifest(root / "manifest.parquet")
    rows = table.to_dict("records") if hasattr(table, "to_dict") else list(table)
    return sorted((r for r in rows if r["status"] == "ok"), key=lambda r: r["clip_id"])


def _first_frame_png(video: Path, png: Path) -> None:
    from PIL import Image

    from ma_data.core.io.video import iter_frames

    Image.fromarray(np.asarray(next(iter(iter_frames(video))))).save(png)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path("demo_out"), help="output folder (default: demo_out)"
    )
    parser.add_argument(
        "--steps", type=int, default=TRAIN_STEPS, help=f"Motion Expert training steps ({TRAIN_STEPS})"
    )
    parser.add_argument(
        "--songs", type=int, default=None, help="use only the first N of the sample's 4 songs (2 clips each)"
    )
    args = parser.parse_args(argv)

    from benchmark.cli import main as mace_bench
    from ma_data.cli import main as ma_data
    from models.cli import main as mace_dance

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    demo = Demo(out, 7)
    print(f"make demo: the main job end to end in {out}/ (offline; every command below can be run by hand)")

    # 1. GT test set
    demo.step("Render a GT test set from the bundled SYNTHETIC FineDance sample, and write its manifest")
    limit = f"sources: {{ids: null, limit: {args.songs}}}\n" if args.songs else ""
    (out / "build_config.yaml").write_text(BUILD_CONFIG + limit)
    build = out / "ma-data"
    demo.run(
        ma_data,
        "ma-data",
        ["build", "--demo", "--subsets", "render", "--config", out / "build_config.yaml", "--out", build],
    )
    rows = _manifest_rows(build)
    gt = out / "testset" / "demo-v1"  # the GT files beside their manifest (testset/demo-v1.yaml)
    if gt.exists():
        shutil.rmtree(gt)
    gt.mkdir(parents=True)
    for r in rows:
        shutil.copyfile(build / r["video_path"], gt / f"{r['clip_id']}.mp4")
    print(f"{len(rows)} GT clips (5 s, 180x320, 30 fps, with their music) copied to {gt}/")
    demo.run(mace_bench, "mace-bench", ["testset", "create", "--gt", gt, "--name", "demo", "--version", "1",
             "--protocol", "mace2d-official", "--protocol", "vbench-appearance",
             "--description", f"make demo: {len(rows)} synthetic 5-s mannequin clips rendered from the bundled sample",
             "--out", out / "testset" / "demo-v1.yaml"])  # fmt: skip
    demo.done()

    # 2. Motion Expert
    demo.step(f"Train a tiny Motion Expert on the same sample ({args.steps} steps, about a minute)")
    ckpt_dir = out / "motion_expert"
    demo.run(
        mace_dance,
        "mace-dance",
        ["train-motion", "--demo", "--preset", "tiny", "--steps", args.steps, "--out", ckpt_dir],
    )
    demo.done()

    # 3. Generated videos
    demo.step(
        f"Generate a video for the music of each of the {len(rows)} GT clips (mace-dance generate --appearance none)"
    )
    gen = out / "generated"
    gen.mkdir(exist_ok=True)
    reference = out / "reference.png"
    _first_frame_png(gt / f"{rows[0]['clip_id']}.mp4", reference)
    for i, r in enumerate(rows, 1):
        stem = r["clip_id"]
        cmd = ["generate", "--music", build / r["audio_path"], "--ref", reference, "--genre", r["genre"],
               "--out", gen / f"{stem}.mp4", "--appearance", "none", "--motion-ckpt", ckpt_dir / "last.pt",
               "--resolution", GEN_RESOLUTION, "--threads", "1"]  # fmt: skip
        print(f"[{i}/{len(rows)}] {stem} ({r['genre']})", flush=True)
        demo.run(mace_dance, "mace-dance", cmd, show=i == 1)
    demo.done()

    # 4. Scoring
    demo.step(
        "Score the generated videos against the GT test set (motion and appearance), with an HTML report"
    )
    results, report = out / "results" / "baseline.json", out / "report"
    results.parent.mkdir(exist_ok=True)
    demo.run(mace_bench, "mace-bench", ["evaluate", "--dims", "motion,appearance", "--pred", gen, "--gt", gt,
             "--n-boot", N_BOOT, "--out", results, "--report", report])  # fmt: skip
    demo.done()

    # 5. Table 1
    demo.step("Table 1 of the paper with the demo's rows beside it")
    testset = out / "testset" / "demo-v1.yaml"
    label = ["--label", "MACE-Dance baseline (demo)", "--with-gt", "--testset", testset]
    demo.run(
        mace_bench,
        "mace-bench",
        ["table", "--table", "table1", "--results", results, *label, "--out", out / "table1.md"],
    )
    demo.run(mace_bench, "mace-bench", ["table", "--table", "table1", "--results", results, *label, "--format", "html",
             "--out", out / "table1.html"], show=False)  # fmt: skip
    demo.done()

    # 6. Leaderboard
    demo.step("Pack a leaderboard submission (validated as the board will) and build the board page")
    (out / "META.yaml").write_text(META.format(steps=args.steps))
    subs = out / "submissions"
    subs.mkdir(exist_ok=True)
    demo.run(mace_bench, "mace-bench", ["submission", "pack", "--results", results, "--meta", out / "META.yaml",
             "--testset", out / "testset" / "demo-v1.yaml", "--out", subs / "baseline.zip"])  # fmt: skip
    demo.run(mace_bench, "mace-bench", ["leaderboard", "build", "--submissions", subs, "--testset",
             out / "testset" / "demo-v1.yaml", "--testset", "ma-data-test-v1", "--out", out / "board"])  # fmt: skip
    demo.done()

    # 7. Next steps
    demo.step("Your turn")
    (out / "reproduce.yaml").write_text(
        REPRODUCE.format(gt=gt, cfg=out / "reproduce.yaml", out=out, n_boot=N_BOOT)
    )
    total = time.perf_counter() - demo.t0
    print(
        f"make demo finished in {total:.0f} s ({', '.join(f'{n} {t:.0f} s' for n, t in demo.timings)}).\n\n"
        "Open:\n"
        f"  report       {report / 'index.html'}   (metrics, per-sample table, beat plots, provenance)\n"
        f"  Table 1      {out / 'table1.html'}   (and {out / 'table1.md'})\n"
        f"  leaderboard  {out / 'board' / 'index.html'}\n"
        f"  videos       {gen}/ (generated), {gt}/ (GT)\n"
        f"  results      {results}\n\n"
        "Score your own method's videos on this test set (one <stem>.mp4 per GT clip), Tables 1-3 with your row:\n"
        f"  edit {out / 'reproduce.yaml'}, then\n"
        f"  mace-bench reproduce --config {out / 'reproduce.yaml'} --out {out}/reproduce --report {out}/reproduce/report"
    )
    demo.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
