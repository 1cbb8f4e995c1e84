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
