import os

import pytest

from ma_data.core import weights
from ma_data.core.errors import MissingWeightError
from ma_data.core.io.atomic import sha256_bytes


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path))
    return tmp_path


def test_registry_entries_are_complete():
    for name, spec in weights.registry().items():
        assert spec.filename, name
        assert spec.license, f"{name}: licence must be recorded"
        assert spec.sha256 is None or len(spec.sha256) == 64, name


def test_missing_weight_error_says_what_and_where(cache, monkeypatch):
    spec = weights.WeightSpec(name="toy", filename="toy/model.pth", url="https://example.org/model.pth")
    monkeypatch.setattr(weights, "registry", lambda: {"toy": spec})
    with pytest.raises(MissingWeightError) as err:
        weights.resolve_weight("toy")
    msg = str(err.value)
    assert str(cache / "weights" / "toy" / "model.pth") in msg
    assert "mace-bench weights fetch toy" in msg and "https://example.org/model.pth" in msg
    with pytest.raises(MissingWeightError, match="unknown weight 'other'"):
        weights.resolve_weight("other")


def test_verify_checks_sha256(cache, monkeypatch):
    data = b"weights!"
    good = weights.WeightSpec(name="w", filename="w.bin", sha256=sha256_bytes(data))
    bad = weights.WeightSpec(name="w", filename="w.bin", sha256="0" * 64)
    (cache / "weights").mkdir()
    (cache / "weights" / "w.bin").write_bytes(data)
    monkeypatch.setattr(weights, "registry", lambda: {"w": good})
    assert weights.verify_weight("w")[0]
    monkeypatch.setattr(weights, "registry", lambda: {"w": bad})
    ok, message = weights.verify_weight("w")
    assert not ok and "mismatch" in message


# ------------------------------------------------------------------------------- verification on load


@pytest.fixture
def fresh_hashes(cache, monkeypatch):
    """Empty in-process hash and warning memories (the on-disk cache lives in the temporary cache)."""
    monkeypatch.setattr(weights, "_HASHES", {})
    monkeypatch.setattr(weights, "_WARNED", set())
    return cache


def _install(cache, monkeypatch, data: bytes = b"weights!", **spec_fields):
    spec = weights.WeightSpec(name="w", filename="w/model.pth", **spec_fields)
    monkeypatch.setattr(weights, "registry", lambda: {"w": spec})
    path = cache / "weights" / "w" / "model.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_known_hash_mismatch_fails_naming_file_expected_and_actual(fresh_hashes, monkeypatch):
    from ma_data.core.errors import WeightMismatchError

    path = _install(fresh_hashes, monkeypatch, sha256="0" * 64)
    with pytest.raises(WeightMismatchError) as err:
        weights.resolve_weight("w")
    msg = str(err.value)
    assert str(path) in msg and "0" * 64 in msg and sha256_bytes(b"weights!") in msg and "\n" not in msg
    path.write_bytes(b"tampered")
    with pytest.raises(WeightMismatchError, match=sha256_bytes(b"tampered")):
        weights.resolve_weight("w")  # a changed file is hashed again


def test_matching_hash_and_prefix_load(fresh_hashes, monkeypatch):
    digest = sha256_bytes(b"weights!")
    path = _install(fresh_hashes, monkeypatch, sha256=digest)
    assert weights.resolve_weight("w") == path
    _install(fresh_hashes, monkeypatch, sha256_prefix=digest[:8])
    assert weights.resolve_weight("w") == path
    from ma_data.core.errors import WeightMismatchError

    _install(fresh_hashes, monkeypatch, sha256_prefix="deadbeef")
    with pytest.raises(WeightMismatchError, match="expected deadbeef... .*got " + digest):
        weights.resolve_weight("w")


def test_unknown_hash_warns_once_and_loads(fresh_hashes, monkeypatch, caplog):
    path = _install(fresh_hashes, monkeypatch, hash_source="not published")
    with caplog.at_level("WARNING", logger="ma_data.core.weights"):
        assert weights.resolve_weight("w") == path
        assert weights.resolve_weight("w") == path
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "no published checksum" in warned[0] and "not published" in warned[0]
    assert sha256_bytes(b"weights!") in warned[0]


def test_explicit_file_with_another_hash_is_used_with_a_warning(fresh_hashes, monkeypatch, caplog, tmp_path):
    _install(fresh_hashes, monkeypatch, sha256="0" * 64)
    mine = tmp_path / "my-finetune.pth"
    mine.write_bytes(b"my own weights")
    with caplog.at_level("WARNING", logger="ma_data.core.weights"):
        assert weights.resolve_weight("w", mine) == mine
    assert "not the registered weight" in caplog.text and str(mine) in caplog.text


def test_directory_weights_check_listed_files(fresh_hashes, monkeypatch):
    from ma_data.core.errors import WeightMismatchError

    folder = fresh_hashes / "weights" / "d"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"tensors")
    (folder / "config.json").write_text("{}")
    spec = weights.WeightSpec(name="d", filename="d", is_dir=True,
                              files=(("model.safetensors", sha256_bytes(b"tensors")),))  # fmt: skip
    monkeypatch.setattr(weights, "registry", lambda: {"d": spec})
    assert weights.resolve_weight("d") == folder
    (folder / "model.safetensors").write_bytes(b"other tensors")
    with pytest.raises(WeightMismatchError, match="model.safetensors: sha256 mismatch for weight 'd'"):
        weights.resolve_weight("d")
    (folder / "model.safetensors").unlink()
    with pytest.raises(WeightMismatchError, match="model.safetensors: file of weight 'd' missing"):
        weights.resolve_weight("d")


def test_hashes_are_cached_by_path_size_mtime(fresh_hashes, monkeypatch):
    calls = []
    real = weights.sha256_file
    monkeypatch.setattr(weights, "sha256_file", lambda p: calls.append(p) or real(p))
    path = _install(fresh_hashes, monkeypatch, sha256=sha256_bytes(b"weights!"))
    for _ in range(3):
        weights.resolve_weight("w")
    assert len(calls) == 1
    monkeypatch.setattr(weights, "_HASHES", {})  # a new process: the on-disk cache answers
    weights.resolve_weight("w")
    assert len(calls) == 1 and list(weights.HASH_CACHE.folder.rglob("*.json"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched: hashed again
    weights.resolve_weight("w")
    assert len(calls) == 2
    ok, message = weights.verify_weight("w")  # an explicit verify always re-reads the file
    assert ok and len(calls) == 3


def test_every_registered_weight_has_a_hash_or_says_why_not():
    for name, spec in weights.registry().items():
        has_hash = spec.sha256 or spec.sha256_prefix or spec.files
        assert has_hash or spec.hash_source, (
            f"{name}: record a sha256 or say in hash_source why there is none"
        )
        assert spec.hash_source, f"{name}: say where the recorded hash comes from"
