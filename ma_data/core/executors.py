"""Executors: run one function over many (item_id, payload) pairs, serially, in a process pool, or on Ray.

All three share one contract, so a stage never knows where it runs::

    for item_id, outcome in executor.imap_unordered(fn, [(item_id, payload), ...]):
        outcome.ok, outcome.value | outcome.error_class, outcome.error

* ``fn(payload) -> result`` must be a module-level (picklable) function; ``payload`` and ``result`` should be
  small values (paths, numbers, a few hundred kB of bytes at most), never large arrays: workers write big
  outputs to disk themselves.
* Exceptions never escape a worker: they come back as an :class:`Outcome` with the exception's class name and
  message, so one bad item cannot stop a build. A worker process that dies (segfault, OOM kill) yields
  ``error_class="WorkerCrashed"`` for the items it held and the pool is rebuilt.
* Results arrive in completion order; callers sort when order matters.
* ``placement="per_gpu"`` (GPU work, e.g. pose models): the process pool gives each worker one GPU through
  ``CUDA_VISIBLE_DEVICES`` (one worker per GPU unless ``workers`` says otherwise); Ray runs one persistent
  actor per GPU of the cluster (``num_gpus=1``), so models load once per GPU, not once per item. With no GPU
  both fall back to their CPU behaviour. A worker's module-level caches (a loaded model) live as long as it.

This module is part of the base layer (``ma_data.core``): the dataset build (:mod:`ma_data.build`) and the
keypoint extraction (:mod:`ma_data.core.pose.extract`) both run on it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ma_data.core.errors import ConfigError

__all__ = [
    "EXECUTORS",
    "PLACEMENTS",
    "Executor",
    "Outcome",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "call_safely",
    "check_ray_address",
    "local_gpu_count",
    "make_executor",
]

EXECUTORS = ("serial", "process", "ray")
PLACEMENTS = ("cpu", "per_gpu")


@dataclass(frozen=True)
class Outcome:
    """What one call produced: ``value`` when ``ok``, else the error's class name, message and traceback."""

    ok: bool
    value: Any = None
    error_class: str | None = None
    error: str | None = None
    traceback: str | None = None


def call_safely(fn: Callable[[Any], Any], payload: Any) -> Outcome:
    """Run ``fn(payload)`` and turn any exception into a failed :class:`Outcome` (always picklable)."""
    try:
        return Outcome(ok=True, value=fn(payload))
    except Exception as exc:  # noqa: BLE001 - batch work records per-item failure and continues
        msg = str(exc) or repr(exc)
        return Outcome(ok=False, error_class=type(exc).__name__, error=msg, traceback=traceback.format_exc())


class Executor(ABC):
    """Base class. Use as a context manager so pools and Ray connections are released."""

    name: str = "base"

    @abstractmethod
    def imap_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[tuple[str, Any]]
    ) -> Iterator[tuple[str, Outcome]]:
        """Yield ``(item_id, Outcome)`` as items complete."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Runs items one after another in this process: simplest to debug (pdb, profilers work)."""

    name = "serial"

    def imap_unordered(self, fn, items):
        for item_id, payload in items:
            yield item_id, call_safely(fn, payload)


def _exit_with_parent(parent: int, period_s: float = 0.5) -> None:
    """Exit this worker soon after its driver dies (SIGKILL leaves pool workers orphaned otherwise)."""
    while True:
        time.sleep(period_s)
        if os.getppid() != parent:
            os._exit(1)


def _worker_init(env: dict[str, str], parent: int, slots=None) -> None:
    os.environ.update(env)
    if slots is not None:  # this worker's own settings (e.g. its GPU), one queue entry per worker
        os.environ.update(slots.get())
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


class ProcessExecutor(Executor):
    """A local pool of ``workers`` processes (default: the CPU count).

    Uses the ``spawn`` start method: children start clean, which matters for EGL/OpenGL contexts and for
    libraries that start threads at import (forking those is unsafe). ``env`` is applied in each child
    before any work, e.g. ``{"LP_NUM_THREADS": "1"}`` so Mesa's llvmpipe does not oversubscribe the cores.
    At most ``2 * workers`` items are in flight, so huge item lists are never pickled at once.
    ``worker_envs`` gives each worker process its own settings on top of ``env`` (worker ``i`` of the pool takes
    ``worker_envs[i % len(worker_envs)]``), e.g. ``[{"CUDA_VISIBLE_DEVICES": "0"}, {"CUDA_VISIBLE_DEVICES":
    "1"}]`` to put one worker on each GPU; ``workers`` then defaults to ``len(worker_envs)``.
    """

    name = "process"

    def __init__(
        self,
        workers: int | None = None,
        env: dict[str, str] | None = None,
        worker_envs: list[dict[str, str]] | None = None,
    ):
        self.worker_envs = [dict(e) for e in worker_envs] if worker_envs else None
        default = len(self.worker_envs) if self.worker_envs else os.cpu_count() or 1
        self.workers = max(1, workers or default)
        self.env = dict(env or {})
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = mp.get_context("spawn")
        slots = None
        if self.worker_envs:
            slots = ctx.Queue()
            for i in range(self.workers):  # the pool never runs more than `workers` processes at once
                slots.put(self.worker_envs[i % len(self.worker_envs)])
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(self.env, os.getpid(), slots),
        )

    def imap_unordered(self, fn, items):
        it = iter(items)
        if self._pool is None:
            self._pool = self._new_pool()
        inflight: dict[Future, str] = {}

        def submit_next() -> bool:
            try:
                item_id, payload = next(it)
            except StopIteration:
                return False
            inflight[self._pool.submit(call_safely, fn, payload)] = item_id
            return True

        while len(inflight) < 2 * self.workers and submit_next():
            pass
        while inflight:
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                item_id = inflight.pop(fut)
                try:
                    yield item_id, fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    yield item_id, Outcome(ok=False, error_class="WorkerCrashed", error=str(exc))
            if broken:
                # Every other in-flight future of a broken pool fails too; report them and start afresh.
                for fut, item_id in list(inflight.items()):
                    inflight.pop(fut)
                    yield item_id, Outcome(ok=False, error_class="WorkerCrashed", error="worker pool broke")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            while len(inflight) < 2 * self.workers and submit_next():
                pass

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


#: Ports Ray listens on when an address names none: the client server (``ray://``) and the GCS.
RAY_CLIENT_PORT = 10001
RAY_GCS_PORT = 6379
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def check_ray_address(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail fast, in one line, when nothing listens at a Ray cluster ``address``.

    ``ray.init`` retries an unreachable address for minutes, printing warnings. So before it runs, the host
    and port are probed with one TCP connection (``timeout_s``); ``None``, ``"auto"`` and ``"local"`` are left
    to Ray (which fails at once when it finds no cluster). Like Ray, a loopback host also counts when the
    cluster listens on this machine's own address.
    """
    if address is None or address.strip().lower() in ("auto", "local", ""):
        return
    text = address.strip()
    parts = urlsplit(text if "://" in text else "//" + text)
    default = RAY_CLIENT_PORT if parts.scheme == "ray" else RAY_GCS_PORT
    try:
        host, port = parts.hostname, parts.port or default
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ConfigError(f"Ray address {address!r}: expected host:port or ray://host:port")
    hosts = [host]
    if host in _LOOPBACK_NAMES:
        try:
            hosts.append(socket.gethostbyname(socket.gethostname()))
        except OSError:
            pass
    errors = []
    for h in hosts:
        try:
            with socket.create_connection((h, port), timeout=timeout_s):
                return
        except OSError as exc:
            errors.append(exc.strerror or type(exc).__name__)
    raise ConfigError(
        f"cannot reach a Ray cluster at {address} ({errors[0]}); start one there (`ray start --head`) "
        "or fix --address"
    )


class _ActorWorker:
    """A persistent Ray worker (one per GPU with ``placement="per_gpu"``): its process, and what ``fn`` caches
    in it (a loaded model), lives for the whole run."""

    def run(self, fn: Callable[[Any], Any], payload: Any) -> Outcome:
        return call_safely(fn, payload)


class RayExecutor(Executor):
    """Runs items as Ray tasks (one CPU each by default), or on persistent actors (one per GPU).

    ``address=None`` starts (or joins) a local Ray instance with ``workers`` CPUs; ``address="auto"`` or
    ``"ray://host:10001"`` joins a cluster. Every node must have this package installed (same version) and
    see the output directory at the same path (shared filesystem), because workers write outputs directly.
    ``num_gpus_per_task`` > 0 reserves a GPU fraction per task (e.g. 0.25 for EGL rendering on the GPU).
    ``placement="per_gpu"`` runs items on one actor per GPU of the cluster (each reserving ``num_gpus=1``, so
    Ray pins it to its own GPU through ``CUDA_VISIBLE_DEVICES``), one item at a time per actor; a cluster
    without GPUs falls back to plain CPU tasks. (Ray's GPU *tasks* would each start a fresh worker process,
    reloading the model for every item.)
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        env: dict[str, str] | None = None,
        num_cpus_per_task: float = 1.0,
        num_gpus_per_task: float = 0.0,
        max_inflight: int | None = None,
        placement: str = "cpu",
    ):
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise ConfigError("the ray executor needs Ray: pip install 'mace-dance[distributed]'") from exc
        _check_placement(placement)
        self._ray = ray
        self.env = dict(env or {})
        self._owns = not ray.is_initialized()
        if self._owns:
            check_ray_address(address)
        if self._owns:
            kwargs: dict[str, Any] = {
                "ignore_reinit_error": True,
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"env_vars": self.env} if self.env else None,
            }
            if address is None:
                kwargs["num_cpus"] = workers or os.cpu_count() or 1
            else:
                kwargs["address"] = address
            try:
                ray.init(**kwargs)
            except ConnectionError as exc:  # e.g. "auto" and no cluster running
                first = (str(exc).splitlines() or [type(exc).__name__])[0]
                raise ConfigError(
                    f"cannot connect to Ray at {address or 'a local instance'}: {first}"
                ) from None
        self._remote = ray.remote(num_cpus=num_cpus_per_task, num_gpus=num_gpus_per_task)(call_safely)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.max_inflight = max_inflight or max(2, 2 * cpus)
        self.gpus = int(ray.cluster_resources().get("GPU", 0))
        self._actors: list[Any] = []
        if placement == "per_gpu" and self.gpus:
            actor = ray.remote(num_cpus=num_cpus_per_task, num_gpus=1, max_restarts=-1)(_ActorWorker)
            self._actors = [actor.remote() for _ in range(self.gpus)]

    @property
    def uses_gpus(self) -> bool:
        """True when items run on per-GPU actors."""
        return bool(self._actors)

    def imap_unordered(self, fn, items):
        ray = self._ray
        it = iter(items)
        fn_ref = ray.put(fn)
        inflight: dict[Any, tuple[str, Any]] = {}  # ref -> (item id, actor or None)
        idle = list(self._actors)

        def submit_next() -> bool:
            if self._actors and not idle:
                return False
            try:
                item_id, payload = next(it)
            except StopIteration:
                return False
            if self._actors:
                actor = idle.pop()
                inflight[actor.run.remote(fn_ref, payload)] = (item_id, actor)
            else:
                inflight[self._remote.remote(fn_ref, payload)] = (item_id, None)
            return True

        while len(inflight) < self.max_inflight and submit_next():
            pass
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                item_id, actor = inflight.pop(ref)
                try:
                    out = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - worker died / task lost (an actor is restarted)
                    out = Outcome(ok=False, error_class="WorkerCrashed", error=f"{type(exc).__name__}: {exc}")
                if actor is not None:
                    idle.append(actor)
                yield item_id, out
            while len(inflight) < self.max_inflight and submit_next():
                pass

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
            self._owns = False


def _check_placement(placement: str) -> None:
    if placement not in PLACEMENTS:
        raise ConfigError(f"unknown placement {placement!r}; choose one of {', '.join(PLACEMENTS)}")


def local_gpu_count() -> int:
    """CUDA GPUs visible to this process (0 without torch or CUDA); does not initialise CUDA."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def make_executor(
    name: str = "process",
    workers: int | None = None,
    address: str | None = None,
    env: dict[str, str] | None = None,
    placement: str = "cpu",
    **kwargs: Any,
) -> Executor:
    """Build an executor by name: ``serial``, ``process`` (default) or ``ray``.

    ``placement="per_gpu"``: a process pool with one worker per local GPU (``CUDA_VISIBLE_DEVICES`` set per
    worker; ``workers`` may ask for more, shared round-robin), or Ray actors, one per GPU of the cluster.
    Without GPUs, the usual CPU pool or CPU tasks.
    """
    _check_placement(placement)
    if name == "serial":
        if env:
            os.environ.update(env)
        return SerialExecutor()
    if name == "process":
        gpus = local_gpu_count() if placement == "per_gpu" else 0
        if gpus:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            ids = [v.strip() for v in visible.split(",")][:gpus] if visible else [str(i) for i in range(gpus)]
            slots = [{"CUDA_VISIBLE_DEVICES": gpu} for gpu in ids]
            return ProcessExecutor(workers=workers, env=env, worker_envs=slots)
        return ProcessExecutor(workers=workers, env=env)
    if name == "ray":
        return RayExecutor(address=address, workers=workers, env=env, placement=placement, **kwargs)
    raise ConfigError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
