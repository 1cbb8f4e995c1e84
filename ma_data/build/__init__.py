"""Build machinery shared by every MA-Data subset (render, internet) and other long batch jobs.

Public API (stable; the internet-crawl subset and keypoint extraction reuse it):

* :class:`~ma_data.build.ledger.Ledger` — SQLite ledger, one row per (stage, item_id) with status
  (pending/running/done/failed), attempts, error class/message, JSON payload and JSON result.
* :func:`~ma_data.core.executors.make_executor` — ``serial`` | ``process`` (default) | ``ray``; all yield
  ``(item_id, Outcome)`` from ``imap_unordered(fn, [(item_id, payload), ...])``.
* :func:`~ma_data.build.runner.run_stage` — run ``fn`` over items not yet done, recording outcomes in the
  ledger; returns a :class:`~ma_data.build.runner.StageReport`.
* :func:`~ma_data.build.runner.sweep_temp_files` — remove temporaries left by killed atomic writes.
* :func:`~ma_data.build.lock.lock_root` — the one-driver-per-folder lock (``build`` and ``crawl`` share it).

Typical use::

    from ma_data.build import Ledger, make_executor, run_stage

    with Ledger(out / ".ledger.sqlite") as led, make_executor("process", workers=8) as ex:
        report = run_stage(led, "internet.download", download_one, {vid: {"url": u} for vid, u in urls}, ex)
        rows = [r.result for r in led.records("internet.download", status="done")]
"""

from ma_data.build.ledger import STATUSES, ItemRecord, Ledger
from ma_data.build.lock import RootLock, lock_root
from ma_data.build.runner import StageReport, run_stage, sweep_temp_files
from ma_data.core.executors import (
    EXECUTORS,
    Executor,
    Outcome,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    call_safely,
    make_executor,
)

__all__ = [
    "EXECUTORS",
    "STATUSES",
    "Executor",
    "ItemRecord",
    "Ledger",
    "Outcome",
    "RootLock",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "StageReport",
    "call_safely",
    "lock_root",
    "make_executor",
    "run_stage",
    "sweep_temp_files",
]
