import os

import numpy as np
import pytest

from ma_data.core.errors import MediaError
from ma_data.core.io.atomic import sha256_file
from ma_data.core.io.video import iter_frames, probe_video, read_video, write_video


def _frames(n=20, h=48, w=64):
    # Flat colours survive lossy coding almost exactly, so values can be checked.
    return [np.full((h, w, 3), (10 * i, 255 - 10 * i, 128), np.uint8) for i in range(n)]


def test_round_trip_probe_and_determinism(tmp_path):
    sr = 16000
    audio = 0.2 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    a = write_video(tmp_path / "a.mp4", _frames(), 20, audio=audio, audio_sr=sr, crf=10)
    b = write_video(tmp_path / "b.mp4", _frames(), 20, audio=audio, audio_sr=sr, crf=10)
    assert sha256_file(a) == sha256_file(b), "same input must give the same bytes"

    info = probe_video(a)
    assert (info.n_frames, info.width, info.height, info.fps) == (20, 64, 48, 20.0)
    assert info.has_audio and info.audio_sr == sr
    assert info.duration_s == pytest.approx(1.0, abs=0.06)

    video, fps = read_video(a)
    assert video.shape == (20, 48, 64, 3) and fps == 20.0
    expected = np.stack(_frames()).astype(int)
    assert np.abs(video.astype(int) - expected).max() <= 3
    assert sum(1 for _ in iter_frames(a)) == 20
    assert not list(tmp_path.glob(".*tmp*")), "no temporary files left behind"


def test_missing_truncated_and_odd_sized(tmp_path):
    with pytest.raises(MediaError, match="nope.mp4: file not found"):
        probe_video(tmp_path / "nope.mp4")
    good = write_video(tmp_path / "v.mp4", _frames(), 20)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(MediaError, match="broken.mp4"):
        read_video(broken)
    with pytest.raises(MediaError, match="odd.mp4: frame size 63x48"):
        write_video(tmp_path / "odd.mp4", [np.zeros((48, 63, 3), np.uint8)], 10)
    assert not (tmp_path / "odd.mp4").exists()


def test_threaded_decoding_gives_the_same_frames_in_order(tmp_path):
    import threading

    video = write_video(tmp_path / "m.mp4", _moving(3, n=40), 30, crf=20)
    plain = list(iter_frames(video))
    assert len(plain) == 40
    before = threading.active_count()
    for threads, prefetch in ((1, None), (3, 2), (4, 64)):
        got = list(iter_frames(video, threads=threads, prefetch=prefetch))
        assert len(got) == 40 and all(np.array_equal(a, b) for a, b in zip(plain, got, strict=True))
    # leaving early stops the decoder thread and the converters
    for i, frame in enumerate(iter_frames(video, threads=2, prefetch=3)):
        assert np.array_equal(frame, plain[i])
        if i == 5:
            break
    assert threading.active_count() == before
    good = write_video(tmp_path / "v.mp4", _frames(), 20)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(MediaError, match="broken.mp4"):
        list(iter_frames(broken, threads=2))
    with pytest.raises(MediaError, match="nope.mp4: file not found"):
        list(iter_frames(tmp_path / "nope.mp4", threads=2))


def _moving(seed: int, n: int = 30, h: int = 160, w: int = 96) -> list[np.ndarray]:
    """Textured frames that move (x264's rate control and motion search have work to do)."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for t in range(n):
        f = (np.sin(xx / 9 + t / 4 + seed) + np.cos(yy / 7 - t / 5)) * 60 + 128
        out.append(np.stack([f, f[::-1] * 0.5 + 40, np.roll(f, t, 1)], -1).astype(np.uint8))
    return out


_REPEAT_ENCODES = """
import sys
from pathlib import Path

from ma_data.core.io.atomic import sha256_file
from ma_data.core.io.video import write_video
from tests.ma_data.core.io.test_video import _moving

out = Path(sys.argv[1])
for i in range(5):
    print(sha256_file(write_video(out / f"same{i}.mp4", _moving(0), 30, crf=20)))
    write_video(out / f"other{i}.mp4", _moving(i + 1), 30, crf=20)
"""


def test_encoding_does_not_depend_on_earlier_encodes(tmp_path):
    """Same frames, same bytes, whatever the process encoded before (a build encodes clip after clip).

    Regression: with x264's macroblock-tree rate control on, its AVX-512 kernels made the output depend on
    earlier encodes in the process on AVX-512 machines (see ``ma_data.core.io.video.X264_DETERMINISTIC``);
    from a fresh process, the third of these rounds differed. Elsewhere this passes either way.
    """
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[4]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    res = subprocess.run([sys.executable, "-c", _REPEAT_ENCODES, str(tmp_path)], env=env, cwd=repo,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    shas = res.stdout.split()
    assert len(shas) == 5 and len(set(shas)) == 1, (
        f"the same frames gave different bytes in one process: {shas}"
    )


def _x264_cpu_levels() -> dict[str, str]:
    """x264 ``asm`` flag sets from SSSE3 up to what this x86 CPU runs (a set it lacks would crash x264)."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return {}
    flags = set(next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []))
    levels: dict[str, str] = {}
    if {"sse2", "ssse3"} <= flags:
        levels["ssse3"] = "MMX2,SSE,SSE2,SSE2Fast,SSSE3"
        if {"sse4_2", "avx"} <= flags:
            levels["avx"] = levels["ssse3"] + ",SSE4.2,AVX"
            if {"avx2", "fma", "bmi2", "abm"} <= flags:
                levels["avx2"] = levels["avx"] + ",AVX2,FMA3,BMI2,LZCNT"
                if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags:
                    levels["avx512"] = levels["avx2"] + ",AVX512"
    return levels


def test_x264_output_is_the_same_on_every_x86_code_path():
    """With the options write_video uses, x264's SSSE3, AVX, AVX2 and AVX-512 code paths give the same bytes.

    The paths are selected with x264's ``asm`` option, up to what this CPU supports, so an AVX-512 machine
    checks that an AVX2 machine would write the same clips. (x264's C and SSE2-only paths differ: they lack
    SSSE3 intra-analysis kernels; no CPU that runs this toolkit's CI lacks SSSE3.)
    """
    import hashlib
    import io

    import av

    from ma_data.core.io.video import X264_DETERMINISTIC

    levels = _x264_cpu_levels()
    if len(levels) < 2:
        pytest.skip("not an x86 CPU with SSSE3 and AVX")
    frames = _moving(0)

    def encode(asm: str) -> str:
        buf = io.BytesIO()
        with av.open(buf, "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = 96, 160, "yuv420p"
            stream.options = {
                "crf": "20",
                "preset": "medium",
                **X264_DETERMINISTIC,
                "x264-params": f"asm={asm}",
            }
            for i, f in enumerate(frames):
                vf = av.VideoFrame.from_ndarray(f, format="rgb24")
                vf.pts = i
                container.mux(stream.encode(vf))
            container.mux(stream.encode())
        return hashlib.sha256(buf.getvalue()).hexdigest()

    shas = {name: encode(asm) for name, asm in levels.items()}
    assert len(set(shas.values())) == 1, shas
