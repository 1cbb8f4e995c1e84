"""Frame decoding for the appearance dimensions.

VBench decodes with two different readers and the numbers depend on which one:

* ``temporal_flickering`` reads every frame with ``cv2.VideoCapture`` (BGR, uint8, native size).
* the model-backed dimensions read with ``vbench.utils.load_video`` (decord for ``.mp4``, PIL for ``.gif``
  and ``.png``), RGB uint8 at native size, every frame.

We use OpenCV for both: it is the exact reader for TF (and for motion smoothness, which VBench also reads
with OpenCV), so one decode per video serves every dimension (the RGB view is the channel-reversed BGR
array). For the decord-read dimensions this assumes decord yields the same pixels: all three readers go
through FFmpeg's decoder and swscale conversion; PyAV and OpenCV 4.10/5.0 gave identical bytes on our H.264
test clips, decord could not be checked here. GIF/PNG inputs, which VBench reads with PIL for those
dimensions, may differ slightly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmark.inputs import InputRule, list_by_stem
from ma_data.core.errors import MediaError

#: Suffixes VBench's ``custom_input`` mode picks up from a directory (compared lower-cased).
VBENCH_SUFFIXES = (".mp4", ".gif", ".jpg", ".png")


#: VBench's ``custom_input`` selection as an input rule: every file counts (hidden ones too); a stem seen
#: twice (``a.mp4``, ``a.gif``) is keyed by its file name the second time.
VBENCH_RULE = InputRule(VBENCH_SUFFIXES, case_sensitive=False, hidden=True, keep_duplicates=True)


def collect_videos(
    directory: str | Path, problems: dict[str, str] | None = None, what: str = "video"
) -> dict[str, Path]:
    """Videos of ``directory`` as VBench ``custom_input`` selects them: stem -> path, sorted by name.

    VBench takes every file whose suffix (lower-cased) is .mp4/.gif/.jpg/.png; subdirectories are ignored.
    Entries named like videos that are not regular files (FIFOs, symlink loops) go to ``problems``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise MediaError(f"{directory}: not a directory of videos")
    return list_by_stem(directory, VBENCH_RULE, what, problems=problems)


def _import_cv2():
    try:
        import cv2
    except ImportError as e:  # pragma: no cover - opencv comes with the pose extra
        raise MediaError(
            "OpenCV (cv2) is required to decode videos exactly as VBench does; "
            "install opencv-python-headless (it ships with mediapipe in the 'pose' extra)"
        ) from e
    return cv2


def iter_frames_bgr(path: str | Path) -> Iterator[np.ndarray]:
    """Yield every frame of ``path`` as VBench's ``cv2.VideoCapture`` loop does: BGR uint8 (H, W, 3).

    Reading stops at the first failed ``read()``, exactly like VBench (a decode error mid-file truncates
    the video rather than failing it).
    """
    cv2 = _import_cv2()
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    cap = cv2.VideoCapture(str(path))
    try:
        while cap.isOpened():
            ok, frame = cap.read()
            if not ok:
                break
            yield frame
    finally:
        cap.release()


def read_frames_bgr(path: str | Path) -> np.ndarray:
    """All frames of ``path`` as one (T, H, W, 3) BGR uint8 array; raises MediaError if none decode."""
    frames = list(iter_frames_bgr(path))
    if not frames:
        raise MediaError(f"{path}: OpenCV decoded no frames (unreadable or empty video)")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise MediaError(f"{path}: frame size changes mid-video ({sorted(shapes)})")
    return np.stack(frames)
