"""The training loop on the tiny model: both stages, checkpoints, resume, metrics, EMA, exports, inference."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ma_data.core.errors import FormatError
from models.appearance_expert.data import ManifestClips
from models.appearance_expert.inference import AppearanceExpert
from models.appearance_expert.loading import MemoryOptions
from models.appearance_expert.training import TrainConfig, latest_checkpoint, train
from tests.models.appearance_expert.ae_helpers import SEGMENT, H, W


def test_manifest_windows(tiny_manifest):
    ds = ManifestClips(tiny_manifest, n_frames=SEGMENT, fps=8.0, height=H, width=W, face_size=16)
    assert len(ds) == 2
    a, b = ds[0], ds[1]
    assert a.video.shape == (SEGMENT, H, W, 3) and a.pose.shape == (SEGMENT, H, W, 3)
    assert a.face.shape == (SEGMENT, 16, 16, 3) and a.face.max() == 0  # no face keypoints -> null face
    assert b.face.max() > 0  # face crops from the clip's keypoints
    assert a.reference.shape == (H, W, 3) and a.prompt == "视频中的人在跳舞"
    # 24 frames at 16 fps resampled to 8 fps -> 12 frames, a 9-frame window starting at 0..3.
    ds.set_epoch(1)
    assert ds[0].video.shape[0] == SEGMENT


def test_official_csv_columns(tiny_manifest, tmp_path):
    root = tiny_manifest.parent
    csv = root / "metadata.csv"
    pd.DataFrame([{"video": "clip0.mp4", "animate_pose_video": "clip0_pose.mp4", "animate_face_video": None,
                   "prompt": "dance"}]).to_csv(csv, index=False)  # fmt: skip
    ds = ManifestClips(csv, n_frames=SEGMENT, height=H, width=W, face_size=16, split=None)
    assert ds[0].prompt == "dance"
    bad = tmp_path / "bad.parquet"
    pd.DataFrame([{"video_path": "x.mp4"}]).to_parquet(bad)
    with pytest.raises(FormatError, match="pose_video_path"):
        ManifestClips(bad)


@pytest.mark.slow
def test_two_stages_checkpoints_resume_and_inference(tiny_model_dir, tiny_manifest, tmp_path):
    common = dict(manifest=str(tiny_manifest), model_dir=str(tiny_model_dir), height=H, width=W,
                  segment_frames=SEGMENT, max_sequence_length=16, log_every=1, save_every=1,
                  memory={"dtype": "float32"})  # fmt: skip
    s1 = tmp_path / "stage1"
    summary = train(TrainConfig(stage="kinematic", output_dir=str(s1), max_steps=2, ema_decay=0.5, **common))
    assert summary["step"] == 2 and summary["trainable_parameters"] == 24 * 4 * 4 + 24
    assert [json.loads(x)["step"] for x in (s1 / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert latest_checkpoint(s1).name == "step-2"
    summary = train(
        TrainConfig(stage="kinematic", output_dir=str(s1), max_steps=3, resume="latest", **common)
    )
    assert summary["step"] == 3 and latest_checkpoint(s1).name == "step-3"
    assert (s1 / "body_adapter.safetensors").is_file()

    s2 = tmp_path / "stage2"
    summary = train(TrainConfig(stage="aesthetic", output_dir=str(s2), max_steps=1, lora_rank=4,
                                body_adapter=str(s1 / "body_adapter.safetensors"), pose_in_stage2=False,
                                **common))  # fmt: skip
    assert all(".lora_" in n for n in summary["trainable_names"])
    lora = s2 / "lora.safetensors"
    assert lora.is_file()

    expert = AppearanceExpert.from_pretrained(
        tiny_model_dir, body_adapter=s1 / "body_adapter.safetensors", lora=lora, lora_strength=0.5,
        memory=MemoryOptions(dtype="float32"), device="cpu", max_sequence_length=16,
    )  # fmt: skip
    ref = Image.new("RGB", (W, H), (100, 50, 20))
    out = expert.animate(ref, np.zeros((SEGMENT, H, W, 3), np.uint8), height=H, width=W,
                         segment_frames=SEGMENT, steps=2)  # fmt: skip
    assert out.frames.shape == (SEGMENT, H, W, 3)


def test_pose_video_at_another_fps_stays_aligned_in_time(tmp_path):
    from ma_data.core.io.video import write_video

    # Clip at 16 fps, its pose video at 32 fps: both show brightness 8*t for the frame at time t/16 s.
    clip = np.stack([np.full((H, W, 3), 8 * t, np.uint8) for t in range(24)])
    pose = np.stack([np.full((H, W, 3), 8 * (t // 2), np.uint8) for t in range(48)])
    write_video(tmp_path / "c.mp4", clip, fps=16)
    write_video(tmp_path / "p.mp4", pose, fps=32)
    pd.DataFrame([{"video_path": "c.mp4", "pose_video_path": "p.mp4"}]).to_parquet(tmp_path / "m.parquet")
    ds = ManifestClips(tmp_path / "m.parquet", n_frames=SEGMENT, fps=16.0, height=H, width=W, face_size=16)
    item = ds[0]
    np.testing.assert_allclose(item.pose.mean(axis=(1, 2, 3)), item.video.mean(axis=(1, 2, 3)), atol=3)
