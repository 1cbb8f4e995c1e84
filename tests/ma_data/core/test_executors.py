"""Executor placement: per-worker environments in a process pool (one GPU each) and per-GPU Ray actors."""

from __future__ import annotations

import os
import time

import pytest

from ma_data.core.errors import ConfigError
from ma_data.core.executors import ProcessExecutor, RayExecutor, make_executor


def slot_and_pid(delay: float) -> tuple[str | None, int]:
    time.sleep(delay)  # long enough that every worker of the pool gets items
    return os.environ.get("CUDA_VISIBLE_DEVICES"), os.getpid()


def test_each_pool_worker_keeps_its_own_environment():
    slots = [{"CUDA_VISIBLE_DEVICES": "0"}, {"CUDA_VISIBLE_DEVICES": "1"}]
    with ProcessExecutor(worker_envs=slots) as ex:
        assert ex.workers == 2
        out = [o.value for _, o in ex.imap_unordered(slot_and_pid, [(str(i), 0.3) for i in range(8)])]
    by_pid: dict[int, set] = {}
    for slot, pid in out:
        by_pid.setdefault(pid, set()).add(slot)
    assert all(len(s) == 1 for s in by_pid.values())  # a worker never changes GPU
    assert {next(iter(s)) for s in by_pid.values()} == {"0", "1"}  # and the two workers have different ones


def test_per_gpu_placement_without_gpus_is_the_cpu_pool(monkeypatch):
    import ma_data.core.executors as executors

    monkeypatch.setattr(executors, "local_gpu_count", lambda: 0)
    with make_executor("process", workers=3, placement="per_gpu") as ex:
        assert ex.workers == 3 and ex.worker_envs is None
    monkeypatch.setattr(executors, "local_gpu_count", lambda: 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    with make_executor("process", placement="per_gpu") as ex:  # one worker per GPU, the visible ids
        assert ex.workers == 2 and ex.worker_envs == [
            {"CUDA_VISIBLE_DEVICES": "5"},
            {"CUDA_VISIBLE_DEVICES": "7"},
        ]
    with pytest.raises(ConfigError, match="unknown placement 'gpu'"):
        make_executor("serial", placement="gpu")


@pytest.mark.slow
def test_ray_per_gpu_actors_are_persistent_and_pinned(ray_home):
    ray = pytest.importorskip("ray")
    here = os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])  # for slot_and_pid
    ray.init(  # two GPUs as a resource: Ray pins actors to them whether or not they exist
        num_cpus=2,
        num_gpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": here}},
    )
    try:
        with RayExecutor(placement="per_gpu") as ex:
            assert ex.uses_gpus and ex.gpus == 2
            outcomes = [o for _, o in ex.imap_unordered(slot_and_pid, [(str(i), 0.2) for i in range(6)])]
        assert all(o.ok for o in outcomes), [o.error for o in outcomes]
        out = [o.value for o in outcomes]
        by_pid: dict[int, set] = {}
        for slot, pid in out:
            by_pid.setdefault(pid, set()).add(slot)
        assert len(by_pid) <= 2 and all(len(s) == 1 for s in by_pid.values())  # two actors, one GPU each
        assert {next(iter(s)) for s in by_pid.values()} <= {"0", "1"}
    finally:
        ray.shutdown()
