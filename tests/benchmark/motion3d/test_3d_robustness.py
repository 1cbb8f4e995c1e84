"""`mace-bench evaluate-3d` on hostile and degenerate input: bad items are named and skipped, blown-up FIDs
and BAS without music beats are reported, small samples warned about."""

import json
import os
import pickle

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.motion.protocols3d import score_3d
from ma_data.core.synthetic import synthetic_dance_3d as make_dance

pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")


@pytest.fixture(autouse=True)
def _no_progress(monkeypatch):
    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")


def _sets(tmp_path, n=6, frames=120, noise=None):
    gt, pred, beats = tmp_path / "gt", tmp_path / "pred", tmp_path / "beats"
    for d in (gt, pred, beats):
        d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        g = make_dance(frames, i).astype(np.float32)
        p = g + rng.normal(scale=noise, size=g.shape) if noise else make_dance(frames, 50 + i)
        np.save(gt / f"{i:03d}.npy", g)
        np.save(pred / f"{i:03d}.npy", p.astype(np.float32))
        v = np.zeros(frames + 20, np.float32)
        v[i % 7 :: 12] = 1
        np.save(beats / f"{i:03d}.npy", v)
    return gt, pred, beats


def _run(*args):
    return CliRunner().invoke(main, ["evaluate-3d", *map(str, args)])


def test_gt_plus_noise_fid_blowup_is_flagged_with_its_cause(tmp_path):
    """GT + 1 cm noise: the boolean geometric features 12 and 13 never fire in GT (std 0) and fire once in a
    noisy copy; Bailando's GT-std + 1e-10 normalisation scales that to ~1e7, so FID_g reaches ~1e15. The
    number is kept (parity) but flagged in the results and the printed table."""
    gt, pred, _ = _sets(tmp_path, n=8, noise=0.01)
    out = tmp_path / "r.json"
    run = _run("--gt", gt, "--pred", pred, "--n-boot", 0, "--out", out)
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    fid_g = doc["metrics"]["fid_g"]
    assert fid_g["value"] > 1e12
    text = " ".join(fid_g["warnings"])
    assert "constant over the GT set" in text and "(12, 13)" in text and "sanity bound" in text
    assert doc["metrics"]["div_g"]["warnings"] and not doc["metrics"]["fid_k"].get("warnings")
    row = next(line for line in run.output.splitlines() if line.startswith("| FID_g |"))
    assert "⚠" in row and "sanity bound" in run.output


def test_small_samples_are_warned_about(tmp_path):
    gt, pred, beats = _sets(tmp_path, n=2)
    out = tmp_path / "r.json"
    assert (
        _run("--gt", gt, "--pred", pred, "--music-beats", beats, "--n-boot", 0, "--out", out).exit_code == 0
    )
    warnings = json.loads(out.read_text())["warnings"]
    assert any("only 2 GT / 2 generated samples for 72-d kinetic" in w for w in warnings)


def test_hostile_files_are_named_and_skipped(tmp_path):
    gt, pred, beats = _sets(tmp_path, n=4)
    with open(pred / "str.pkl", "wb") as fh:
        pickle.dump("just a string", fh)
    (pred / "dir.npy").mkdir()
    os.mkfifo(pred / "pipe.npy")
    os.symlink("loop.npy", pred / "loop.npy")
    np.save(beats / "001.npy", np.array(["a", "b"]))  # a beat file of strings
    np.savez(pred / "fast.npz", joints=make_dance(60, 9), fps=np.asarray(1e-6))
    out = tmp_path / "r.json"
    run = _run("--gt", gt, "--pred", pred, "--music-beats", beats, "--n-boot", 0, "--out", out)
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    reasons = {item["stem"]: item["reason"] for item in doc["skipped"]}
    assert "str.pkl" in reasons["pred:str"]
    assert "folder" in reasons["pred:dir"] and "FIFO" in reasons["pred:pipe"]
    assert "symlink loop" in reasons["pred:loop"] and "1e-06 fps" in reasons["pred:fast"]
    assert any("001.npy" in w and "music beats" in w for w in doc["warnings"])
    assert doc["n_samples"] == 4 and "bas" not in doc["per_sample"]["001"]


def _beat_cases(tmp_path):
    gt, pred, beats = _sets(tmp_path, n=5)
    np.save(beats / "000.npy", np.zeros(140, np.float32))  # beatless music
    short = np.zeros(30, np.float32)
    short[::10] = 1
    np.save(beats / "001.npy", short)  # 1 s of beats for a 4 s dance
    return gt, pred, beats


def test_strict_bas_is_undefined_without_music_beats(tmp_path):
    gt, pred, beats = _beat_cases(tmp_path)
    out = tmp_path / "r.json"
    run = _run("--protocol", "bailando3d-strict", "--gt", gt, "--pred", pred, "--music-beats", beats,
               "--n-boot", 0, "--out", out)  # fmt: skip
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    for stem in ("000", "001"):
        assert doc["per_sample"][stem]["bas"] is None and doc["per_sample"][stem]["bas_gt"] is None
    defined = [doc["per_sample"][s]["bas"] for s in ("002", "003", "004")]
    assert doc["metrics"]["bas"]["value"] == pytest.approx(np.mean(defined), rel=1e-12)
    undefined = doc["extra"]["bailando3d-strict"]["bas_undefined"]
    assert "beatless" in undefined["000"] and "covers 30 frames" in undefined["001"]


def test_parity_bas_keeps_the_reference_and_warns(tmp_path):
    gt, pred, beats = _beat_cases(tmp_path)
    load = lambda d: {p.stem: np.load(p) for p in sorted(d.iterdir())}  # noqa: E731
    report = score_3d(load(gt), load(pred), load(beats), "bailando3d")
    assert report.per_sample["000"]["bas"] == 0.0  # the reference's 0, averaged in
    assert report.metrics["bas"].value == pytest.approx(
        np.mean([report.per_sample[s]["bas"] for s in sorted(report.per_sample)]), rel=1e-12
    )
    warning = next(w for w in report.warnings if w.startswith("BAS of 2 sample(s)"))
    assert "000" in warning and "001" in warning
