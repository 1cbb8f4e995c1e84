"""``mace-bench reproduce``: score every method of a config on a test set and print the paper's Tables 1-3
with the methods' rows beside the paper's (Markdown, LaTeX and an HTML page).

For each method (:mod:`benchmark.reproduce_config`) and each dimension it has inputs for, the evaluation
goes through the runner (:mod:`benchmark.runner`): 2D motion (from its keypoints, or from its videos through
the pose backend), appearance (the VBench dimensions and, against the GT videos, Table 3's full-reference
metrics) and 3D motion when the config gives 3D motions. The GT videos' own appearance is scored once for the
Ground Truth row. Results are the normal ``mace-bench evaluate`` files, one per dimension, under
``OUT/<method>/<dimension>.json``.

**Cache.** Before scoring, each dimension's inputs are listed (``collect_*``) and digested with the protocol
and the settings (:func:`benchmark.runner.cache_key`: the sha256 of every file scored). The key is kept in
``OUT/<method>/cache.json`` with the sha256 of the results file it produced; a re-run whose key and results
file are unchanged reuses it, so adding a method to the config scores only that method.

**Test set.** The GT folder is checked against the test-set manifest (every file's sha256) before any work,
so the numbers belong to the named test set; the tables' captions name it, with the protocols and the toolkit
version. Rows scored on another test set than the paper's are shown but never bold.

Nothing here prints: ``log`` receives status lines; the command (:mod:`benchmark.cli_reproduce`) prints.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmark import runner
from benchmark.inputs import PairedInputs, list_by_stem
from benchmark.leaderboard.testset import TestSet, load_testset, params_sha256
from benchmark.paper_tables import (
    Caption,
    PaperTable,
    Row,
    caption_for,
    load_table,
    on_testset,
    rows_from_results,
)
from benchmark.protocol_base import Protocol
from benchmark.protocols import get_protocol
from benchmark.reproduce_config import MethodSpec, ReproduceConfig
from benchmark.results import read_results, toolkit_version, write_results
from ma_data.core.errors import ConfigError, MaceError
from ma_data.core.io.atomic import atomic_write, sha256_file

__all__ = ["DIMENSIONS", "MethodRun", "Outcome", "check_gt", "run_reproduce"]

Log = Callable[[str], None] | None

#: The dimensions reproduce scores per method, in order: results file ``OUT/<method>/<dimension>.json``.
DIMENSIONS = ("motion", "appearance", "motion3d")
CACHE_FILE = "cache.json"
CACHE_SCHEMA = "mace-dance/reproduce-cache"
#: Where the GT videos' appearance (the Ground Truth row) is kept; no method slug starts with "_".
GT_FOLDER = "_ground-truth"
TABLES = ("table1", "table2", "table3")
_EMPTY = {
    "table1": "No rows of yours: give methods[].videos or methods[].keypoints.",
    "table2": "No rows of yours: give methods[].motion3d and the GT motions (testset.motion3d) for Table 2.",
    "table3": "No rows of yours: Table 3 needs methods[].videos and its full-reference weights (FVD, LPIPS) "
    "or ssim/psnr in options.appearance_dims.",
}


@dataclass
class MethodRun:
    """One method's results files by dimension, which were scored in this run and which came from the cache,
    and why a dimension was not scored."""

    spec: MethodSpec
    folder: Path
    results: dict[str, Path] = field(default_factory=dict)
    scored: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pages: dict[str, Path] = field(default_factory=dict)
    motion_source: str | None = None

    def docs(self, *dims: str) -> list[dict[str, Any]]:
        return [read_results(self.results[d]) for d in dims if d in self.results]


@dataclass
class Outcome:
    testset: TestSet
    methods: list[MethodRun]
    gt: MethodRun | None
    tables: list[tuple[PaperTable, list[Row], Caption | None]]
    files: dict[str, Path]
    warnings: list[str] = field(default_factory=list)


def _say(log: Log, line: str) -> None:
    if log is not None:
        log(line)


# ------------------------------------------------------------------------------------------ test set


def _gt_folders(cfg: ReproduceConfig, ts: TestSet) -> dict[str, Path | None]:
    gt = cfg.testset.gt or ts.default_gt_dir()
    if gt is None:
        raise ConfigError(
            f"{cfg.path}: testset: give 'gt' (the folder of GT videos of {ts.label}; only the bundled sample "
            "set ships its GT files beside its manifest)"
        )
    if not Path(gt).is_dir():
        raise ConfigError(f"{cfg.path}: testset.gt {gt}: not a folder")
    return {"video": Path(gt), "keypoints": cfg.testset.gt_keypoints or Path(gt), "audio": cfg.testset.audio}


def check_gt(ts: TestSet, folders: dict[str, Path | None]) -> list[str]:
    """Check the GT folders against the test-set manifest: every file it lists, by sha256. Raises a one-line
    :class:`MaceError` for a missing or different file; returns warnings (hashes not published)."""
    if not ts.hashes_published:
        return [f"test set {ts.label} has no published hashes: the GT files could not be checked against it"]
    for stem, entry in sorted(ts.stems.items()):
        for role, gt_file in entry.files.items():
            folder = folders.get(role) or folders["video"]
            path = Path(folder) / gt_file.file
            if not path.is_file():
                raise MaceError(f"{path}: GT {role} of test set {ts.label} (stem {stem}) is missing")
            if sha256_file(path) != gt_file.sha256:
                raise MaceError(
                    f"{path}: GT {role} differs from test set {ts.label} (sha256 {sha256_file(path)[:16]}…, "
                    f"the manifest says {gt_file.sha256[:16]}…): these are not the test set's files"
                )
    return []


def _check_protocol(ts: TestSet, name: str, warnings: list[str]) -> None:
    proto = get_protocol(name)
    ref = ts.protocol(proto.name)
    if ref is None:
        warnings.append(f"test set {ts.label} is not published for protocol {proto.name}")
    elif ref.version != proto.version or ref.params_sha256 != params_sha256(proto.params):
        raise MaceError(
            f"{ts.path}: protocol {proto.name} v{ref.version} is pinned with other parameters than this "
            f"toolkit's v{proto.version}: numbers would not belong to the test set"
        )


# ------------------------------------------------------------------------------------------ cache


def _read_cache(folder: Path) -> dict[str, Any]:
    try:
        doc = json.loads((folder / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc.get("dims", {}) if isinstance(doc, dict) and doc.get("schema") == CACHE_SCHEMA else {}


def _write_cache(folder: Path, dims: dict[str, Any]) -> None:
    with atomic_write(folder / CACHE_FILE, "w", encoding="utf-8") as fh:
        json.dump({"schema": CACHE_SCHEMA, "dims": dims}, fh, indent=1, sort_keys=True)
        fh.write("\n")


def _cached(folder: Path, dim: str, key: str) -> Path | None:
    entry = _read_cache(folder).get(dim)
    path = folder / f"{dim}.json"
    if not isinstance(entry, dict) or entry.get("key") != key or not path.is_file():
        return None
    return path if sha256_file(path) == entry.get("results_sha256") else None


def _store(folder: Path, dim: str, key: str, results: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = write_results(folder / f"{dim}.json", results)
    dims = _read_cache(folder)
    dims[dim] = {"key": key, "results": path.name, "results_sha256": sha256_file(path)}
    _write_cache(folder, dims)
    return path


# ------------------------------------------------------------------------------------------ scoring


@dataclass
class _Context:
    cfg: ReproduceConfig
    gt: dict[str, Path | None]
    argv: list[str]
    rescore: bool
    report: bool
    progress: bool
    log: Log
    dims: list[str]  # appearance dimensions requested
    runnable: list[str]  # ... of which these can run here


def _score(
    ctx: _Context,
    run: MethodRun,
    dim: str,
    what: str,
    inputs: PairedInputs,
    proto: Protocol,
    evaluate: Callable[..., Any],
    n_boot: int,
    **settings: Any,
) -> None:
    """Reuse the cached results of ``dim`` when its key (:func:`runner.cache_key` of ``inputs``, ``proto``,
    ``settings``, the bootstrap and the toolkit version) matches, else run ``evaluate`` (a runner function
    given everything but the bootstrap and progress) and store the results under that key."""
    seed = ctx.cfg.options.seed
    key = runner.cache_key(
        inputs.block(), proto, **settings, n_boot=n_boot, seed=seed, toolkit=toolkit_version()
    )
    cached = None if ctx.rescore else _cached(run.folder, dim, key)
    if cached is not None:
        run.results[dim] = cached
        run.cached.append(dim)
        _say(ctx.log, f"{run.spec.name}: {what}: inputs unchanged, results from {cached}")
        return
    _say(ctx.log, f"{run.spec.name}: scoring {what}")
    evaluation = evaluate(n_boot=n_boot, seed=seed, progress=ctx.progress)
    results = evaluation.results(argv=ctx.argv)
    run.results[dim] = _store(run.folder, dim, key, results)
    run.scored.append(dim)
    if ctx.report:
        from benchmark.html_report import write_report

        run.pages[dim] = write_report(
            run.folder, results, evaluation, name=f"{dim}.html", title=f"{run.spec.name}: {dim}"
        )


def _motion2d(ctx: _Context, run: MethodRun) -> None:
    opts, spec = ctx.cfg.options, run.spec
    if spec.keypoints is None and spec.videos is None:
        return
    proto = get_protocol(opts.protocol, kind="motion2d")
    if spec.keypoints is not None:
        paired = runner.collect_motion2d(
            proto,
            pred_keypoints=spec.keypoints,
            gt_keypoints=ctx.gt["keypoints"],
            audio=ctx.gt["audio"] or ctx.gt["video"],
        )
        run.motion_source, settings = "keypoints", {"source": "keypoints"}
    else:
        paired = runner.collect_motion2d(
            proto, pred_videos=spec.videos, gt_videos=ctx.gt["video"], audio=ctx.gt["audio"]
        )
        run.motion_source = f"videos, {opts.pose}"
        settings = {"source": "videos", "pose": opts.pose, "detector": opts.detector}
    evaluate = partial(
        runner.evaluate_motion2d, proto, inputs=paired, pose=opts.pose, detector=opts.detector, log=ctx.log
    )
    what = f"2D motion ({proto.name}, from {run.motion_source})"
    _score(ctx, run, "motion", what, paired, proto, evaluate, opts.n_boot, **settings)


def _appearance(ctx: _Context, run: MethodRun, videos: Path, gt: Path | None, dims: list[str]) -> None:
    from benchmark.appearance.protocol import appearance_protocol

    opts = ctx.cfg.options
    runnable = [d for d in dims if d in ctx.runnable]
    if not runnable:
        run.notes.append("appearance: no requested dimension can run here (see the skips above)")
        return
    proto = appearance_protocol(opts.fvd_clips)
    paired = runner.collect_appearance(videos, gt)
    evaluate = partial(
        runner.evaluate_appearance, inputs=paired, dims=dims, device=opts.device, fvd_clips=opts.fvd_clips
    )
    what = f"appearance ({', '.join(runnable)})"
    _score(
        ctx, run, "appearance", what, paired, proto, evaluate, opts.n_boot, dims=runnable, device=opts.device
    )


def _motion3d(ctx: _Context, run: MethodRun) -> None:
    from benchmark.motion.inputs3d import BEATS_RULE, MOTION_RULE, MUSIC_RULE

    opts, ts = ctx.cfg.options, ctx.cfg.testset
    if run.spec.motion3d is None:
        return
    if ts.motion3d is None:
        run.notes.append("motion3d: the config's testset gives no 'motion3d' GT folder; Table 2 not scored")
        return
    proto = get_protocol(opts.protocol3d, kind="motion3d")
    sides = {
        runner.GT_MOTION: list_by_stem(ts.motion3d, MOTION_RULE, runner.GT_MOTION),
        runner.PRED_MOTION: list_by_stem(run.spec.motion3d, MOTION_RULE, runner.PRED_MOTION),
    }
    if ts.music_beats is not None:
        sides[runner.MUSIC_BEATS] = list_by_stem(ts.music_beats, BEATS_RULE, runner.MUSIC_BEATS)
    elif ts.music is not None:
        sides[runner.MUSIC] = list_by_stem(ts.music, MUSIC_RULE, runner.MUSIC)
    stems = sorted(set().union(*map(set, sides.values())))
    n_boot = min(opts.n_boot, 100)  # each 3D resample costs two FIDs: evaluate-3d's default
    evaluate = partial(
        runner.evaluate_motion3d,
        ts.motion3d,
        run.spec.motion3d,
        proto,
        music_beats=ts.music_beats,
        music=ts.music,
    )
    what = f"3D motion ({proto.name})"
    _score(ctx, run, "motion3d", what, PairedInputs(stems, sides), proto, evaluate, n_boot)


def _isolated(ctx: _Context, run: MethodRun, dim: str, score: Callable[[], None]) -> None:
    """Run one dimension of one method; a :class:`MaceError` (unusable inputs) becomes a note of that
    method, logged, and the run goes on with the next."""
    try:
        score()
    except MaceError as exc:
        note = f"{dim} not scored: {' '.join(str(exc).split())}"
        run.notes.append(note)
        _say(ctx.log, f"{run.spec.name}: {note}")


def _page_from_file(run: MethodRun, dim: str) -> Path:
    """The report page of a cached dimension (drawn from its results file: no beat-alignment plots)."""
    from benchmark.html_report import write_report

    page = run.folder / f"{dim}.html"
    if page.is_file() and page.stat().st_mtime >= run.results[dim].stat().st_mtime:
        return page
    return write_report(
        run.folder, read_results(run.results[dim]), name=f"{dim}.html", title=f"{run.spec.name}: {dim}"
    )


# ------------------------------------------------------------------------------------------ tables


def _gt_rows(table: PaperTable, runs: list[MethodRun], gt: MethodRun | None, label: str) -> list[Row]:
    """Ground-truth rows: the GT values the methods' results carry (one row per distinct way the GT was
    read: keypoint files, or videos through a pose backend), with the GT videos' own appearance."""
    appearance = gt.docs("appearance") if gt is not None else []
    gt_app = rows_from_results(table, appearance)[0].values if appearance else {}
    motion: dict[str, Row] = {}
    for run in runs:
        doc = run.docs("motion3d" if table.name == "table2" else "motion")
        if not doc:
            continue
        rows = rows_from_results(table, doc, with_gt=True)
        if len(rows) > 1:
            motion.setdefault(run.motion_source or "3D motion", rows[1])
    out = []
    for source, row in motion.items():
        name = f"Ground Truth ({label}" + (f"; {source})" if len(motion) > 1 else ")")
        out.append(Row(name, {**gt_app, **row.values}, "user_gt", row.protocol, row.comparable, row.flagged))
    if not out and gt_app:
        protocols = ", ".join(p["name"] for p in appearance[0].get("protocols", []))
        out.append(Row(f"Ground Truth ({label})", gt_app, "user_gt", protocols))
    return out


def _tables(runs: list[MethodRun], gt: MethodRun | None, ts: TestSet, cfg: ReproduceConfig) -> list:
    out = []
    for name in TABLES:
        table = load_table(name)
        dims = {"table1": ("motion", "appearance"), "table2": ("motion3d",), "table3": ("appearance",)}[name]
        label = ts.label if name != "table2" else f"3D GT {Path(cfg.testset.motion3d or '-').name}"
        rows, docs = [], []
        for run in runs:
            d = run.docs(*dims)
            if not d:
                continue
            row = rows_from_results(table, d, label=run.spec.name)[0]
            if row.values:
                rows.append(row)
                docs += d
        rows += _gt_rows(table, runs, gt, label)
        tag = f"{ts.name}-v{ts.version}" if name != "table2" else label
        on_testset(rows, tag)
        caption = caption_for(docs, testset=label) if docs else Caption(note=_EMPTY[name])
        out.append((table, rows, caption))
    return out


def _write_tables(out: Path, tables: list, intro: str) -> dict[str, Path]:
    from benchmark.paper_tables import render, render_page

    files = {}
    for fmt, suffix in (("md", "md"), ("latex", "tex")):
        text = "\n\n".join(render(t, rows, fmt, caption) for t, rows, caption in tables)
        files[fmt] = out / f"tables.{suffix}"
        with atomic_write(files[fmt], "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    files["html"] = out / "tables.html"
    with atomic_write(files["html"], "w", encoding="utf-8") as fh:
        fh.write(render_page(tables, "MACE-Dance paper tables with your rows", intro))
    return files


def _write_report(report: Path, outcome: Outcome, intro: str) -> Path:
    """``report/index.html`` (the tables and a link per method and dimension) and the methods' pages."""
    from benchmark.html_page import esc
    from benchmark.paper_tables import render_page

    report.mkdir(parents=True, exist_ok=True)
    items = []
    for run in [*outcome.methods, *([outcome.gt] if outcome.gt else [])]:
        links = []
        for dim, page in run.pages.items():
            name = f"{run.folder.name}-{dim}.html"
            shutil.copyfile(page, report / name)
            links.append(f'<a href="{esc(name)}">{esc(dim)}</a>')
        notes = "".join(f" <span class='ver'>({esc(n)})</span>" for n in run.notes)
        items.append(
            f"<li><span class='method'>{esc(run.spec.name)}</span>: {' · '.join(links) or '–'}{notes}</li>"
        )
    methods = f"<h2>Reports per method</h2><ul>{''.join(items)}</ul>"
    page = render_page(outcome.tables, "MACE-Dance paper tables with your rows", intro + methods)
    path = report / "index.html"
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path


# ------------------------------------------------------------------------------------------ the run


def run_reproduce(
    cfg: ReproduceConfig,
    out: str | Path,
    *,
    report: str | Path | None = None,
    rescore: bool = False,
    argv: list[str] | None = None,
    progress: bool = False,
    log: Log = None,
) -> Outcome:
    """Score every method of ``cfg`` (cached by input hashes under ``out``), write the tables and, with
    ``report``, the HTML report. Raises :class:`MaceError` for a config or test set that cannot be used
    (before any scoring) and when no method could be scored."""
    from benchmark.appearance.api import VBENCH_DIMS, default_dims, unavailable_dims
    from benchmark.appearance.dimensions import DIMENSIONS as APPEARANCE

    out = Path(out)
    opts = cfg.options
    ts = load_testset(cfg.testset.manifest)
    gt = _gt_folders(cfg, ts)
    warnings = check_gt(ts, gt)
    _check_protocol(ts, opts.protocol, warnings)
    _check_protocol(ts, "vbench-appearance", warnings)
    get_protocol(opts.protocol3d, kind="motion3d")  # an unknown name fails now, not after scoring
    dims = list(opts.appearance_dims) if opts.appearance_dims else default_dims(True)
    unavailable = unavailable_dims(dims, have_gt=True)
    for dim, reason in unavailable.items():
        _say(log, f"skipping appearance dimension {dim} ({APPEARANCE[dim].metric.label}): {reason}")
    for w in warnings:
        _say(log, f"warning: {w}")
    ctx = _Context(
        cfg,
        gt,
        argv or ["mace-bench", "reproduce", "--config", str(cfg.path), "--out", str(out)],
        rescore,
        report is not None,
        progress,
        log,
        dims,
        [d for d in dims if d not in unavailable],
    )
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for spec in cfg.methods:
        run = MethodRun(spec, out / spec.slug)
        # per-item isolation: a method whose inputs cannot be scored is reported, the others go on
        _isolated(ctx, run, "motion", lambda run=run: _motion2d(ctx, run))
        if spec.videos is not None:
            _isolated(
                ctx,
                run,
                "appearance",
                lambda run=run, spec=spec: _appearance(ctx, run, spec.videos, gt["video"], dims),
            )
        _isolated(ctx, run, "motion3d", lambda run=run: _motion3d(ctx, run))
        runs.append(run)
    gt_run = None
    vbench = [d for d in dims if d in VBENCH_DIMS]
    if opts.score_gt and vbench and any(r.spec.videos is not None for r in runs):
        gt_run = MethodRun(MethodSpec("Ground Truth", GT_FOLDER, videos=gt["video"]), out / GT_FOLDER)
        _appearance(ctx, gt_run, gt["video"], None, vbench)
    if not any(r.results for r in runs):
        notes = "; ".join(n for r in runs for n in r.notes)
        raise MaceError("no method could be scored" + (f" ({notes})" if notes else ""))
    tables = _tables(runs, gt_run, ts, cfg)
    intro = _intro(ts, runs)
    outcome = Outcome(ts, runs, gt_run, tables, _write_tables(out, tables, intro), warnings)
    if report is not None:
        for run in [*runs, *([gt_run] if gt_run else [])]:
            for dim in run.results:
                run.pages.setdefault(dim, _page_from_file(run, dim))
        outcome.files["report"] = _write_report(Path(report), outcome, intro)
    return outcome


def _intro(ts: TestSet, runs: list[MethodRun]) -> str:
    from benchmark.html_page import esc

    fingerprint = ts.fingerprint()[:16] if ts.hashes_published else "hashes not published"
    scored = sum(len(r.scored) for r in runs)
    cached = sum(len(r.cached) for r in runs)
    return (
        f"<p>Test set {esc(ts.label)} ({len(ts.stems)} stems, fingerprint {esc(fingerprint)}); "
        f"{len(runs)} method(s); {scored} evaluation(s) scored in this run, {cached} from the cache. "
        f"Scored by mace-dance {esc(toolkit_version())}.</p>"
    )
