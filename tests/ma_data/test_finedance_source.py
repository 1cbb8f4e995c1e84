"""FineDance reader, the FineDance@Genre split (120/130 overlap) and the synthetic sample's properties."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ma_data.core.body import forward_kinematics
from ma_data.core.errors import FormatError
from ma_data.sample import DEMO_SEQUENCES, SampleSequence, dance_motion, write_sample
from ma_data.sources.finedance import (
    FINEDANCE_GENRES,
    GENRE_IGNORE,
    GENRE_TEST,
    FineDanceSource,
    split_of,
)


def test_genre_split_overlap_resolved_as_ignored():
    assert set(GENRE_TEST) & set(GENRE_IGNORE) == {"120", "130"}
    assert split_of("120") is None and split_of("130") is None
    effective_test = [i for i in (f"{k:03d}" for k in range(1, 212)) if split_of(i) == "test"]
    assert len(effective_test) == 18
    assert split_of("012") == "test" and split_of("001") == "train" and split_of("116") is None
    assert sum(split_of(f"{k:03d}") == "train" for k in range(1, 212)) == 211 - 18 - len(GENRE_IGNORE)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    seqs = (SampleSequence("001", "Popping", "Street", 120.0, 6.0, 0.9, 110.0),
            SampleSequence("012", "Dai", "Folk", 96.0, 5.0, 0.1, 146.8))  # fmt: skip
    return write_sample(tmp_path_factory.mktemp("s") / "fd", sequences=seqs)


def test_reader_on_sample(sample_dir):
    src = FineDanceSource(sample_dir)
    assert src.synthetic and src.ids() == ["001", "012"]
    seqs = {s.seq_id: s for s in src.sequences()}
    assert seqs["012"].split == "test" and seqs["001"].genre == "Popping"
    assert all(s.genre in FINEDANCE_GENRES for s in seqs.values())
    m = src.motion("001")
    assert m.poses.shape == (180, 24, 3) and m.up_axis == "y" and m.fps == 30.0
    raw = np.load(sample_dir / "motion" / "001.npy")
    assert raw.shape == (180, 315)
    # the FineDance round trip keeps the generated motion
    poses, trans, _ = dance_motion(SampleSequence("001", "Popping", "Street", 120.0, 6.0, 0.9, 110.0))
    assert np.allclose(forward_kinematics(m.poses, m.trans), forward_kinematics(poses, trans), atol=1e-4)
    label = json.loads((sample_dir / "label_json" / "012.json").read_text())
    assert label["synthetic"] is True and label["style2"] == "Dai"
    assert "SYNTHETIC" in (sample_dir / "SYNTHETIC.md").read_text()


def test_sample_is_deterministic(sample_dir, tmp_path):
    seqs = (SampleSequence("001", "Popping", "Street", 120.0, 6.0, 0.9, 110.0),)
    other = write_sample(tmp_path / "fd", sequences=seqs)
    for rel in ("motion/001.npy", "music_wav/001.wav", "label_json/001.json"):
        assert (other / rel).read_bytes() == (sample_dir / rel).read_bytes()


def test_not_a_finedance_folder(tmp_path):
    with pytest.raises(FormatError, match="not a FineDance folder"):
        FineDanceSource(tmp_path)


@pytest.mark.parametrize("seq", DEMO_SEQUENCES[:2])
def test_procedural_dance_is_plausible(seq):
    poses, trans, contacts = dance_motion(seq)
    joints = forward_kinematics(poses, trans)
    fps = 30.0
    # planted feet barely move; feet in the air do
    speed = np.linalg.norm(np.diff(joints[:, [7, 8]], axis=0), axis=-1) * fps
    planted = contacts[1:] & contacts[:-1]
    assert speed[planted].mean() < 0.15 and speed[~planted].mean() > 0.3
    assert 0.6 < contacts.mean() < 0.98
    # feet stay above the floor and the body stands upright
    assert joints[:, [7, 8], 1].min() > 0.05
    assert (joints[:, 15, 1] - joints[:, 0, 1]).min() > 0.4
    # the pelvis dips once per beat: its height is periodic at the music's tempo
    h = trans[:, 1] - trans[:, 1].mean()
    spectrum = np.abs(np.fft.rfft(h * np.hanning(len(h))))
    freqs = np.fft.rfftfreq(len(h), 1 / fps)
    assert abs(freqs[spectrum[1:].argmax() + 1] - seq.bpm / 60.0) < 0.1
