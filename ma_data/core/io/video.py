"""Video reading, probing and writing through PyAV (no ffmpeg binary needed).

Frames are ``uint8`` arrays of shape (H, W, 3) in RGB order unless ``fmt="bgr24"`` is asked for. Writing is
atomic (temporary file, then rename) and deterministic for a given input: x264 runs single-threaded with
macroblock-tree rate control off (see :data:`X264_DETERMINISTIC`) and the container carries no creation time,
so the same frames give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ma_data.core.errors import MediaError
from ma_data.core.io.atomic import atomic_path

#: x264 options every encode gets, for bytes that depend only on the frames.
#:
#: ``threads=1``: frame threads make no difference to the output, but keep the encoder simple to reason about.
#: ``mbtree=0``: macroblock-tree rate control is the one x264 path found to break reproducibility. (1) Its
#: AVX-512 kernels (selected when the CPU has AVX-512) make the output depend on what the process did before:
#: in one process, encoding the same frames again gives different bytes and different decoded pixels (up to
#: 58/255 on a demo clip) after the first encode or two; with x264's CPU flags limited to AVX2, or with mbtree
#: off, every encode is identical (measured with libx264 core 165 from the PyAV 18.1 wheel on an AMD EPYC).
#: That is why two builds of one dataset gave different clips (state left by earlier clips), while a clip
#: encoded alone in a fresh process did not. (2) Its x86 kernels use ``rcpps`` (an approximate reciprocal whose
#: bits the CPU vendor defines), so even without the bug its output could differ between CPUs. With mbtree off
#: the SSSE3, AVX, AVX2 and AVX-512 code paths give identical bytes (tests/ma_data/core/io/test_video.py).
X264_DETERMINISTIC = {"threads": "1", "mbtree": "0"}


@dataclass(frozen=True)
class VideoInfo:
    """What a probe of a media file tells without decoding every frame."""

    path: str
    fps: float
    n_frames: int
    width: int
    height: int
    duration_s: float
    codec: str
    has_audio: bool
    audio_sr: int | None = None
    audio_channels: int | None = None
    audio_duration_s: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _open(path: str | os.PathLike):
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    try:
        return av.open(str(path))
    except Exception as exc:  # PyAV raises several error types for unreadable input
        raise MediaError(f"{path}: cannot open media ({exc.__class__.__name__}: {exc})") from exc


def probe_video(path: str | os.PathLike, count_frames: bool = True) -> VideoInfo:
    """Probe a video: fps, frame count, size, duration, and its audio stream if any.

    ``count_frames`` demuxes the video packets to count frames exactly (cheap: no decoding) instead of
    trusting the container header, which is wrong for truncated files.
    """
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream")
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        fps = float(rate) if rate else 0.0
        n_frames = int(vs.frames or 0)
        duration = float(vs.duration * vs.time_base) if vs.duration is not None and vs.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_sr = audio.codec_context.sample_rate if audio is not None else None
        audio_channels = audio.codec_context.channels if audio is not None else None
        audio_dur = None
        if audio is not None and audio.duration is not None and audio.time_base:
            audio_dur = float(audio.duration * audio.time_base)
        codec = vs.codec_context.name
        width, height = vs.codec_context.width, vs.codec_context.height
        if count_frames:
            try:
                n_frames = sum(1 for p in container.demux(vs) if p.size > 0)
            except Exception as exc:
                raise MediaError(f"{path}: corrupt video stream ({exc})") from exc
    if n_frames and fps and not duration:
        duration = n_frames / fps
    return VideoInfo(
        path=str(path),
        fps=fps,
        n_frames=n_frames,
        width=width,
        height=height,
        duration_s=duration,
        codec=codec,
        has_audio=audio is not None,
        audio_sr=audio_sr,
        audio_channels=audio_channels,
        audio_duration_s=audio_dur,
    )


def iter_frames(
    path: str | os.PathLike, fmt: str = "rgb24", threads: int = 0, prefetch: int | None = None
) -> Iterator[np.ndarray]:
    """Decode every frame of the first video stream, in order, as (H, W, 3) uint8 arrays.

    ``threads=0`` decodes and converts in the calling thread. With ``threads=N`` a background thread decodes
    (FFmpeg's own decoder threads as before) and N threads convert the frames to ``fmt`` (swscale, which PyAV
    runs without the GIL; at 720p the RGB conversion costs more than decoding), at most ``prefetch`` frames
    ahead of the consumer (default ``4 * N``): the same arrays in the same order, decoded while the caller
    works on earlier frames. A decoding error is raised where the failing frame would have been.
    """
    if threads > 0:
        yield from _iter_frames_threaded(path, fmt, threads, prefetch or 4 * threads)
        return
    import av

    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format=fmt)
        except av.error.FFmpegError as exc:
            raise MediaError(f"{path}: decoding failed ({exc})") from exc


_END = object()


def _iter_frames_threaded(
    path: str | os.PathLike, fmt: str, threads: int, prefetch: int
) -> Iterator[np.ndarray]:
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import av

    container = _open(path)
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    ahead: queue.Queue = queue.Queue(maxsize=max(1, prefetch))  # futures of converted frames, in order
    stop = threading.Event()
    pool = ThreadPoolExecutor(threads, thread_name_prefix="frames")

    def put(item) -> bool:
        while not stop.is_set():  # the consumer may leave early: never block forever on a full queue
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def decode() -> None:
        try:
            for frame in container.decode(stream):
                if not put(pool.submit(frame.to_ndarray, format=fmt)):
                    return
            put(_END)
        except av.error.FFmpegError as exc:
            put(MediaError(f"{path}: decoding failed ({exc})"))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)

    worker = threading.Thread(target=decode, name="decode", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item.result()
    finally:
        stop.set()
        worker.join()
        pool.shutdown(wait=True, cancel_futures=True)
        container.close()


def read_video(
    path: str | os.PathLike, fmt: str = "rgb24", max_frames: int | None = None
) -> tuple[np.ndarray, float]:
    """Decode a whole video (or its first ``max_frames``) into a (T, H, W, 3) uint8 array and its fps."""
    info = probe_video(path, count_frames=False)
    frames = []
    with contextlib.closing(iter_frames(path, fmt)) as decoded:  # stop the decoder here, not at GC
        for i, frame in enumerate(decoded):
            if max_frames is not None and i >= max_frames:
                break
            frames.append(frame)
    if not frames:
        raise MediaError(f"{path}: no decodable frames")
    return np.stack(frames), info.fps


def _as_fraction(fps: float | Fraction) -> Fraction:
    return fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float | Fraction,
    audio: np.ndarray | None = None,
    audio_sr: int | None = None,
    crf: int = 18,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    preset: str = "medium",
    audio_bitrate: int = 128_000,
) -> Path:
    """Encode RGB frames (and optional float audio, shape (n,) or (n, channels)) to an mp4 atomically.

    Frame sizes must be even for yuv420p. Audio is encoded as AAC. The output is deterministic: x264 runs with
    :data:`X264_DETERMINISTIC` and the muxer writes no creation time.
    """
    import av

    path = Path(path)
    rate = _as_fraction(fps)
    with atomic_path(path) as tmp:
        container = av.open(str(tmp), mode="w")
        try:
            vstream = None
            astream = None
            if audio is not None:
                if audio_sr is None:
                    raise ValueError("audio_sr is required with audio")
                audio = np.asarray(audio, dtype=np.float32)
                if audio.ndim == 1:
                    audio = audio[:, None]
            n_written = 0
            for frame in frames:
                frame = np.ascontiguousarray(frame, dtype=np.uint8)
                if vstream is None:
                    h, w = frame.shape[:2]
                    if pix_fmt == "yuv420p" and (h % 2 or w % 2):
                        raise MediaError(f"{path}: frame size {w}x{h} must be even for {pix_fmt}")
                    vstream = container.add_stream(codec, rate=rate)
                    vstream.width, vstream.height, vstream.pix_fmt = w, h, pix_fmt
                    vstream.thread_count = 1
                    if codec == "libx264":
                        vstream.options = {"crf": str(crf), "preset": preset, **X264_DETERMINISTIC}
                    if audio is not None:
                        layout = "mono" if audio.shape[1] == 1 else "stereo"
                        astream = container.add_stream("aac", rate=int(audio_sr), layout=layout)
                        astream.bit_rate = audio_bitrate
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                vf.pts = n_written
                n_written += 1
                for packet in vstream.encode(vf):
                    container.mux(packet)
            if vstream is None:
                raise MediaError(f"{path}: no frames to write")
            for packet in vstream.encode():
                container.mux(packet)
            if astream is not None:
                _encode_audio(container, astream, audio)
        finally:
            container.close()
    return path


def _encode_audio(container, stream, audio: np.ndarray) -> None:
    """Encode float audio (n, channels) in codec-sized frames with explicit pts."""
    import av

    frame_size = stream.codec_context.frame_size or 1024
    layout = "mono" if audio.shape[1] == 1 else "stereo"
    planar = np.ascontiguousarray(audio.T)  # fltp wants (channels, samples)
    for start in range(0, planar.shape[1], frame_size):
        chunk = np.ascontiguousarray(planar[:, start : start + frame_size])
        af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        af.sample_rate = stream.codec_context.sample_rate
        af.pts = start
        for packet in stream.encode(af):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
