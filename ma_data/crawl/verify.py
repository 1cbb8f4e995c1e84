"""Probe a downloaded file before anything uses it: a partial or corrupt file never becomes a clip.

yt-dlp notices a body shorter than its Content-Length, but not every truncation comes with one (chunked
transfers, a server that lies, a file cut on disk). So every download is demuxed end to end (cheap: no
decoding) and checked against what its own header promises:

- the container opens and has a video stream (else ``truncated`` when the file starts with a valid mp4 or
  Matroska signature, i.e. its index never arrived, and ``corrupt`` otherwise);
- every stream yields as many packets as its header announces, and no packet is flagged corrupt (a cut
  ``mdat`` in a faststart mp4 shows up exactly so) (else ``truncated``);
- the last video packet ends near the announced duration, for containers without frame counts (else
  ``truncated``);
- the last second decodes (else ``corrupt``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ma_data.core.errors import MediaError
from ma_data.core.io.video import VideoInfo, probe_video

__all__ = ["MediaCheckError", "verify_media"]

# Allowed gap between the end of the last video packet and the announced duration, when the header has no
# frame count (mkv/webm). Half a second absorbs audio tails and rounding, but not a lost minute.
DURATION_SLACK_S = 0.5


class MediaCheckError(MediaError):
    """A media check failure with its error class (``truncated`` or ``corrupt``)."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(error_class, message)
        self.error_class = error_class
        self.message = message

    def __str__(self) -> str:
        return self.message


def verify_media(path: str | os.PathLike, min_frames: int = 1) -> VideoInfo:
    """Check ``path`` completely demuxes as its header promises; return its probe (with counted frames)."""
    import av

    path = Path(path)
    try:
        info = probe_video(path, count_frames=False)
    except MediaError as exc:
        # A container that starts right but cannot be indexed ended early (an mp4 whose moov atom, written
        # last, never arrived): truncated. Anything else (an HTML error page, random bytes) is corrupt.
        cls = "truncated" if _container_signature(path) else "corrupt"
        raise MediaCheckError(cls, str(exc)) from exc
    try:
        container = av.open(str(path))
    except Exception as exc:  # noqa: BLE001 - PyAV raises several error types
        raise MediaCheckError("corrupt", f"{path}: cannot open media ({exc})") from exc
    with container:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        video = container.streams.video[0]
        vidx = int(video.index)
        vstart = float(video.start_time * video.time_base) if video.start_time and video.time_base else 0.0
        announced = {s.index: int(s.frames or 0) for s in streams}
        counted = dict.fromkeys(announced, 0)
        n_corrupt = 0
        last_end_s = 0.0
        try:
            for pkt in container.demux(streams):
                if pkt.size == 0:
                    continue
                counted[pkt.stream.index] += 1
                n_corrupt += int(bool(pkt.is_corrupt))
                if pkt.stream.index == vidx and pkt.pts is not None and pkt.time_base:
                    end = float((pkt.pts + (pkt.duration or 0)) * pkt.time_base)
                    last_end_s = max(last_end_s, end)
        except Exception as exc:  # noqa: BLE001
            raise MediaCheckError("corrupt", f"{path}: demuxing failed ({exc})") from exc
    n_video = counted[vidx]
    for idx, n_ann in announced.items():
        if n_ann and counted[idx] < n_ann:
            raise MediaCheckError(
                "truncated", f"{path}: stream {idx} has {counted[idx]} of {n_ann} announced packets"
            )
    if n_corrupt:
        raise MediaCheckError("truncated", f"{path}: {n_corrupt} packet(s) cut short or flagged corrupt")
    if not announced[vidx] and info.duration_s and last_end_s:
        start = vstart
        if last_end_s - start < info.duration_s - DURATION_SLACK_S:
            raise MediaCheckError(
                "truncated",
                f"{path}: video ends at {last_end_s - start:.2f}s but the header announces {info.duration_s:.2f}s",
            )
    if n_video < min_frames:
        raise MediaCheckError("corrupt", f"{path}: {n_video} video frames (need >= {min_frames})")
    _decode_tail(path, info)
    fps = info.fps or (n_video / info.duration_s if info.duration_s else 0.0)
    duration = info.duration_s or (n_video / fps if fps else 0.0)
    return VideoInfo(**{**info.to_dict(), "n_frames": n_video, "fps": fps, "duration_s": duration})


def _container_signature(path: Path) -> bool:
    """True when the file begins like an ISO-BMFF (mp4/mov) or Matroska/WebM container."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def _decode_tail(path: Path, info: VideoInfo) -> None:
    """Decode the last second of video: a damaged tail raises here rather than halfway through curation."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            target = max(0.0, info.duration_s - 1.0)
            if target > 0 and stream.time_base:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            n = 0
            for _ in container.decode(stream):
                n += 1
    except Exception as exc:  # noqa: BLE001
        raise MediaCheckError("corrupt", f"{path}: decoding the last second failed ({exc})") from exc
    if n == 0:
        raise MediaCheckError("corrupt", f"{path}: no decodable frame in the last second")
