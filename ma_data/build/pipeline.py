"""``ma-data build``: plan items per subset, run them through the ledger and an executor, write the manifest.

Layout of a dataset root::

    manifest.parquet          one row per clip, every subset (ma_data.manifest)
    build_config.json         the resolved config the root was built with
    .build/ledger.sqlite      the ledger (stage "render", and the internet subset's stages)
    render/...                render subset files (ma_data.build.render_stage)
    _sources/finedance_sample the synthetic FineDance-format sample (--demo only)

Subsets are pluggable: :data:`SUBSET_BUILDERS` maps a name to ``"module:function"``; the function is called
as ``fn(ctx: BuildContext) -> list[dict]`` (manifest rows) and should run its work with
``run_stage(ctx.ledger, "<subset>.<stage>", fn, items, ctx.executor)``. The internet subset lives in
``ma_data.crawl`` and is imported only when asked for.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ma_data.build.ledger import Ledger
from ma_data.build.lock import lock_root
from ma_data.build.runner import run_stage, sweep_temp_files
from ma_data.core.errors import MaceError
from ma_data.core.executors import Executor, make_executor
from ma_data.core.io.atomic import atomic_write
from ma_data.manifest import MANIFEST_NAME, rows_of_other_subsets, write_manifest

__all__ = [
    "DEMO_CONFIG",
    "DEFAULT_CONFIG",
    "SUBSET_BUILDERS",
    "BuildContext",
    "BuildResult",
    "build",
    "load_config",
]

log = logging.getLogger(__name__)

LEDGER_PATH = ".build/ledger.sqlite"

#: Defaults for a real FineDance build (paper-like: 720x1280, overlapping 5-10 s windows).
DEFAULT_CONFIG: dict[str, Any] = {
    "render": {"preset": "default"},
    "slicing": {
        "min_len_s": 5.0,
        "max_len_s": 10.0,
        "min_stride_s": 2.5,
        "max_stride_s": 5.0,
        "max_offset_s": 2.0,
        "seed": 0,
    },
    "sources": {"ids": None, "limit": None},
    "max_attempts": 3,
}

#: Defaults for ``--demo``: the small preset and fewer, non-overlapping clips so it runs in minutes on a CPU.
DEMO_CONFIG: dict[str, Any] = {
    **DEFAULT_CONFIG,
    "render": {"preset": "demo"},
    "slicing": {**DEFAULT_CONFIG["slicing"], "min_stride_s": 6.5, "max_stride_s": 8.0, "max_offset_s": 1.0},
}

SUBSET_BUILDERS: dict[str, str] = {
    "render": "ma_data.build.pipeline:build_render_subset",
    "internet": "ma_data.crawl.subset:build_internet_subset",
}

#: Config sections a subset owns and checks when the config is loaded: ``fn(section, where)`` raises a
#: one-line error naming the file and the bad key.
CONFIG_CHECKS: dict[str, str] = {"internet": "ma_data.crawl.settings:check_internet_section"}


@dataclass
class BuildContext:
    """What a subset builder gets."""

    out: Path
    config: dict[str, Any]
    ledger: Ledger
    executor: Executor
    finedance_dir: Path | None = None
    progress: bool | None = None
    reports: list = field(default_factory=list)
    #: status lines for the user (what is being built, how much of it), e.g. ``click.echo``
    log: Callable[[str], None] | None = None

    def say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)


@dataclass
class BuildResult:
    out: Path
    n_ok: int
    n_failed: int
    manifest: Path
    failures: list[tuple[str, str, str]]


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_config(path: str | Path | None, demo: bool = False) -> dict[str, Any]:
    """Defaults (demo or full) overlaid with a YAML/JSON file's keys."""
    cfg = DEMO_CONFIG if demo else DEFAULT_CONFIG
    if path is None:
        return json.loads(json.dumps(cfg))
    import yaml

    p = Path(path)
    try:
        with open(p, encoding="utf-8") as fh:
            user = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MaceError(f"{p}: cannot read build config ({exc})") from exc
    if not isinstance(user, dict):
        raise MaceError(f"{p}: build config must be a mapping")
    for section, spec in CONFIG_CHECKS.items():
        if section in user:
            mod, fn = spec.split(":")
            getattr(importlib.import_module(mod), fn)(user[section], str(p))
    return _merge(json.loads(json.dumps(cfg)), user)


def resolve_render_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The full RenderConfig dict from ``{"preset": name, **overrides}``."""
    from ma_data.render.config import PRESETS

    r = dict(cfg.get("render") or {})
    preset = r.pop("preset", "default")
    if preset not in PRESETS:
        raise MaceError(f"unknown render preset {preset!r}; choose one of {', '.join(PRESETS)}")
    rc = PRESETS[preset].with_(**r)
    return json.loads(json.dumps(rc.to_dict()))


def build_render_subset(ctx: BuildContext) -> list[dict[str, Any]]:
    """Plan and run the render stage; returns manifest rows (ok and failed)."""
    from ma_data.build.render_stage import failed_row, plan_render_items, render_clip
    from ma_data.slicing import SlicingConfig

    if ctx.finedance_dir is None:
        raise MaceError("the render subset needs --finedance DIR (or --demo)")
    rc = resolve_render_config(ctx.config)
    slicing = SlicingConfig(**ctx.config["slicing"])
    src = ctx.config.get("sources") or {}
    items = plan_render_items(
        ctx.finedance_dir, ctx.out, rc, slicing, source_ids=src.get("ids"), limit_sources=src.get("limit")
    )
    if not items:
        raise MaceError(f"{ctx.finedance_dir}: no usable FineDance sequences (all missing or ignored)")
    done = sum(1 for r in ctx.ledger.records("render") if r.item_id in items and r.status == "done")
    n_sources = len({p["source_id"] for p in items.values()})
    ctx.say(
        f"render subset: {len(items)} clips from {n_sources} sequences at {rc['width']}x{rc['height']}, "
        f"{rc['fps']:g} fps" + (f" ({done} built by an earlier run)" if done else "")
    )
    report = run_stage(
        ctx.ledger,
        "render",
        render_clip,
        items,
        ctx.executor,
        max_attempts=int(ctx.config.get("max_attempts", 3)),
        progress=ctx.progress,
    )
    ctx.reports.append(report)
    rows = []
    for rec in ctx.ledger.records("render"):
        if rec.item_id not in items:
            continue  # planned by an earlier config of this root; not part of this manifest
        if rec.status == "done":
            rows.append(rec.result)
        else:
            rows.append(failed_row(items[rec.item_id], f"{rec.error_class}: {rec.error}"))
    return rows


def _builder(name: str):
    if name not in SUBSET_BUILDERS:
        raise MaceError(f"unknown subset {name!r}; choose from {', '.join(SUBSET_BUILDERS)}")
    mod, fn = SUBSET_BUILDERS[name].split(":")
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as exc:
        raise MaceError(f"subset {name!r} is not available ({SUBSET_BUILDERS[name]}: {exc})") from exc


def build(
    out: str | Path,
    finedance_dir: str | Path | None = None,
    demo: bool = False,
    subsets: tuple[str, ...] = ("render",),
    config: dict[str, Any] | None = None,
    executor: str = "process",
    workers: int | None = None,
    address: str | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build (or resume) a dataset root. Safe to re-run: finished clips are never redone. ``log`` receives
    a status line per step (the sample written, each subset started and finished)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config if config is not None else load_config(None, demo=demo)
    if demo and finedance_dir is None:
        from ma_data.sample import write_sample

        if log is not None:
            log(
                f"writing the bundled SYNTHETIC FineDance-format sample to {out / '_sources' / 'finedance_sample'}"
            )
        finedance_dir = write_sample(out / "_sources" / "finedance_sample")
    lock = lock_root(out, "ma-data build")  # one driver per root (also refuses a crawl of it meanwhile)
    sweep_temp_files(out)  # temporaries of writes a SIGKILL interrupted

    led = Ledger(out / LEDGER_PATH)
    cfg_key = json.dumps(cfg, sort_keys=True)
    old = led.get_meta("config")
    if old is not None and json.dumps(old, sort_keys=True) != cfg_key:
        led.close()
        raise MaceError(
            f"{out}: this root was built with a different config (see {out / 'build_config.json'}); "
            "use a new --out directory"
        )
    led.set_meta("config", cfg)
    with atomic_write(out / "build_config.json", "w", encoding="utf-8") as fh:
        json.dump(cfg, fh, indent=1, sort_keys=True)

    # llvmpipe would start one raster thread per core in every worker; one each avoids oversubscription.
    env = {"LP_NUM_THREADS": "1"} if executor != "serial" else {}
    rows: list[dict[str, Any]] = []
    with make_executor(executor, workers=workers, address=address, env=env) as ex:
        ctx = BuildContext(
            out=out,
            config=cfg,
            ledger=led,
            executor=ex,
            finedance_dir=Path(finedance_dir) if finedance_dir else None,
            progress=progress,
            log=log,
        )
        for name in subsets:
            ctx.say(f"building the {name} subset ({executor} executor)")
            t0 = time.perf_counter()
            built = _builder(name)(ctx)
            ok = sum(r["status"] == "ok" for r in built)
            ctx.say(
                f"{name} subset: {ok} clips ok, {len(built) - ok} failed ({time.perf_counter() - t0:.0f} s)"
            )
            rows += built
    kept = rows_of_other_subsets(out / MANIFEST_NAME, set(subsets))  # e.g. clips of an earlier crawl
    manifest = write_manifest(out / MANIFEST_NAME, rows + kept)
    led.close()
    lock.release()
    failures = [(r["clip_id"], "", r["error"] or "") for r in rows if r["status"] != "ok"]
    return BuildResult(
        out=out,
        n_ok=sum(r["status"] == "ok" for r in rows),
        n_failed=len(failures),
        manifest=manifest,
        failures=failures,
    )
