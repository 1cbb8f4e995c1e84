"""Official-format keypoint JSON through `mace-bench evaluate` reproduces the official FID/Div and drop rules."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from ma_data.core.synthetic import click_track
from tests.benchmark.motion.mace2d_golden import DATA, OFFICIAL_GOLDEN

# Official Evaluation-Motion numbers on these keypoints (see mace2d_golden.py); BAS depends on the audio.
GOLDEN = {k: v for k, v in OFFICIAL_GOLDEN.items() if not k.startswith("bas")}


@pytest.mark.slow  # librosa beat tracking on 11 clips
def test_cli_on_official_json(tmp_path, monkeypatch):
    from ma_data.core.io.video import write_video

    monkeypatch.setenv("MACE_DANCE_NO_PROGRESS", "1")
    d = np.load(DATA)
    dirs = {k: tmp_path / k for k in ("gt", "pred", "audio")}
    for p in dirs.values():
        p.mkdir()
    sr = 16000
    clicks = click_track(120.0, 5.0, sr, click_hz=440.0)
    frames = [np.zeros((16, 16, 3), np.uint8)] * 80  # the official script reads GT audio from GT .mp4 videos
    for i in range(d["gt"].shape[0]):
        stem = f"clip{i:02d}"
        for side, arr in (("gt", d["gt"][i]), ("pred", d["pred"][i])):
            doc = {"video_name": f"{stem}.mp4", "fps": 16.0, "keypoints": arr.astype(np.float64).tolist()}
            (dirs[side] / f"{stem}.json").write_text(json.dumps(doc))
        write_video(dirs["audio"] / f"{stem}.mp4", frames, 16, audio=clicks, audio_sr=sr)
    # one stem too short (dropped, as officially) and one without audio
    (dirs["gt"] / "short.json").write_text(json.dumps({"keypoints": d["gt"][0][:63].tolist()}))
    (dirs["pred"] / "short.json").write_text(json.dumps({"keypoints": d["pred"][0].tolist()}))
    write_video(dirs["audio"] / "short.mp4", frames, 16, audio=clicks, audio_sr=sr)
    (dirs["gt"] / "lonely.json").write_text(json.dumps({"keypoints": d["gt"][1].tolist()}))
    out = tmp_path / "results.json"
    args = ["evaluate", "--protocol", "mace2d-official", "--gt-keypoints", str(dirs["gt"])]
    args += ["--pred-keypoints", str(dirs["pred"]), "--audio", str(dirs["audio"])]
    args += ["--out", str(out), "--n-boot", "0"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["n_samples"] == 10
    skipped = {s["stem"]: s["reason"] for s in doc["skipped"]}
    assert set(skipped) == {"short", "lonely"} and "63 frames < 64" in skipped["short"]
    for key, expected in GOLDEN.items():
        assert doc["metrics"][key]["value"] == pytest.approx(expected, rel=1e-6), key
