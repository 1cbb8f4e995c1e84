"""Content-addressed cache entries: layout, atomic writes, damaged entries as misses, concurrent writers."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from ma_data.core.cache import ContentCache, cache_dir, settings_tag

DIGEST = "ab" * 32
TAG = "0123456789abcdef"


def _save(value: np.ndarray):
    return lambda tmp: np.save(tmp, value)


def _load(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def test_entry_layout_under_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "c"))
    cache = ContentCache("beats", ".npy")
    assert cache_dir() == tmp_path / "c"
    assert cache.path(DIGEST, TAG) == tmp_path / "c" / "beats" / "ab" / f"{DIGEST}-{TAG}.npy"
    assert cache.path(DIGEST) == tmp_path / "c" / "beats" / "ab" / f"{DIGEST}.npy"
    assert ContentCache("x", root=tmp_path).path(DIGEST, "t") == tmp_path / "x" / "ab" / f"{DIGEST}-t"
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "moved"))  # read at each use
    assert cache.folder == tmp_path / "moved" / "beats"


@pytest.mark.parametrize("digest", ["../" + "a" * 20, "AB" * 32, "abc", "ab" * 32 + "/x", ""])
def test_digests_tags_and_namespaces_cannot_steer_the_path(digest, tmp_path):
    cache = ContentCache("ns", root=tmp_path)
    with pytest.raises(ValueError, match="digest"):
        cache.path(digest, TAG)
    for tag in ("../x", "a-b", "a/b", "x" * 65):
        with pytest.raises(ValueError, match="tag"):
            cache.path(DIGEST, tag)
    for namespace in ("..", ".", "a/b", "", "a\\b"):
        with pytest.raises(ValueError, match="namespace"):
            ContentCache(namespace, root=tmp_path)
    with pytest.raises(ValueError, match="suffix"):
        ContentCache("ns", "/.npz", root=tmp_path)


def test_settings_tag_names_canonical_json():
    expected = hashlib.sha256(b'{"a": 1, "b": [2, 3]}').hexdigest()[:16]
    assert settings_tag({"b": [2, 3], "a": 1}) == settings_tag({"a": 1, "b": [2, 3]}) == expected
    assert settings_tag({"a": 2, "b": [2, 3]}) != expected


def test_round_trip_and_misses(tmp_path):
    cache = ContentCache("ns", ".npy", root=tmp_path)
    calls = []
    assert cache.get(DIGEST, TAG, lambda p: calls.append(p)) is None and calls == []  # absent: not loaded
    path = cache.put(DIGEST, TAG, _save(np.arange(5.0)))
    assert path == cache.path(DIGEST, TAG) and path.is_file()
    np.testing.assert_array_equal(cache.get(DIGEST, TAG, _load), np.arange(5.0))
    assert cache.get(DIGEST, "other", _load) is None  # other settings: another entry
    assert cache.get(DIGEST, TAG, lambda p: None) is None and path.is_file()  # rejected, not damaged: kept


@pytest.mark.parametrize("junk", [b"", b"\x93NUMPY garbage", b"not an array at all" * 100])
def test_damaged_entry_is_a_miss_and_is_replaced(tmp_path, junk):
    cache = ContentCache("ns", ".npy", root=tmp_path)
    path = cache.path(DIGEST, TAG)
    path.parent.mkdir(parents=True)
    path.write_bytes(junk)
    assert cache.get(DIGEST, TAG, _load) is None
    assert not path.exists()  # removed, so the next run does not trip on it again
    cache.put(DIGEST, TAG, _save(np.ones(3)))
    np.testing.assert_array_equal(cache.get(DIGEST, TAG, _load), np.ones(3))


def test_a_damaged_read_never_removes_an_entry_written_meanwhile(tmp_path):
    cache = ContentCache("ns", ".npy", root=tmp_path)
    cache.put(DIGEST, TAG, _save(np.zeros(2)))

    def load_while_a_writer_replaces_it(path: Path):
        cache.put(DIGEST, TAG, _save(np.full(2, 7.0)))  # another process finishes its write
        raise ValueError("the copy this reader saw was damaged")

    assert cache.get(DIGEST, TAG, load_while_a_writer_replaces_it) is None
    np.testing.assert_array_equal(cache.get(DIGEST, TAG, _load), [7.0, 7.0])


def test_writes_are_atomic(tmp_path):
    cache = ContentCache("ns", ".npy", root=tmp_path)
    cache.put(DIGEST, TAG, _save(np.arange(3.0)))

    def crash(tmp: Path) -> None:
        tmp.write_bytes(b"half an arr")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="mid-write"):
        cache.put(DIGEST, TAG, crash)
    np.testing.assert_array_equal(cache.get(DIGEST, TAG, _load), np.arange(3.0))  # old entry intact
    assert [p.name for p in cache.path(DIGEST, TAG).parent.iterdir()] == [f"{DIGEST}-{TAG}.npy"]  # no temps


def test_an_unwritable_cache_never_fails_the_work(tmp_path):
    (tmp_path / "ns").write_text("a file where the namespace folder should be")
    cache = ContentCache("ns", ".npy", root=tmp_path)
    assert cache.put(DIGEST, TAG, _save(np.ones(2))) is None
    assert cache.get(DIGEST, TAG, _load) is None


N_WRITES, SIZE = 40, 1 << 18


def _payload(writer: int) -> bytes:
    return bytes([writer]) * SIZE


def _write_many(root: str, writer: int) -> None:
    cache = ContentCache("ns", ".bin", root=Path(root))
    for _ in range(N_WRITES):
        cache.put(DIGEST, TAG, lambda tmp: tmp.write_bytes(_payload(writer)))


def test_concurrent_writers_leave_one_complete_entry(tmp_path):
    """Two processes write the same entry over and over while this one reads it: every read is one writer's
    complete payload, and no temporary file is left behind."""
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_write_many, args=(str(tmp_path), w)) for w in (1, 2)]
    for p in writers:
        p.start()
    cache = ContentCache("ns", ".bin", root=tmp_path)
    valid = {_payload(1), _payload(2)}
    seen = []
    while any(p.is_alive() for p in writers):
        data = cache.get(DIGEST, TAG, Path.read_bytes)
        if data is not None:
            assert data in valid, f"torn entry: {len(data)} bytes"
            seen.append(data[0])
    for p in writers:
        p.join()
        assert p.exitcode == 0
    assert cache.get(DIGEST, TAG, Path.read_bytes) in valid
    assert [p.name for p in cache.folder.rglob("*") if p.is_file()] == [f"{DIGEST}-{TAG}.bin"]
