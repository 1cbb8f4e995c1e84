"""Batch keypoint extraction: videos -> one dancer's :class:`KeypointTrack` each, cached, never aborting.

Each video is hashed (sha256), looked up in the :class:`~ma_data.core.pose.cache.TrackCache`, and otherwise
decoded with PyAV and run through the chosen backend. A failure on one video (unreadable file, decode error,
backend error) is recorded as a one-line reason for that stem and the batch goes on.

Videos can be spread over processes or a Ray cluster (``executor="process" | "ray"``, one video per task, see
:mod:`ma_data.core.executors`): each worker builds the backend once and keeps it for the videos it gets;
GPU backends get one worker per GPU, CPU backends (MediaPipe) one per core. Workers hand each track back as
the bytes of its ``.npz`` (read back with the same checks as a cached file), so the tracks, the per-video
errors and the cache entries are the ones a serial run gives.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ma_data.core import errors as core_errors
from ma_data.core.errors import ConfigError, MaceError, MediaError
from ma_data.core.executors import Executor, make_executor
from ma_data.core.formats.keypoints import KeypointTrack, track_from_bytes, track_to_bytes
from ma_data.core.io.atomic import sha256_file
from ma_data.core.pose.base import PoseBackend
from ma_data.core.pose.cache import TrackCache
from ma_data.core.pose.registry import DEFAULT_BACKEND, uses_gpu
from ma_data.core.progress import progress_bar

log = logging.getLogger(__name__)

__all__ = ["extract_tracks", "extract_track", "extract_task", "extraction_executor"]


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
    decoded = iter_frames(path, **backend.decode_options(info.width, info.height))
    with contextlib.closing(decoded):  # a backend that fails mid-video stops the decoder threads here
        frames = progress_bar(
            decoded, progress, total=info.n_frames or None, desc=path.name, unit="frame", leave=False
        )
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


def build_backend(name: str, kwargs: dict[str, Any] | None = None) -> PoseBackend:
    """``get_backend`` with a missing package or a bad option as a :class:`MaceError`."""
    from ma_data.core.pose import registry  # looked up at call time (tests stand a backend in)

    try:
        return registry.get_backend(name, **(kwargs or {}))
    except ImportError as exc:
        raise MaceError(f"pose backend {name!r} is not installed: {exc}") from None
    except ValueError as exc:
        raise MaceError(str(exc)) from None


def _extract_or_error(
    path: str | os.PathLike, backend: PoseBackend, cache: TrackCache | None, progress: bool
) -> tuple[KeypointTrack | None, str | None]:
    """One video's track, or the one-line reason it has none."""
    try:
        return extract_track(path, backend, cache, progress=progress), None
    except MaceError as exc:
        return None, str(exc)
    except Exception as exc:  # a backend crash on one video must not end the batch
        log.debug("keypoint extraction failed for %s", path, exc_info=True)
        return None, f"{path}: pose extraction failed ({type(exc).__name__}: {exc})".replace("\n", " ")


#: Backends built in this (worker) process, by name and options: a model loads once per worker.
_WORKER_BACKENDS: dict[str, PoseBackend] = {}


def extract_task(payload: dict[str, Any]) -> dict[str, Any]:
    """One video in a worker (the executors' task function): ``{"track": npz bytes}`` or ``{"error": reason}``,
    or ``{"fatal": message, "error_class": name}`` when the backend itself cannot be built."""
    key = json.dumps([payload["backend"], payload["kwargs"]], sort_keys=True)
    backend = _WORKER_BACKENDS.get(key)
    if backend is None:
        try:
            backend = build_backend(payload["backend"], payload["kwargs"])
        except MaceError as exc:
            return {"fatal": str(exc), "error_class": type(exc).__name__}
        _WORKER_BACKENDS[key] = backend
    cache = TrackCache(payload["cache_root"]) if payload["cache"] else None
    track, error = _extract_or_error(payload["path"], backend, cache, progress=False)
    out = {"error": error} if track is None else {"track": track_to_bytes(track)}
    return {**out, "backend": backend.describe()}


def extraction_executor(
    executor: str, backend_name: str, backend_kwargs: dict[str, Any] | None = None, workers=None, address=None
) -> Executor:
    """The executor ``extract_tracks`` would make for ``executor``: GPU backends one worker (or Ray actor)
    per GPU, CPU backends one single-threaded worker per core. For callers that run several batches on
    one pool (the caller closes it)."""
    placement = "per_gpu" if uses_gpu(backend_name, backend_kwargs) else "cpu"
    # CPU backends: one single-threaded worker per core (MediaPipe's graph already runs on one thread)
    env = {} if placement == "per_gpu" else {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return make_executor(executor, workers=workers, address=address, env=env, placement=placement)


def _fatal(message: str, error_class: str) -> MaceError:
    """The worker's backend error as the same :class:`MaceError` subclass (MissingWeightError, ...)."""
    cls = getattr(core_errors, error_class, MaceError)
    return (cls if isinstance(cls, type) and issubclass(cls, MaceError) else MaceError)(message)


def extract_tracks(
    videos: Mapping[str, str | os.PathLike],
    backend_name: str = DEFAULT_BACKEND,
    cache: bool = True,
    progress: bool = True,
    *,
    backend: PoseBackend | None = None,
    cache_root: str | os.PathLike | None = None,
    backend_kwargs: dict[str, Any] | None = None,
    executor: str | Executor = "serial",
    workers: int | None = None,
    address: str | None = None,
    backend_info: dict[str, Any] | None = None,
) -> tuple[dict[str, KeypointTrack], dict[str, str]]:
    """Extract one dancer's keypoints from every video.

    Args:
        videos: stem -> video path.
        backend_name: ``"mediapipe"`` (default) or ``"vitpose"``; ignored when ``backend`` is given.
        cache: reuse/store tracks in the track cache (keyed by video sha256 + backend + weights hash).
        progress: show a tqdm bar (only on a terminal and unless ``MACE_DANCE_NO_PROGRESS=1``).
        backend: an already-built backend (reused across calls; the caller closes it). Serial only.
        cache_root: cache directory override (default ``<cache dir>/keypoints``).
        backend_kwargs: options for the backend constructor (JSON-like values: workers rebuild it).
        executor: ``"serial"`` (this process), ``"process"`` (a local pool: one worker per core for CPU
            backends, one per GPU for GPU backends), ``"ray"`` (tasks, or one actor per GPU), or an
            :class:`~ma_data.core.executors.Executor` (kept open: the caller closes it).
        workers: pool size / local Ray CPUs (default: as above).
        address: Ray cluster address (``auto``, ``ray://host:10001``) for ``executor="ray"``.
        backend_info: a dict to fill with the backend's ``describe()`` (what ran, for the results; from a
            worker when the videos were spread, left empty if no worker got to build it).

    Returns:
        ``(tracks, errors)``: stem -> :class:`KeypointTrack` for the videos that worked, and stem -> one-line
        reason for those that did not. Every stem of ``videos`` is in exactly one of the two, in the order of
        ``videos``; the same whatever the executor.

    Raises:
        MaceError (e.g. :class:`~ma_data.core.errors.MissingWeightError`) only when the backend itself cannot be
        built — that is not a per-video problem.
    """
    if executor != "serial":
        if backend is not None:
            raise ConfigError("a built backend runs in this process only: pass its name to spread the videos")
        return _extract_parallel(
            videos,
            backend_name,
            cache,
            progress,
            cache_root,
            backend_kwargs or {},
            executor,
            workers,
            address,
            backend_info,
        )
    own_backend = backend is None
    if backend is None:
        backend = build_backend(backend_name, backend_kwargs)
    if backend_info is not None:
        backend_info.update(backend.describe())
    track_cache = TrackCache(cache_root) if cache else None
    tracks: dict[str, KeypointTrack] = {}
    errors: dict[str, str] = {}
    items = list(videos.items())
    bar = _bar(progress, len(items), backend.name)
    try:
        for stem, path in items:
            bar.set_postfix_str(stem, refresh=False)
            track, error = _extract_or_error(path, backend, track_cache, progress=not bar.disable)
            if track is not None:
                tracks[stem] = track
            else:
                errors[stem] = error
            bar.update(1)
    finally:
        bar.close()
        if own_backend:
            backend.close()
    return tracks, errors


def _bar(progress: bool, total: int, name: str):
    """The per-video bar (a no-op one when bars are off or there is nothing to do)."""
    return progress_bar(wanted=progress and total > 0, total=total, desc=f"keypoints ({name})", unit="video")


def _extract_parallel(
    videos, backend_name, cache, progress, cache_root, kwargs, executor, workers, address, backend_info
) -> tuple[dict[str, KeypointTrack], dict[str, str]]:
    payload = {"backend": backend_name, "kwargs": kwargs, "cache": bool(cache)}
    payload["cache_root"] = str(cache_root) if cache_root is not None else None
    items = [(stem, {**payload, "path": str(path)}) for stem, path in videos.items()]
    own = isinstance(executor, str)
    if own:
        executor = extraction_executor(executor, backend_name, kwargs, workers, address)
    found: dict[str, KeypointTrack] = {}
    failed: dict[str, str] = {}
    bar = _bar(progress, len(items), backend_name)
    try:
        for stem, outcome in executor.imap_unordered(extract_task, items):
            path = videos[stem]
            if not outcome.ok:  # the worker process died (or Ray lost the task)
                failed[stem] = f"{path}: pose extraction failed ({outcome.error_class}: {outcome.error})"
            elif "fatal" in outcome.value:
                raise _fatal(outcome.value["fatal"], outcome.value["error_class"])
            elif outcome.value.get("error") is not None:
                failed[stem] = outcome.value["error"]
            else:
                track = track_from_bytes(outcome.value["track"], f"{path} (keypoints from a worker)")
                track.meta["video_path"] = str(path)
                found[stem] = track
            if outcome.ok and backend_info is not None and not backend_info:
                backend_info.update(outcome.value["backend"])
            bar.update(1)
    finally:
        bar.close()
        if own:
            executor.close()
    tracks = {stem: found[stem] for stem in videos if stem in found}
    errors = {stem: failed[stem].replace("\n", " ") for stem in videos if stem in failed}
    return tracks, errors
