"""On-disk cache of keypoint tracks, keyed by video content, backend and weights.

A track is reused only when the video bytes (sha256), the backend name and version, and the weights hash all
match, so re-encoding a video, upgrading a backend or swapping weights never returns stale keypoints. Entries
are :class:`~ma_data.core.cache.ContentCache` entries (atomic writes, a damaged entry is a miss and removed)
under ``<cache dir>/keypoints/<backend>/<sha[:2]>/<sha>-<tag>.npz``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ma_data.core.cache import ContentCache, cache_dir
from ma_data.core.formats.keypoints import KeypointTrack, load_npz, save_npz


def default_cache_root() -> Path:
    return cache_dir() / "keypoints"


class TrackCache:
    """Get/put :class:`KeypointTrack` objects by (video sha256, backend name, backend version, weights hash)."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_root()

    def _entries(self, backend: str) -> ContentCache:
        return ContentCache(re.sub(r"[^A-Za-z0-9_.+-]", "_", backend), suffix=".npz", root=self.root)

    @staticmethod
    def _tag(version: str, weights_hash: str) -> str:
        # version and weights hash go through one short digest: readable names, bounded length
        return hashlib.sha256(f"{version}\0{weights_hash}".encode()).hexdigest()[:16]

    def path(self, video_sha256: str, backend: str, version: str, weights_hash: str) -> Path:
        return self._entries(backend).path(video_sha256, self._tag(version, weights_hash))

    def get(self, video_sha256: str, backend: str, version: str, weights_hash: str) -> KeypointTrack | None:
        def load(path: Path) -> KeypointTrack | None:
            track = load_npz(path)
            if track.source_sha256 != video_sha256 or track.weights_hash != weights_hash:
                return None  # a hash-prefix collision or a hand-copied file: never trust it
            return track

        return self._entries(backend).get(video_sha256, self._tag(version, weights_hash), load)

    def put(
        self, track: KeypointTrack, video_sha256: str, backend: str, version: str, weights_hash: str
    ) -> Path | None:
        """Store ``track``; its path, or ``None`` when the cache cannot be written (the work goes on)."""
        tag = self._tag(version, weights_hash)
        return self._entries(backend).put(video_sha256, tag, lambda tmp: save_npz(tmp, track))
