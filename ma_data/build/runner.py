"""Run a stage over items with a ledger and an executor: the resumable, idempotent core of every build.

A *stage* is a name plus a module-level function ``fn(payload) -> result``. The function must:

* write its outputs with atomic writes (temporary file, then rename), so a killed worker leaves no half file
  under a final name;
* be deterministic for a given payload, so re-running an item whose "done" was lost (driver killed after the
  worker finished) rewrites identical bytes: nothing is duplicated, nothing is corrupt;
* return a small JSON-serialisable result (e.g. a manifest row); it is stored in the ledger.

``run_stage`` registers the items, skips those already ``done``, retries failed ones up to ``max_attempts``
and records every outcome in the ledger as it arrives (one committed transaction per item).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ma_data.build.ledger import Ledger
from ma_data.core.executors import Executor
from ma_data.core.progress import progress_bar

__all__ = ["StageReport", "run_stage", "sweep_temp_files"]

log = logging.getLogger(__name__)


@dataclass
class StageReport:
    """Summary of one ``run_stage`` call."""

    stage: str
    n_items: int
    n_run: int = 0
    n_done: int = 0  # done after this call (including items done by earlier runs)
    n_failed: int = 0  # failed after this call
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (item_id, error_class, message)

    @property
    def ok(self) -> bool:
        return self.n_failed == 0 and self.n_done == self.n_items


def run_stage(
    ledger: Ledger,
    stage: str,
    fn: Callable[[Any], Any],
    items: Mapping[str, Any],
    executor: Executor,
    max_attempts: int = 3,
    progress: bool | None = None,
) -> StageReport:
    """Run ``fn`` over ``items`` (item_id -> JSON payload) that are not yet done; returns a report.

    Items already ``done`` in the ledger are skipped (idempotent re-runs). An item left ``running`` by a
    killed driver is run again. Items that failed ``max_attempts`` times are not retried (use
    ``Ledger.reset`` to force them).
    """
    ledger.register(stage, dict(items))
    wanted = set(items)
    todo = [i for i in ledger.todo(stage, max_attempts=max_attempts) if i in wanted]
    report = StageReport(stage=stage, n_items=len(items))
    bar = progress_bar(total=len(todo), wanted=progress is not False, desc=stage, unit="item")

    def feed():
        for item_id in todo:
            ledger.start(stage, item_id)  # counted as an attempt the moment it is handed out
            yield item_id, items[item_id]

    try:
        for item_id, out in executor.imap_unordered(fn, feed()):
            report.n_run += 1
            if out.ok:
                ledger.finish(stage, item_id, out.value)
            else:
                ledger.fail(stage, item_id, out.error_class or "Error", out.error or "")
                log.warning("%s: item %s failed: %s: %s", stage, item_id, out.error_class, out.error)
                if out.traceback:
                    log.debug(out.traceback)
            bar.update(1)
    finally:
        bar.close()

    counts = ledger.counts(stage).get(stage, {})
    recs = {r.item_id: r for r in ledger.records(stage)}
    report.n_done = sum(1 for i in wanted if recs[i].status == "done")
    report.n_failed = sum(1 for i in wanted if recs[i].status == "failed")
    report.failures = sorted(
        (i, recs[i].error_class or "", recs[i].error or "") for i in wanted if recs[i].status == "failed"
    )
    log.info("%s: %s", stage, counts)
    return report


def sweep_temp_files(root: str | Path, marker: str = ".tmp") -> int:
    """Delete temporary files left by atomic writes that a SIGKILL interrupted; returns how many.

    Atomic writers name their temporaries ``<name>.tmp…`` / ``.<name>.tmp…`` in the target's directory, so a
    file whose name contains ``marker`` is never a finished output.
    """
    n = 0
    root = Path(root)
    if not root.exists():
        return 0
    for p in root.rglob(f"*{marker}*"):
        if p.is_file() and p.suffix != ".sqlite" and "ledger" not in p.name:
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n
