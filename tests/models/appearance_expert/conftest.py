"""Fixtures of the Appearance-Expert tests: a tiny random Wan-Animate in diffusers layout and a tiny dataset."""

from __future__ import annotations

import numpy as np
import pytest

from ma_data.core.io.video import write_video
from tests.models.appearance_expert.ae_helpers import H, W


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


def _row(i: int, **paths) -> dict:
    """A full MA-Data manifest row (ma_data.manifest schema) for a 24-frame 16-fps clip."""
    return {
        "clip_id": f"render-s{i}-000000-0024", "subset": "render", "source_id": f"s{i}",
        "source_uri": f"sample://{i}", "start_s": 0.0, "end_s": 1.5, "start_frame": 0, "end_frame": 24,
        "n_frames": 24, "fps": 16.0, "width": W, "height": H, "duration_s": 1.5, "genre": "Jazz",
        "split": "train", "video_path": None, "audio_path": None, "music_features_path": None,
        "motion_path": None, "keypoints_path": None, "pose_video_path": None, "sha256": "0" * 64,
        "license": "CC-BY-4.0", "provenance": None, "status": "ok", "error": None, **paths,
    }  # fmt: skip


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory):
    """An MA-Data manifest of two 24-frame 16-fps clips with pose videos; clip 1 has face keypoints."""
    from ma_data.core.formats.keypoints import KeypointTrack, save_npz
    from ma_data.manifest import write_manifest

    root = tmp_path_factory.mktemp("tiny_ma_data")
    rows = []
    for i in range(2):
        video = _moving_square(24, i)
        write_video(root / f"clip{i}.mp4", video, fps=16)
        write_video(root / f"clip{i}_pose.mp4", 255 - video, fps=16)
        paths = {"video_path": f"clip{i}.mp4", "pose_video_path": f"clip{i}_pose.mp4"}
        if i == 1:
            kp = np.zeros((24, 25, 3), np.float32)
            kp[:, 0] = (16, 12, 1)  # nose, eyes, ears of a small face near the top
            kp[:, 1], kp[:, 2], kp[:, 3], kp[:, 4] = (18, 10, 1), (14, 10, 1), (20, 11, 1), (12, 11, 1)
            save_npz(root / "clip1_kp.npz", KeypointTrack(kp, fps=16.0, width=W, height=H))
            paths["keypoints_path"] = "clip1_kp.npz"
        rows.append(_row(i, **paths))
    return write_manifest(root / "manifest.parquet", rows)
