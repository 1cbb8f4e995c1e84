"""Fixtures of the Appearance-Expert tests: a tiny random Wan-Animate in diffusers layout and a tiny dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ae_helpers import H, W

from ma_data.io.video import write_video


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from models.appearance_expert.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny_wan_animate"))


@pytest.fixture()
def tiny_pipe(tiny_model_dir):
    from models.appearance_expert.loading import MemoryOptions, load_pipeline

    return load_pipeline(tiny_model_dir, MemoryOptions(dtype="float32"))


def _moving_square(n: int, fps_phase: float = 0.0) -> np.ndarray:
    frames = np.zeros((n, H, W, 3), dtype=np.uint8)
    for t in range(n):
        x = int(4 + (t + fps_phase) % 20)
        frames[t, 8:20, x : x + 8] = (200, 120, 40)
    return frames


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory):
    """Two 24-frame, 16-fps clips with aligned pose videos; relative paths, one clip with a face video."""
    root = tmp_path_factory.mktemp("tiny_ma_data")
    rows = []
    for i in range(2):
        video = _moving_square(24, i)
        pose = 255 - video
        write_video(root / f"clip{i}.mp4", video, fps=16)
        write_video(root / f"clip{i}_pose.mp4", pose, fps=16)
        face = None
        if i == 1:
            write_video(root / f"clip{i}_face.mp4", np.full((24, 16, 16, 3), 90, np.uint8), fps=16)
            face = f"clip{i}_face.mp4"
        rows.append(
            {
                "clip_id": f"c{i}",
                "video_path": f"clip{i}.mp4",
                "pose_video_path": f"clip{i}_pose.mp4",
                "face_video_path": face,
                "prompt": "the person is dancing",
                "split": "train",
            }
        )
    path = root / "manifest.parquet"
    pd.DataFrame(rows).to_parquet(path)
    return path
