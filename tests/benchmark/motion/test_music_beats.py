"""GT music beats: click tracks at a known tempo, mp4 decoding, and parity with librosa's own loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmark.motion.music_beats import beat_times_to_frames, music_beat_frames, music_beat_times
from benchmark.protocols import get_protocol
from ma_data.core.errors import MaceError
from ma_data.core.synthetic import click_track

SR = 22050
CLICKS = np.arange(0.5, 8.0, 0.5)  # 120 bpm


def _click_audio() -> np.ndarray:
    return click_track(120.0, 8.0, SR, offset_s=float(CLICKS[0]))


@pytest.fixture(scope="module")
def click_wav(tmp_path_factory) -> Path:
    import soundfile as sf

    path = tmp_path_factory.mktemp("beats") / "click.wav"
    sf.write(str(path), _click_audio(), SR)
    return path


@pytest.fixture(scope="module")
def click_mp4(tmp_path_factory) -> Path:
    """A stereo AAC track in an mp4 container (what MA-Data GT clips carry), written with PyAV."""
    import av

    path = tmp_path_factory.mktemp("beats") / "click.mp4"
    audio = _click_audio()
    stereo = np.stack([audio, audio])
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=SR)
        stream.layout = "stereo"
        for start in range(0, stereo.shape[1], 1024):
            chunk = np.ascontiguousarray(stereo[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = SR
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_beat_times_to_frames_truncates_and_dedupes():
    frames = beat_times_to_frames(np.array([0.01, 0.06, 0.5, 3.99, 4.0, 5.0]), 16, n_frames=64)
    np.testing.assert_array_equal(frames, [0, 8, 63])


@pytest.mark.slow  # librosa's numba beat tracker compiles on first use
def test_click_track_at_known_tempo(click_wav):
    times = music_beat_times(click_wav)
    # every detected beat sits on a click (the onset envelope peaks within about one hop after it)
    nearest = np.min(np.abs(times[:, None] - CLICKS[None, :]), axis=1)
    assert np.all(nearest < 0.08)
    assert len(times) >= 0.8 * len(CLICKS)
    frames = music_beat_frames(click_wav, get_protocol("mace2d-official"))
    expected = (CLICKS * 16).astype(int)
    expected = expected[expected < 64]
    assert frames.max() < 64 and len(frames) == len(np.unique(frames))
    assert np.all(np.min(np.abs(frames[:, None] - expected[None, :]), axis=1) <= 1)
    strict = music_beat_frames(click_wav, get_protocol("mace2d-strict"))
    np.testing.assert_allclose(strict, times)  # strict keeps seconds


@pytest.mark.slow
def test_mp4_aac_beats_match_wav(click_wav, click_mp4):
    # PyAV's muxer writes no edit list, so the AAC encoder delay (priming) stays in the decoded audio and the
    # beats may land up to one 16 fps frame later than in the wav; what matters is the same beat grid.
    proto = get_protocol("mace2d-official")
    mp4, wav = music_beat_frames(click_mp4, proto), music_beat_frames(click_wav, proto)
    assert mp4.shape == wav.shape
    assert np.all(np.abs(mp4 - wav) <= 1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg CLI (librosa's audioread path)")
def test_decoding_matches_librosa_audioread_chain(click_mp4):
    """librosa.load on an mp4 goes through audioread -> ffmpeg CLI -> s16; ours through PyAV. Same samples
    up to one 16-bit step (AAC decoders of different FFmpeg releases differ by ~1e-8 before rounding)."""
    import warnings

    import librosa

    from ma_data.core.io.audio import load_audio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, sr = librosa.load(str(click_mp4), sr=8320)
    ours, sr2 = load_audio(click_mp4, sr=8320)
    assert sr == sr2 and ref.shape == ours.shape
    np.testing.assert_allclose(ours, ref, atol=2.0 / 32768)
    _, ref_frames = librosa.beat.beat_track(y=ref, sr=sr)
    ref_beats = (librosa.frames_to_time(ref_frames, sr=sr) * 16).astype(int)
    ours_beats = (music_beat_times(click_mp4) * 16).astype(int)
    np.testing.assert_array_equal(ours_beats, ref_beats)


def test_unreadable_audio_is_a_one_line_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(MaceError, match="broken.mp4"):
        music_beat_frames(bad, get_protocol("mace2d-official"))


@pytest.mark.slow
def test_beat_times_are_cached_by_content(click_wav, tmp_path, monkeypatch):
    import ma_data.core.io.audio

    first = music_beat_times(click_wav)
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(click_wav.read_bytes())

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(ma_data.core.io.audio, "load_audio", no_decode)
    np.testing.assert_array_equal(music_beat_times(copy), first)  # same bytes, other name: a hit
    with pytest.raises(AssertionError, match="decoded"):
        music_beat_times(copy, sr=16000)  # other settings: a miss


@pytest.mark.slow
def test_a_damaged_cache_entry_is_recomputed(click_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path))
    first = music_beat_times(click_wav)
    (entry,) = (tmp_path / "beats").rglob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])  # a truncated file (a full disk, a killed copy)
    np.testing.assert_array_equal(music_beat_times(click_wav), first)
    with np.load(entry) as rewritten:
        np.testing.assert_array_equal(rewritten["times"], first)
