"""FineDance loading, splits, genres and training windows."""

from __future__ import annotations

import numpy as np
import pytest

from ma_data.core.errors import FormatError
from ma_data.sources.finedance import read_genre
from models.motion_expert.data import (
    Sequence,
    genre_id,
    genre_vocabulary,
    list_sequences,
    load_finedance,
    make_windows,
)


def test_genre_lookup():
    assert genre_id("Dai") == 0 and genre_id("dunhuang") == 15 and genre_id("5") == 5 and genre_id(9) == 9
    with pytest.raises(ValueError, match="unknown genre"):
        genre_id("Waltz")
    with pytest.raises(ValueError, match="out of range"):
        genre_id(16)


def test_genre_vocabulary_extends_the_official_sixteen():
    vocab = genre_vocabulary(["Jazz", "waltz", "Tango", "WALTZ", "hiphop"])
    assert vocab[:16] == genre_vocabulary([])[:16] and vocab[16:] == ("Tango", "waltz")
    assert genre_id("Waltz", vocab) == 17 and genre_id("jazz", vocab) == 12


def test_read_genre_errors_name_the_file(tmp_path):
    p = tmp_path / "001.json"
    p.write_text('{"style1": "Modern"}')
    with pytest.raises(FormatError, match="001.json.*style2"):
        read_genre(p)


def test_split_lists(tmp_path):
    for sub in ("motion", "music_wav", "label_json"):
        (tmp_path / sub).mkdir()
    for i in ("001", "012", "116", "130", "200"):
        np.save(tmp_path / "motion" / f"{i}.npy", np.zeros((2, 315)))
    assert list_sequences(tmp_path, "train") == ["001", "200"]
    assert list_sequences(tmp_path, "test") == ["012"]  # 130 is both test and ignored: dropped
    assert list_sequences(tmp_path, "all") == ["001", "012", "116", "130", "200"]


def test_windows_are_views_of_the_sequences():
    a = Sequence(
        "001", np.arange(50 * 151, dtype=np.float32).reshape(50, 151), np.ones((50, 35), np.float32), "Wei", 3
    )
    b = Sequence("002", -np.ones((10, 151), np.float32), np.zeros((10, 35), np.float32), "Korean", 4)
    c = Sequence("003", np.zeros((30, 151), np.float32), np.zeros((30, 35), np.float32), "Miao", 7)
    w = make_windows([a, b, c], window=20, stride=10)
    assert w.short == ["002"]
    assert len(w) == 4 + 2  # starts 0,10,20,30 in 001; 0,10 in 003
    motion, music, genre = w.batch(np.array([1, 4]))
    np.testing.assert_array_equal(motion[0], a.motion[10:30])
    np.testing.assert_array_equal(motion[1], c.motion[0:20])
    assert music.shape == (2, 20, 35) and list(genre) == [3, 7]
    with pytest.raises(FormatError, match="at least 100 frames"):
        make_windows([b], window=100, stride=1)


def test_load_finedance_reads_genres_and_features(finedance_dir, tmp_path):
    seqs, failed, vocab = load_finedance(finedance_dir, "train", cache_dir=tmp_path / "feats")
    assert not failed and [s.seq_id for s in seqs] == ["001", "002", "003"] and len(vocab) == 16
    assert [s.genre for s in seqs] == [genre_id("Hiphop"), genre_id("Popping"), genre_id("Jazz")]
    for s in seqs:
        assert s.motion.shape[1] == 151 and s.music.shape == (len(s.motion), 35)
    assert sorted(p.name for p in (tmp_path / "feats").iterdir()) == ["001.npy", "002.npy", "003.npy"]


def test_short_clips_shrink_the_training_window(finedance_dir, tmp_path):
    from dataclasses import replace

    from models.motion_expert.train import PRESETS, _prepare_data

    cfg = replace(PRESETS["tiny"], window=1000)
    windows, normalizer, genres, info = _prepare_data(finedance_dir, tmp_path, cfg, None)
    assert windows.window == 120 and info["sequences"] == 3  # the shortest fixture clip is 4 s
    assert PRESETS["tiny"].window == 60 and cfg.window == 1000  # configs are not mutated
    assert windows.motion.min() >= -1 and windows.motion.max() <= 1 and len(genres) == 16
