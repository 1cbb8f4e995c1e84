"""The cascade end to end on the CPU with tiny random models: music + photo -> motion -> pose video -> video."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ma_data.core.io.audio import write_wav
from ma_data.core.io.video import probe_video, read_video
from ma_data.core.synthetic import click_track


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A generated 1.5-s click-track song, a reference photo and a tiny random Motion Expert checkpoint."""
    from models.motion_expert.checkpoint import save_checkpoint
    from models.motion_expert.denoiser import DenoiserConfig, MotionDenoiser
    from models.motion_expert.normalizer import MinMaxNormalizer

    root = tmp_path_factory.mktemp("cascade")
    sr = 22050
    write_wav(root / "song.wav", click_track(120.0, 1.5, sr, click_hz=220.0), sr)
    Image.fromarray(np.full((48, 32, 3), (30, 140, 200), np.uint8)).save(root / "photo.png")
    import torch

    torch.manual_seed(0)
    cfg = DenoiserConfig(width=32, ff_size=64, num_heads=2, dance_layers=1, music_layers=1, d_state=4)
    model = MotionDenoiser(cfg)
    rng = np.random.default_rng(0)
    normalizer = MinMaxNormalizer.fit(rng.normal(size=(100, cfg.nfeats)).astype(np.float32) * 0.1)
    state = model.state_dict()
    save_checkpoint(
        root / "motion.pt",
        config=cfg.to_dict(),
        model_state_dict=state,
        ema_state_dict=state,
        normalizer=normalizer.state_dict(),
    )
    return root


@pytest.mark.slow
def test_generate_appearance_none_cli(inputs, tmp_path):
    from models.cli import main

    out = tmp_path / "dance.mp4"
    args = ["generate", "--music", str(inputs / "song.wav"), "--ref", str(inputs / "photo.png"),
            "--genre", "Hiphop", "--out", str(out), "--appearance", "none", "--motion-ckpt",
            str(inputs / "motion.pt"), "--motion-steps", "3", "--resolution", "64x48", "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    work = tmp_path / "dance_cascade"
    for name in ("motion.npz", "pose_video.mp4", "reference.png", "cascade.json"):
        assert (work / name).is_file(), name
    record = json.loads((work / "cascade.json").read_text())
    assert record["skipped"]["appearance"] == "--appearance none"
    pose = probe_video(work / "pose_video.mp4")
    assert (pose.width, pose.height) == (48, 64) and pose.fps == pytest.approx(16.0)
    # 1.5 s of music -> 45 motion frames at 30 fps -> 24 pose frames at 16 fps (resampled, same duration).
    assert record["motion"]["n_frames"] == 45 and pose.n_frames == 24
    assert pose.has_audio
    assert out.is_file() and probe_video(out).has_audio


def test_generate_errors_are_one_line(inputs, tmp_path):
    from models.cli import main

    args = ["generate", "--music", str(inputs / "song.wav"), "--ref", str(tmp_path / "missing.png"),
            "--genre", "Hiphop", "--out", str(tmp_path / "x.mp4"), "--appearance", "none",
            "--motion-ckpt", str(inputs / "motion.pt")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "missing.png" in result.output and "Traceback" not in result.output
    args[args.index("--motion-ckpt") + 1] = str(tmp_path / "nope.pt")
    args[args.index("--ref") + 1] = str(inputs / "photo.png")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "nope.pt" in result.output


@pytest.mark.slow
def test_cascade_with_tiny_appearance_expert(inputs, tmp_path):
    from models.appearance_expert.tiny import save_tiny_model
    from models.cascade import CascadeConfig, run_cascade

    model_dir = save_tiny_model(tmp_path / "tiny_wan")
    out = tmp_path / "video.mp4"
    cfg = CascadeConfig(
        music=str(inputs / "song.wav"), reference=str(inputs / "photo.png"), genre="Jazz", out=str(out),
        motion_ckpt=str(inputs / "motion.pt"), motion_steps=3, model_dir=str(model_dir), height=32, width=32,
        steps=2, segment_frames=9, mannequin=False, max_sequence_length=16, memory={"dtype": "float32"},
    )  # fmt: skip
    record = run_cascade(cfg)
    frames, fps = read_video(out)
    assert frames.shape == (24, 32, 32, 3) and fps == pytest.approx(16.0)
    assert probe_video(out).has_audio
    # 24 frames in 9-frame segments sharing 1 relay frame: starts 0, 8, 16.
    assert [s["start"] for s in record["appearance"]["segments"]] == [0, 8, 16]
    assert record["appearance"]["face"] == "null"
    assert "mannequin" not in record["outputs"]
