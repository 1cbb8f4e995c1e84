"""`mace-bench evaluate --pred videos --gt videos`: real pose estimation (mediapipe) on real footage."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from ma_data.core.io.video import write_video
from ma_data.core.synthetic import click_track

MESSI = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
FPS, N = 16, 64
SR = 22050


def _dancing_frames(image, bpm, rng, off_beat=False):
    """The photo slides between two positions once per beat (smoothstep), pausing on the beats."""
    h, w = image.shape[:2]
    pad, travel = 24, 40
    period = 60 / bpm * FPS
    u = np.arange(N) / period + (0.5 if off_beat else 0.0)
    frac = u - np.floor(u)
    s = frac * frac * (3 - 2 * frac)
    x = np.where(np.floor(u) % 2 == 0, s, 1 - s) * travel + rng.normal(0, 0.5, N)
    frames = []
    for dx in np.round(x).astype(int):
        canvas = np.full((h + 2 * pad, w + 2 * pad + travel, 3), 127, np.uint8)
        canvas[pad : pad + h, pad + dx : pad + dx + w] = image
        frames.append(canvas[: canvas.shape[0] // 2 * 2, : canvas.shape[1] // 2 * 2])
    return frames


def _scored(doc: dict) -> dict:
    """Everything a results file says about the dances (not when or where it ran)."""
    return {k: v for k, v in doc.items() if k not in ("created_utc", "environment", "command")}


@pytest.mark.slow
def test_videos_in_results_out(tmp_path, monkeypatch, ray_home):  # ray_home: a Ray run below
    if not MESSI.exists():
        pytest.skip(f"{MESSI} not found: install the Debian package opencv-doc (make setup does)")
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("mediapipe")
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    image = np.ascontiguousarray(cv2.imread(str(MESSI))[:, :, ::-1])
    rng = np.random.default_rng(0)
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    for i, bpm in enumerate((100.0, 120.0, 90.0)):
        music = click_track(bpm, N / FPS, SR, offset_s=0.0)
        write_video(gt_dir / f"clip{i}.mp4", _dancing_frames(image, bpm, rng), FPS, audio=music, audio_sr=SR)
        write_video(pred_dir / f"clip{i}.mp4", _dancing_frames(image, bpm, rng, off_beat=True), FPS)
    # Bad inputs: an unreadable generated video, and a GT video without an audio track.
    write_video(gt_dir / "broken.mp4", _dancing_frames(image, 100.0, rng), FPS, audio=music, audio_sr=SR)
    (pred_dir / "broken.mp4").write_bytes(b"\x00" * 1000)
    write_video(gt_dir / "silent.mp4", _dancing_frames(image, 100.0, rng), FPS)
    write_video(pred_dir / "silent.mp4", _dancing_frames(image, 100.0, rng), FPS)

    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        main,
        ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out), "--n-boot", "20"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    # the keypoints extracted by a pool of worker processes, and on Ray, give the same results
    for executor in ("process", "ray"):
        if executor == "ray":
            pytest.importorskip("ray")
        spread = tmp_path / f"results-{executor}.json"
        args = [
            "--no-cache",
            "--executor",
            executor,
            "--workers",
            "2",
            "--out",
            str(spread),
            "--n-boot",
            "20",
        ]
        result = CliRunner().invoke(
            main, ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), *args], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        assert _scored(json.loads(spread.read_text())) == _scored(doc)
    assert doc["n_samples"] == 3
    reasons = {item["stem"]: item["reason"] for item in doc["skipped"]}
    assert set(reasons) == {"broken", "silent"}
    assert "broken.mp4" in reasons["broken"] and "no audio track" in reasons["silent"]
    # The GT footage pauses on the beats and the generated one half a beat later.
    assert doc["metrics"]["bas_gt"]["value"] > doc["metrics"]["bas"]["value"]
    assert all(np.isfinite(v["value"]) for v in doc["metrics"].values() if v["value"] is not None)
