import numpy as np
import pytest

from ma_data.core.io.audio import write_wav
from ma_data.core.music_features import (
    BEAT_COL,
    N_FEATURES,
    ONSET_COL,
    SR,
    aist_start_bpm,
    baseline_features,
    baseline_features_from_audio,
    beat_indices,
    beat_vector,
    onehot,
)
from ma_data.core.synthetic import click_track

# librosa JIT-compiles its onset and beat-tracking kernels on first use (~15 s per process).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    path = tmp_path_factory.mktemp("music") / "song.wav"
    # 120 BPM clicks from t = 0.25 s on a quiet drone (no silent stretches)
    write_wav(path, click_track(120.0, 6.0, 22050, offset_s=0.25, drone=0.02), 22050)
    return path


def test_aist_bpm_from_names():
    assert aist_start_bpm("gBR_sBM_cAll_d04_mBR0_ch01") == 80
    assert aist_start_bpm("gKR_sBM_cAll_d28_mKR2_ch03_slice1.wav") == 100
    assert aist_start_bpm("mKR2.wav") is None  # EDGE reads the fifth field only
    assert aist_start_bpm("gHO_sFM_cAll_d20_mHO5_ch13") == 135
    assert aist_start_bpm("012.wav") is None


def test_feature_layout_and_frame_rate(clicks):
    f = baseline_features(clicks, start_bpm=120.0)
    n_samples = int(round(6.0 * SR))
    assert f.shape == (n_samples // 512 + 1, N_FEATURES) and f.dtype == np.float32
    assert set(np.unique(f[:, ONSET_COL])) <= {0.0, 1.0} and set(np.unique(f[:, BEAT_COL])) <= {0.0, 1.0}
    # 120 BPM clicks at 30 fps: one beat every 15 frames, on the clicks (t = 0.25 + k/2 s -> frame 7.5 + 15k)
    beats = beat_indices(f[:, BEAT_COL])
    assert len(beats) >= 9
    np.testing.assert_array_equal(np.diff(beats), 15)
    assert np.all(np.abs(((beats - 7.5) % 15 + 7.5) % 15 - 7.5) <= 1.5)
    onsets = beat_indices(f[:, ONSET_COL])
    assert len(onsets) >= 10
    assert f[:, 0].min() >= 0  # onset envelope
    assert len(baseline_features(clicks, start_bpm=120.0, n_frames=100)) == 100


def test_columns_match_librosa_directly(clicks):
    import librosa

    from ma_data.core.io.audio import load_audio

    y, sr = load_audio(clicks, sr=SR)
    f = baseline_features_from_audio(y, start_bpm=120.0)
    np.testing.assert_allclose(
        f[:, 1:21], librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20).T, rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(f[:, 0], librosa.onset.onset_strength(y=y, sr=sr), rtol=1e-6)


def test_beat_vectors(clicks):
    v = beat_vector(clicks, recipe="edge", start_bpm=120.0, n_frames=400)
    assert v.shape == (400,) and v[181:].sum() == 0  # padded past the song
    lodge = beat_vector(clicks, recipe="lodge")
    assert set(np.unique(lodge)) <= {0.0, 1.0} and lodge.sum() >= 9
    np.testing.assert_array_equal(np.diff(beat_indices(lodge)), 15)
    with pytest.raises(ValueError, match="recipe"):
        beat_vector(clicks, recipe="nope")


def test_default_start_bpm_uses_tempo_estimate(clicks):
    f = baseline_features(clicks)  # no AIST name: librosa tempo estimate on a 22050 Hz load
    np.testing.assert_array_equal(np.diff(beat_indices(f[:, BEAT_COL])), 15)


def test_onehot_drops_out_of_range():
    np.testing.assert_array_equal(onehot(np.array([0, 2, 9]), 4), [1, 0, 1, 0])
