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
