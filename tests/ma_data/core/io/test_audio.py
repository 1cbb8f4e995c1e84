import numpy as np
import pytest
import soundfile as sf

from ma_data.core.errors import MediaError
from ma_data.core.io.audio import load_audio, write_wav
from ma_data.core.io.video import write_video


def _dominant_hz(y, sr):
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spec)]


def test_wav_matches_soundfile_and_resamples(tmp_path):
    sr = 22050
    t = np.arange(2 * sr) / sr
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 300 * t), 0.1 * np.sin(2 * np.pi * 300 * t)], axis=1)
    path = write_wav(tmp_path / "s.wav", stereo, sr)
    y, out_sr = load_audio(path)
    ref, _ = sf.read(path, dtype="float32")
    assert out_sr == sr
    np.testing.assert_array_equal(y, ref.mean(axis=1).astype(np.float32))

    y8, sr8 = load_audio(path, sr=8320)
    assert sr8 == 8320 and abs(y8.size - 2 * 8320) <= 1
    assert _dominant_hz(y8, sr8) == pytest.approx(300, abs=2)


def test_mp4_audio_track(tmp_path):
    sr = 16000
    tone = 0.3 * np.sin(2 * np.pi * 500 * np.arange(2 * sr) / sr)
    frames = [np.zeros((32, 32, 3), np.uint8)] * 32
    video = write_video(tmp_path / "v.mp4", frames, 16, audio=tone, audio_sr=sr)
    y, out_sr = load_audio(video, sr=8320)
    assert out_sr == 8320
    assert y.size == pytest.approx(2 * 8320, rel=0.07)
    assert _dominant_hz(y, out_sr) == pytest.approx(500, abs=3)

    silent = write_video(tmp_path / "silent.mp4", frames, 16)
    with pytest.raises(MediaError, match="silent.mp4: no audio track"):
        load_audio(silent)
