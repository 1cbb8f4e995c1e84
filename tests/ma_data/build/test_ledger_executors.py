"""Ledger and executor contract tests (no rendering involved)."""

from __future__ import annotations

import math
import operator
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ma_data.build import Ledger, make_executor, run_stage, sweep_temp_files


def test_ledger_lifecycle(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        assert led.register("s", {"a": {"x": 1}, "b": None}) == 2
        assert led.register("s", {"a": {"x": 2}}) == 0  # idempotent, payload kept
        assert led.get("s", "a").payload == {"x": 1}
        led.start("s", "a")
        led.finish("s", "a", {"row": 1})
        led.start("s", "b")
        led.fail("s", "b", "ValueError", "bad")
        assert led.counts("s")["s"] == {"pending": 0, "running": 0, "done": 1, "failed": 1}
        assert led.todo("s", max_attempts=3) == ["b"]
        assert led.todo("s", max_attempts=1) == []
        rec = led.get("s", "b")
        assert (rec.error_class, rec.error, rec.attempts) == ("ValueError", "bad", 1)
        led.set_meta("config", {"k": 1})
    # reopen: state persisted
    with Ledger(tmp_path / "l.sqlite") as led:
        assert led.get("s", "a").result == {"row": 1}
        assert led.get_meta("config") == {"k": 1}
        led.reset("s", ["b"])
        assert led.get("s", "b").status == "pending"


def test_interrupted_running_items_are_redone(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        led.register("s", ["a"])
        led.start("s", "a")  # driver "killed" here
    with Ledger(tmp_path / "l.sqlite") as led:
        assert led.todo("s") == ["a"]


@pytest.mark.parametrize("name", ["serial", "process"])
def test_executor_results_and_errors(name):
    items = [(f"i{k}", float(k)) for k in range(-2, 6)]
    with make_executor(name, workers=2) as ex:
        out = dict(ex.imap_unordered(math.sqrt, items))
    assert set(out) == {i for i, _ in items}
    for item_id, payload in items:
        o = out[item_id]
        if payload < 0:
            assert not o.ok and o.error_class == "ValueError" and "math domain" in o.error
        else:
            assert o.ok and o.value == pytest.approx(math.sqrt(payload))


@pytest.mark.slow
def test_ray_executor_local(ray_home):
    pytest.importorskip("ray")
    items = [(f"i{k}", k) for k in range(6)]
    with make_executor("ray", workers=2) as ex:
        out = dict(ex.imap_unordered(operator.neg, items))
        bad = dict(ex.imap_unordered(math.sqrt, [("neg", -1.0)]))
    assert {k: o.value for k, o in out.items()} == {f"i{k}": -k for k in range(6)}
    assert bad["neg"].error_class == "ValueError"


def test_run_stage_idempotent_and_retries(tmp_path):
    led = Ledger(tmp_path / "l.sqlite")
    items = {f"i{k}": float(k) for k in (-1, 1, 4)}
    with make_executor("serial") as ex:
        rep = run_stage(led, "sqrt", math.sqrt, items, ex, max_attempts=2, progress=False)
        assert (rep.n_run, rep.n_done, rep.n_failed) == (3, 2, 1)
        assert rep.failures[0][:2] == ("i-1", "ValueError")
        rep = run_stage(led, "sqrt", math.sqrt, items, ex, max_attempts=2, progress=False)
        assert rep.n_run == 1  # only the failed item is retried
        rep = run_stage(led, "sqrt", math.sqrt, items, ex, max_attempts=2, progress=False)
        assert rep.n_run == 0  # attempts exhausted; done items never re-run
    assert led.get("sqrt", "i-1").attempts == 2
    assert led.get("sqrt", "i4").result == 2.0


_DRIVER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from ma_data.build import Ledger, make_executor, run_stage, sweep_temp_files

    out = Path(sys.argv[1])
    def work(k):
        dst = out / f"{k:03d}.txt"
        tmp = out / f".{k:03d}.txt.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write("start-")
            f.flush()
            time.sleep(0.05)
            f.write(f"{k * k}")
        os.replace(tmp, dst)
        return {"path": dst.name, "value": k * k}

    sweep_temp_files(out)
    led = Ledger(out / "ledger.sqlite")
    with make_executor("serial") as ex:
        run_stage(led, "sq", work, {f"{k:03d}": k for k in range(40)}, ex, progress=False)
    print("finished")
    """
)


def test_sigkill_and_resume(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(_DRIVER)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "MACE_DANCE_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(out)], env=env)
    deadline = time.time() + 60
    while len(list(out.glob("*.txt"))) < 8 and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(list(out.glob("[0-9]*.txt")))
    assert 0 < n_before < 40
    res = subprocess.run([sys.executable, str(script), str(out)], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in out.iterdir() if p.suffix == ".txt")
    assert files == [f"{k:03d}.txt" for k in range(40)]  # no temporaries, no duplicates
    for k in range(40):
        assert (out / f"{k:03d}.txt").read_text() == f"start-{k * k}"
    led = Ledger(out / "ledger.sqlite")
    assert led.counts("sq")["sq"]["done"] == 40
    assert all(r.result["value"] == int(r.item_id) ** 2 for r in led.records("sq"))
    assert sweep_temp_files(out) == 0


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_pool_workers_exit_when_the_driver_is_killed(tmp_path):
    script = tmp_path / "pool.py"
    script.write_text(
        "import time\nfrom ma_data.build import make_executor\n"
        "if __name__ == '__main__':\n"
        "    with make_executor('process', workers=2) as ex:\n"
        "        list(ex.imap_unordered(time.sleep, [(str(k), 60.0) for k in range(2)]))\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)])
    deadline = time.time() + 60
    workers: list[int] = []
    while time.time() < deadline and len(workers) < 2:
        workers = [p for p in _children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        time.sleep(0.1)
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "orphaned pool workers outlived their driver"
