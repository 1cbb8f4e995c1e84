"""The interface every 2D pose backend implements."""

from __future__ import annotations

import abc
from collections.abc import Iterable

import numpy as np

from ma_data.core.formats.keypoints import KeypointTrack


class PoseBackend(abc.ABC):
    """Turns a stream of RGB frames into one dancer's :class:`KeypointTrack` (ViTPose-25 order, x/y/conf).

    Subclasses set :attr:`name` and :attr:`version` (bump ``version`` whenever outputs can change, so cached
    tracks are invalidated) and implement :attr:`weights_hash` and :meth:`estimate`.
    """

    #: short registry name, e.g. ``"mediapipe"``
    name: str = "base"
    #: version of the backend's mapping/decoding code plus the library it wraps
    version: str = "0"

    @property
    @abc.abstractmethod
    def weights_hash(self) -> str:
        """A fingerprint (sha256) of the weights in use; part of the track cache key."""

    @abc.abstractmethod
    def estimate(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int, n_frames: int | None = None
    ) -> KeypointTrack:
        """Estimate a track from ``frames`` — (H, W, 3) uint8 RGB arrays, in order.

        ``n_frames`` is only a hint for progress display. Frames where no person is found become all-zero
        rows with ``mask == False``. Raises :class:`ma_data.core.errors.MaceError` subclasses on bad input.
        """

    def decode_options(self, width: int, height: int) -> dict:
        """How :func:`~ma_data.core.io.video.iter_frames` should feed this backend frames of that size:
        by default a background thread decodes and one more converts to RGB, a few frames ahead, so decoding
        overlaps the model (same frames, same order). Batched backends read further ahead."""
        return {"threads": 1, "prefetch": 8}

    def close(self) -> None:
        """Release native resources (graphs, GPU memory). The backend may not be used afterwards."""
        return None  # nothing to release by default

    def __enter__(self) -> PoseBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def make_track(
        self, data: np.ndarray, mask: np.ndarray, fps: float, width: int, height: int, meta: dict
    ) -> KeypointTrack:
        """A track of ``data``/``mask`` stamped with this backend's name, version and weights hash."""
        return KeypointTrack(
            data=data,
            mask=mask,
            fps=fps,
            width=width,
            height=height,
            extractor=self.name,
            extractor_version=self.version,
            weights_hash=self.weights_hash,
            meta=meta,
        )

    def describe(self) -> dict:
        """Name, version and weights hash, as recorded in results and track metadata."""
        return {"name": self.name, "version": self.version, "weights_hash": self.weights_hash}


def check_frame(frame: np.ndarray, width: int, height: int, index: int) -> np.ndarray:
    """Validate one decoded frame against the declared size (a cheap guard against mixed-up streams)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame {index}: expected (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    if frame.shape[0] != height or frame.shape[1] != width:
        raise ValueError(
            f"frame {index}: size {frame.shape[1]}x{frame.shape[0]} != declared {width}x{height}"
        )
    return frame
