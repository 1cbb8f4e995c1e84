"""Batch keypoint extraction: videos -> one dancer's :class:`KeypointTrack` each, cached, never aborting.

Each video is hashed (sha256), looked up in the :class:`~ma_data.core.pose.cache.TrackCache`, and otherwise
decoded with PyAV and run through the chosen backend. A failure on one video (unreadable file, decode error,
backend error) is recorded as a one-line reason for that stem and the batch goes on.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ma_data.core.errors import MaceError, MediaError
from ma_data.core.formats.keypoints import KeypointTrack
from ma_data.core.io.atomic import sha256_file
from ma_data.core.pose.base import PoseBackend
from ma_data.core.pose.cache import TrackCache
from ma_data.core.pose.registry import DEFAULT_BACKEND, get_backend

log = logging.getLogger(__name__)

__all__ = ["extract_tracks", "extract_track"]


def _progress_enabled(progress: bool) -> bool:
    return progress and sys.stderr.isatty() and os.environ.get("MACE_DANCE_NO_PROGRESS", "0") != "1"


def extract_track(
    path: str | os.PathLike, backend: PoseBackend, cache: TrackCache | None = None, progress: bool = False
) -> KeypointTrack:
    """Keypoints of one video with ``backend`` (through ``cache`` when given). Raises on failure.

    ``progress`` shows a per-frame bar (same TTY / ``MACE_DANCE_NO_PROGRESS`` rules as the batch bar).
    """
    from ma_data.core.io.video import iter_frames, probe_video

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    try:
        video_sha = sha256_file(path)
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror or exc})") from None
    key = (video_sha, backend.name, backend.version, backend.weights_hash)
    if cache is not None:
        hit = cache.get(*key)
        if hit is not None:
            hit.meta["video_path"] = str(path)
            return hit
    info = probe_video(path)
    if info.width <= 0 or info.height <= 0:
        raise MediaError(f"{path}: video stream has no frame size")
    frames = iter_frames(path)
    if _progress_enabled(progress):
        from tqdm import tqdm

        frames = tqdm(frames, total=info.n_frames or None, desc=path.name, unit="frame", leave=False)
    track = backend.estimate(
        frames, fps=info.fps or None, width=info.width, height=info.height, n_frames=info.n_frames
    )
    if len(track) == 0:
        raise MediaError(f"{path}: no decodable frames")
    track.source_sha256 = video_sha
    # the cache key must be reproducible from the stored track, whatever the backend filled in
    track.extractor, track.extractor_version, track.weights_hash = backend.name, backend.version, key[3]
    track.meta.setdefault("video_name", path.name)
    if not track.mask.any():
        # Kept, not an error: the official pipeline scores such a video as all-zero keypoints.
        track.meta["warning"] = "no person detected in any frame"
    if cache is not None:
        try:
            cache.put(track, *key)
        except OSError as exc:  # a read-only or full cache must not fail the extraction
            log.warning("could not cache keypoints for %s: %s", path, exc)
    track.meta["video_path"] = str(path)
    return track


def extract_tracks(
    videos: Mapping[str, str | os.PathLike],
    backend_name: str = DEFAULT_BACKEND,
    cache: bool = True,
    progress: bool = True,
    *,
    backend: PoseBackend | None = None,
    cache_root: str | os.PathLike | None = None,
    backend_kwargs: dict[str, Any] | None = None,
) -> tuple[dict[str, KeypointTrack], dict[str, str]]:
    """Extract one dancer's keypoints from every video.

    Args:
        videos: stem -> video path.
        backend_name: ``"mediapipe"`` (default) or ``"vitpose"``; ignored when ``backend`` is given.
        cache: reuse/store tracks in the track cache (keyed by video sha256 + backend + weights hash).
        progress: show a tqdm bar (only on a terminal and unless ``MACE_DANCE_NO_PROGRESS=1``).
        backend: an already-built backend (reused across calls; the caller closes it).
        cache_root: cache directory override (default ``<cache dir>/keypoints``).
        backend_kwargs: options for the backend constructor.

    Returns:
        ``(tracks, errors)``: stem -> :class:`KeypointTrack` for the videos that worked, and stem -> one-line
        reason for those that did not. Every stem of ``videos`` is in exactly one of the two.

    Raises:
        MaceError (e.g. :class:`~ma_data.core.errors.MissingWeightError`) only when the backend itself cannot be
        built — that is not a per-video problem.
    """
    own_backend = backend is None
    if backend is None:
        try:
            backend = get_backend(backend_name, **(backend_kwargs or {}))
        except ImportError as exc:
            raise MaceError(f"pose backend {backend_name!r} is not installed: {exc}") from None
        except ValueError as exc:
            raise MaceError(str(exc)) from None
    track_cache = TrackCache(cache_root) if cache else None
    tracks: dict[str, KeypointTrack] = {}
    errors: dict[str, str] = {}
    items = list(videos.items())
    bar = None
    if _progress_enabled(progress) and items:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc=f"keypoints ({backend.name})", unit="video")
    try:
        for stem, path in items:
            if bar is not None:
                bar.set_postfix_str(stem, refresh=False)
            try:
                tracks[stem] = extract_track(path, backend, track_cache, progress=bar is not None)
            except MaceError as exc:
                errors[stem] = str(exc)
            except Exception as exc:  # a backend crash on one video must not end the batch
                log.debug("keypoint extraction failed for %s", path, exc_info=True)
                errors[stem] = f"{path}: pose extraction failed ({type(exc).__name__}: {exc})".replace(
                    "\n", " "
                )
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own_backend:
            backend.close()
    return tracks, errors
