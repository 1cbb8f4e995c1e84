"""Persistent SQLite ledger of work items: one row per (stage, item_id).

The ledger is the single source of truth for "what is done" in a long build. It is written by ONE process
(the driver that owns the executor); workers never touch it, so SQLite locking never becomes a bottleneck
and a SIGKILLed worker cannot leave a half-written row.

Row life cycle::

    pending --start()--> running --finish()--> done
                            \\----fail()-----> failed --(re-run, attempts < max_attempts)--> running ...

A row left in ``running`` by a killed driver is treated as interrupted: the next run picks it up again
(the item's outputs are written atomically, so re-running it simply overwrites identical files).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ItemRecord", "Ledger", "STATUSES"]

STATUSES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    stage       TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error_class TEXT,
    error       TEXT,
    payload     TEXT,          -- JSON: the item description the stage was given
    result      TEXT,          -- JSON: what the stage returned (e.g. a manifest row)
    updated_at  REAL NOT NULL,
    PRIMARY KEY (stage, item_id)
);
CREATE INDEX IF NOT EXISTS items_stage_status ON items (stage, status);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class ItemRecord:
    """One ledger row, decoded."""

    stage: str
    item_id: str
    status: str
    attempts: int
    error_class: str | None
    error: str | None
    payload: Any
    result: Any


class Ledger:
    """SQLite-backed ledger. Safe to reopen after a crash; every mutation is its own committed transaction.

    >>> led = Ledger(":memory:")
    >>> led.register("render", {"a": {"x": 1}})
    1
    >>> led.start("render", "a"); led.finish("render", "a", {"ok": True})
    >>> led.get("render", "a").status
    'done'
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit; we open explicit transactions where several statements must agree.
        self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")  # readers (status commands) never block the driver
        self._conn.execute("PRAGMA synchronous=FULL")  # a committed 'done' survives power loss / SIGKILL
        self._conn.executescript(_SCHEMA)

    # -- lifecycle --------------------------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- metadata (e.g. the config hash a build was started with) -----------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, sort_keys=True)),
        )

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # -- items ----------------------------------------------------------------------------------------------
    def register(self, stage: str, items: dict[str, Any] | Iterable[str]) -> int:
        """Add items as ``pending`` unless already known (idempotent). Returns how many were new.

        ``items`` maps item_id -> JSON-serialisable payload, or is an iterable of ids (payload None).
        Known items keep their status: re-registering never resets a done item.
        """
        pairs = items.items() if isinstance(items, dict) else ((i, None) for i in items)
        now = time.time()
        with self._tx() as c:
            before = c.total_changes
            c.executemany(
                "INSERT OR IGNORE INTO items (stage, item_id, status, payload, updated_at) "
                "VALUES (?, ?, 'pending', ?, ?)",
                [(stage, str(k), json.dumps(v, sort_keys=True), now) for k, v in pairs],
            )
            return c.total_changes - before

    def start(self, stage: str, item_id: str) -> None:
        """Mark an item ``running`` and count the attempt (before the work is handed to a worker)."""
        self._conn.execute(
            "UPDATE items SET status = 'running', attempts = attempts + 1, updated_at = ? "
            "WHERE stage = ? AND item_id = ?",
            (time.time(), stage, item_id),
        )

    def finish(self, stage: str, item_id: str, result: Any = None) -> None:
        """Mark an item ``done`` with its (JSON-serialisable) result; clears any earlier error."""
        self._conn.execute(
            "UPDATE items SET status = 'done', result = ?, error_class = NULL, error = NULL, updated_at = ? "
            "WHERE stage = ? AND item_id = ?",
            (json.dumps(result, sort_keys=True), time.time(), stage, item_id),
        )

    def fail(self, stage: str, item_id: str, error_class: str, error: str) -> None:
        """Mark an item ``failed`` and record the error class (e.g. ``MediaError``) and message."""
        self._conn.execute(
            "UPDATE items SET status = 'failed', error_class = ?, error = ?, updated_at = ? "
            "WHERE stage = ? AND item_id = ?",
            (error_class, error, time.time(), stage, item_id),
        )

    def reset(self, stage: str, item_ids: Iterable[str] | None = None) -> None:
        """Put items (all of the stage when ``item_ids`` is None) back to ``pending`` with zero attempts."""
        if item_ids is None:
            self._conn.execute(
                "UPDATE items SET status='pending', attempts=0, error_class=NULL, error=NULL WHERE stage=?",
                (stage,),
            )
            return
        with self._tx() as c:
            c.executemany(
                "UPDATE items SET status='pending', attempts=0, error_class=NULL, error=NULL "
                "WHERE stage=? AND item_id=?",
                [(stage, i) for i in item_ids],
            )

    def todo(self, stage: str, max_attempts: int = 3) -> list[str]:
        """Ids still to run, sorted: pending, interrupted (``running``) and failed with attempts left."""
        rows = self._conn.execute(
            "SELECT item_id FROM items WHERE stage = ? AND (status IN ('pending', 'running') "
            "OR (status = 'failed' AND attempts < ?)) ORDER BY item_id",
            (stage, max_attempts),
        ).fetchall()
        return [r[0] for r in rows]

    def get(self, stage: str, item_id: str) -> ItemRecord | None:
        row = self._conn.execute(
            "SELECT stage, item_id, status, attempts, error_class, error, payload, result FROM items "
            "WHERE stage = ? AND item_id = ?",
            (stage, item_id),
        ).fetchone()
        return None if row is None else _decode(row)

    def records(self, stage: str, status: str | None = None) -> list[ItemRecord]:
        """All rows of a stage (optionally of one status), sorted by item id."""
        q = (
            "SELECT stage, item_id, status, attempts, error_class, error, payload, result FROM items "
            "WHERE stage=?"
        )
        args: tuple[Any, ...] = (stage,)
        if status is not None:
            q += " AND status = ?"
            args += (status,)
        return [_decode(r) for r in self._conn.execute(q + " ORDER BY item_id", args).fetchall()]

    def counts(self, stage: str | None = None) -> dict[str, dict[str, int]]:
        """``{stage: {status: n}}`` for one or all stages."""
        q = "SELECT stage, status, COUNT(*) FROM items"
        args: tuple[Any, ...] = ()
        if stage is not None:
            q += " WHERE stage = ?"
            args = (stage,)
        out: dict[str, dict[str, int]] = {}
        for st, status, n in self._conn.execute(q + " GROUP BY stage, status", args).fetchall():
            out.setdefault(st, {s: 0 for s in STATUSES})[status] = n
        return out

    def stages(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT stage FROM items ORDER BY stage").fetchall()
        return [r[0] for r in rows]


def _decode(row: tuple) -> ItemRecord:
    stage, item_id, status, attempts, ecls, err, payload, result = row
    return ItemRecord(
        stage=stage,
        item_id=item_id,
        status=status,
        attempts=attempts,
        error_class=ecls,
        error=err,
        payload=None if payload is None else json.loads(payload),
        result=None if result is None else json.loads(result),
    )
