"""Model access: the weights cache, clear errors, the tiny model through the real loaders."""

from __future__ import annotations

import pytest

from ma_data.core.errors import FormatError, MissingWeightError
from models.appearance_expert.loading import COMPONENTS, MemoryOptions, resolve_model_dir


def test_missing_model_dir_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path))
    with pytest.raises(MissingWeightError) as err:
        resolve_model_dir()
    msg = str(err.value)
    assert str(tmp_path) in msg and "Wan-AI/Wan2.2-Animate-14B-Diffusers" in msg


def test_non_diffusers_dir_is_a_format_error(tmp_path):
    (tmp_path / "transformer").mkdir()
    with pytest.raises(FormatError, match="diffusers-layout"):
        resolve_model_dir(tmp_path)


def test_tiny_model_loads_through_cache(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path))
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "wan2.2-animate-14b-diffusers").symlink_to(tiny_model_dir)
    root = resolve_model_dir()
    assert all((root / c).is_dir() for c in COMPONENTS)


def test_tiny_pipeline_components(tiny_pipe):
    from diffusers import WanAnimatePipeline, WanAnimateTransformer3DModel

    assert isinstance(tiny_pipe, WanAnimatePipeline)
    assert isinstance(tiny_pipe.transformer, WanAnimateTransformer3DModel)
    # The PIL CLIP processor (no torchvision) is what we load.
    assert type(tiny_pipe.image_processor).__name__ == "CLIPImageProcessorPil"


def test_memory_options_validate():
    with pytest.raises(ValueError):
        MemoryOptions(offload="disk")
    with pytest.raises(ValueError):
        MemoryOptions(dtype="int8")
