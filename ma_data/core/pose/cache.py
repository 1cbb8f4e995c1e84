"""On-disk cache of keypoint tracks, keyed by video content, backend and weights.

A track is reused only when the video bytes (sha256), the backend name and version, and the weights hash all
match, so re-encoding a video, upgrading a backend or swapping weights never returns stale keypoints. Files
live under ``<cache dir>/keypoints/<backend>/<sha[:2]>/`` (cache dir: ``$MACE_DANCE_CACHE`` or
``~/.cache/mace-dance``) and are written atomically; a corrupt entry is treated as a miss and removed.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ma_data.core.errors import FormatError
from ma_data.core.formats.keypoints import KeypointTrack, load_npz, save_npz


def default_cache_root() -> Path:
    from ma_data.core.weights import cache_dir

    return cache_dir() / "keypoints"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text)


class TrackCache:
    """Get/put :class:`KeypointTrack` objects by (video sha256, backend name, backend version, weights hash)."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_root()

    def path(self, video_sha256: str, backend: str, version: str, weights_hash: str) -> Path:
        # version and weights hash go through one short digest: readable names, bounded length
        tag = hashlib.sha256(f"{version}\0{weights_hash}".encode()).hexdigest()[:16]
        return self.root / _safe(backend) / video_sha256[:2] / f"{video_sha256}-{tag}.npz"

    def get(self, video_sha256: str, backend: str, version: str, weights_hash: str) -> KeypointTrack | None:
        path = self.path(video_sha256, backend, version, weights_hash)
        if not path.exists():
            return None
        try:
            track = load_npz(path)
        except FormatError:
            path.unlink(missing_ok=True)
            return None
        if track.source_sha256 != video_sha256 or track.weights_hash != weights_hash:
            return None  # a hash-prefix collision or a hand-copied file: never trust it
        return track

    def put(
        self, track: KeypointTrack, video_sha256: str, backend: str, version: str, weights_hash: str
    ) -> Path:
        path = self.path(video_sha256, backend, version, weights_hash)
        save_npz(path, track)
        return path
