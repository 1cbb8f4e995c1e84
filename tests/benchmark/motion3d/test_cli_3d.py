import json
import pickle

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.motion.protocols3d import METRIC_KEYS, score_3d
from ma_data.core.formats.motion import from_joints_array
from ma_data.core.synthetic import click_track
from ma_data.core.synthetic import synthetic_dance_3d as make_dance

pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")


@pytest.fixture
def dirs(tmp_path, monkeypatch, dance_folders):
    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")
    return dance_folders(tmp_path, n=5)


def _run(*args):
    return CliRunner().invoke(main, ["evaluate-3d", *map(str, args)], catch_exceptions=False)


def _run_on(dirs, out, *args):
    """``evaluate-3d`` on the fixture's GT, generated and beat folders, writing ``out``."""
    gt, pred, beats = dirs
    return _run("--gt", gt, "--pred", pred, "--music-beats", beats, "--out", out, *args)


@pytest.mark.parametrize("protocol", ["bailando3d", "finedance3d"])
def test_cli_matches_score_3d(dirs, tmp_path, protocol):
    gt, pred, beats = dirs
    out = tmp_path / "r.json"
    res = _run_on(dirs, out, "--protocol", protocol, "--n-boot", 0)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert list(data["metrics"]) == list(METRIC_KEYS)
    assert data["protocol"]["name"] == protocol and data["n_samples"] == 5
    load = lambda d: {p.stem: np.load(p) for p in sorted(d.iterdir())}  # noqa: E731
    direct = score_3d(load(gt), load(pred), load(beats), protocol)
    for key in METRIC_KEYS:
        assert data["metrics"][key]["value"] == pytest.approx(direct.metrics[key].value, rel=1e-12)
    assert "FID_k" in res.output


def test_cli_mixed_readers_and_bad_files(dirs, tmp_path):
    gt, pred, beats = dirs
    # the same dance as a Motion Expert style pickle (Z-up joints) and as an npz
    m = from_joints_array(np.load(pred / "000.npy").astype(np.float64)).to_up_axis("z")
    with open(pred / "010.pkl", "wb") as fh:
        pickle.dump({"full_pose": m.joints()}, fh)
    np.save(pred / "bad.npy", np.zeros((3, 5)))
    (pred / "junk.pkl").write_bytes(b"not a pickle")
    np.save(pred / "dup.npy", make_dance(20, 1))
    np.savez(pred / "dup.npz", joints=make_dance(20, 1))
    out = tmp_path / "r.json"
    res = _run_on(dirs, out, "--n-boot", 5, "--plots", tmp_path / "p")
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    reasons = {s["stem"]: s["reason"] for s in data["skipped"]}
    assert set(reasons) == {"pred:bad", "pred:junk", "pred:dup"}
    assert "bad.npy" in reasons["pred:bad"] and "ambiguous" in reasons["pred:dup"]
    assert data["n_samples"] == 6
    assert any("010" in w and "BAS" in w for w in data["warnings"])  # no beats for that stem
    assert data["per_sample"]["010"]["pfc"] == pytest.approx(data["per_sample"]["000"]["pfc"], rel=1e-5)
    assert (tmp_path / "p" / "000.png").is_file()
    assert data["metrics"]["fid_k"]["ci95"][0] is not None


def test_cli_exit_2_when_nothing_usable(dirs, tmp_path):
    gt, _, _ = dirs
    empty = tmp_path / "empty"
    empty.mkdir()
    np.save(empty / "x.npy", np.zeros((4, 4)))
    res = CliRunner().invoke(main, ["evaluate-3d", "--gt", str(gt), "--pred", str(empty)])
    assert res.exit_code == 2
    assert "no readable generated motion" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["evaluate-3d", "--gt", str(tmp_path / "nope"), "--pred", str(gt)])
    assert res.exit_code == 2 and "not a directory" in res.output
    res = CliRunner().invoke(
        main,
        ["evaluate-3d", "--gt", str(gt), "--pred", str(gt), "--music", str(gt), "--music-beats", str(gt)],
    )
    assert res.exit_code == 2


def test_table_command_with_results(dirs, tmp_path):
    out = tmp_path / "r.json"
    _run_on(dirs, out, "--protocol", "finedance3d", "--n-boot", 0)
    res = CliRunner().invoke(main, ["table", "--results", str(out), "--label", "Mine", "--with-gt"])
    assert res.exit_code == 0, res.output
    assert "| Motion Expert (Full) | **17.83** |" in res.output and "*Mine*" in res.output
    assert "Ground Truth (finedance3d)" in res.output
    res = CliRunner().invoke(main, ["table", "--results", str(out), "--format", "latex"])
    assert res.output.startswith("\\begin{table}") and "\\bottomrule" in res.output
    assert "Yours (finedance3d)" in res.output


@pytest.mark.slow
def test_cli_beats_from_music(dirs, tmp_path):
    """``--music`` extracts beats with the protocol's recipe (LODGE's for finedance3d) from <stem>.wav."""
    from ma_data.core.io.audio import write_wav
    from ma_data.core.music_features import beat_vector

    gt, pred, _ = dirs
    music = tmp_path / "music"
    music.mkdir()
    sr = 22050
    y = click_track(120.0, 3.0, sr, offset_s=0.2, drone=0.02)
    for i in range(5):
        write_wav(music / f"{i:03d}.wav", y, sr)
    out = tmp_path / "r.json"
    res = _run(
        "--protocol", "finedance3d", "--gt", gt, "--pred", pred, "--music", music, "--out", out, "--n-boot", 0
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["inputs"]["motion3d"]["music_recipe"] == "lodge"
    beats = {f"{i:03d}": beat_vector(music / f"{i:03d}.wav", recipe="lodge") for i in range(5)}
    load = lambda d: {p.stem: np.load(p) for p in sorted(d.iterdir())}  # noqa: E731
    direct = score_3d(load(gt), load(pred), beats, "finedance3d")
    assert data["metrics"]["bas"]["value"] == pytest.approx(direct.metrics["bas"].value, rel=1e-12)
    assert data["metrics"]["bas"]["value"] > 0


def test_report(dirs, tmp_path):
    gt, pred, beats = dirs
    res = _run(
        "--gt", gt, "--pred", pred, "--music-beats", beats, "--n-boot", 10, "--report", tmp_path / "rep"
    )
    assert res.exit_code == 0, res.output
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Protocol bailando3d v" in page and page.count('<tr data-i="') == 5
    # five beat plots, and one distribution per per-sample metric, each with its GT counterpart
    assert page.count('src="data:image/png;base64,') == 5 + 3
    for label in ("BAS (bas)", "PFC (pfc)", "FSR (fsr)"):
        assert f"{label} — GT vs generated" in page
