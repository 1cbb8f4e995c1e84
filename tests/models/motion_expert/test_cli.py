"""``mace-dance train-motion`` / ``sample-motion`` end to end on a tiny synthetic FineDance directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from ma_data.core.formats.motion import read_motion_pickle
from models.cli import main


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, "-c", "from models.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "train-motion" in out.stdout and "sample-motion" in out.stdout


@pytest.mark.slow
def test_train_resume_and_sample(finedance_dir, other_music, tmp_path):
    run = tmp_path / "run"
    common = ["--finedance", finedance_dir, "--out", run, "--preset", "tiny", "--window", 30, "--stride", 15]
    res = run_cli("train-motion", *common, "--steps", 8, "--log-every", 4, "--save-every", 4)
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 4, 8]
    assert all(np.isfinite(r["loss"]) for r in lines)
    for name in ("last.pt", "normalizer.npz", "config.json"):
        assert (run / name).is_file()

    res = run_cli("train-motion", *common, "--steps", 12, "--log-every", 4)
    assert res.exit_code == 0 and "resuming" in res.output
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [1, 4, 8, 12]

    out = tmp_path / "dance.npz"
    args = ["--ckpt", run / "last.pt", "--music", other_music, "--genre", "hiphop", "--steps", 3, "--seed", 5]
    res = run_cli("sample-motion", *args, "--out", out)
    assert res.exit_code == 0, res.output
    with np.load(out) as z:
        n = round(3.3 * 30)  # the music's length at 30 fps
        assert (
            z["poses"].shape == (n, 24, 3) and z["trans"].shape == (n, 3) and z["joints"].shape == (n, 24, 3)
        )
        assert all(np.isfinite(z[k]).all() for k in ("poses", "trans", "joints"))
        assert float(z["fps"]) == 30.0 and str(z["up_axis"]) == "z"
        first = z["joints"].copy()

    pkl = tmp_path / "dance.pkl"
    res = run_cli("sample-motion", *args, "--out", pkl)  # .pkl -> the official pickle
    assert res.exit_code == 0, res.output
    motion = read_motion_pickle(pkl)
    assert motion.n_frames == n and motion.up_axis == "z"
    np.testing.assert_allclose(motion.joints(), first, atol=1e-4)  # same seed, same dance

    edited = tmp_path / "edited.npz"
    res = run_cli("sample-motion", *args[:-2], "--out", edited, "--edit", "trajectory", "--reference", out)
    assert res.exit_code == 0, res.output
    with np.load(edited) as z, np.load(out) as ref:
        np.testing.assert_allclose(z["trans"][:, :2], ref["trans"][:, :2], atol=1e-4)  # the path is kept
        assert not np.allclose(z["poses"], ref["poses"])  # the body is generated anew
    res = run_cli("sample-motion", *args, "--out", edited, "--edit", "joints")
    assert res.exit_code == 2 and "needs --reference" in res.output
    res = run_cli("sample-motion", *args[:4], "--genre", "Polka", "--out", edited)
    assert res.exit_code == 2 and "unknown genre" in res.output


def test_bad_finedance_dirs_fail_with_one_line(finedance_dir, tmp_path):
    res = CliRunner().invoke(
        main, ["train-motion", "--finedance", str(tmp_path / "none"), "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output

    broken = tmp_path / "fd"
    shutil.copytree(finedance_dir, broken)
    shutil.rmtree(broken / "label_json")
    res = CliRunner().invoke(main, ["train-motion", "--finedance", str(broken), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "label_json" in res.output

    bad = tmp_path / "fd2"
    for sub in ("motion", "music_wav", "label_json"):
        (bad / sub).mkdir(parents=True)
    np.save(bad / "motion" / "001.npy", np.zeros((50, 100), np.float32))
    shutil.copy(finedance_dir / "music_wav" / "001.wav", bad / "music_wav" / "001.wav")
    shutil.copy(finedance_dir / "label_json" / "001.json", bad / "label_json" / "001.json")
    res = CliRunner().invoke(main, ["train-motion", "--finedance", str(bad), "--out", str(tmp_path / "r2")])
    assert res.exit_code == 2 and "001.npy" in res.output and "315" in res.output


def test_sample_rejects_missing_ckpt(other_music, tmp_path):
    res = CliRunner().invoke(
        main,
        ["sample-motion", "--ckpt", str(tmp_path / "x.pt"), "--music", str(other_music), "--genre", "Jazz",
         "--out", str(tmp_path / "o.npz")],
    )  # fmt: skip
    assert res.exit_code == 2 and "x.pt" in res.output
    res = CliRunner().invoke(
        main,
        ["sample-motion", "--ckpt", str(tmp_path / "x.pt"), "--music", str(other_music), "--genre", "Jazz",
         "--out", str(tmp_path / "o.npz"), "--format", "official"],
    )  # fmt: skip
    assert res.exit_code == 2 and "does not match the file name" in res.output


def test_official_ckpt_name_resolves_through_the_weights_cache(other_music, tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    res = CliRunner().invoke(
        main,
        ["sample-motion", "--ckpt", "official", "--music", str(other_music), "--genre", "Jazz",
         "--out", str(tmp_path / "o.npz")],
    )  # fmt: skip
    assert res.exit_code == 2 and "train-3750.pt" in res.output and str(tmp_path / "cache") in res.output
