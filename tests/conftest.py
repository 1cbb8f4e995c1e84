"""Suite-wide setup and fixtures shared by every test package.

Every cache the code or its libraries use lives in a temporary folder.

The suite must never write into the user's real caches (``~/.cache/mace-dance`` weights, keypoint tracks and
beats, Mesa's shader cache, matplotlib's font cache, Hugging Face and torch hub caches). The variables are set
in ``pytest_configure``, before any test module is imported, because some libraries read them at import time
(huggingface_hub, matplotlib); subprocesses started by tests inherit them. The session fixture
:func:`hermetic_caches` exposes the folder and checks that no test left the variables pointing elsewhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

#: cache variable -> folder under the temporary root. Each one is read by the code or a library it uses.
CACHE_VARS: dict[str, str] = {
    "MACE_DANCE_CACHE": "mace-dance",  # ma_data.core.cache.cache_dir: weights, file hashes, tracks, beats
    "XDG_CACHE_HOME": "xdg-cache",  # the ~/.cache default of Mesa, fontconfig, yt-dlp, pip, ...
    "MESA_SHADER_CACHE_DIR": "mesa-shader-cache",  # llvmpipe's compiled shaders (pyrender rendering)
    "MPLCONFIGDIR": "matplotlib",  # matplotlib's config and font cache
    "HF_HOME": "huggingface",  # transformers / diffusers / huggingface_hub
    "HF_HUB_CACHE": "huggingface/hub",  # wins over HF_HOME when a user sets it, so set it too
    "TORCH_HOME": "torch",  # torch.hub downloads
    "TORCH_EXTENSIONS_DIR": "torch-extensions",
    "TRITON_CACHE_DIR": "triton",
}
#: variables that would send a library's cache elsewhere (deprecated aliases that win over HF_HOME, opt-in
#: caches); removed for the session.
UNSET_VARS = (
    "HUGGINGFACE_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "PYTORCH_TRANSFORMERS_CACHE",
    "LIBROSA_CACHE_DIR",
)

_ROOT: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _ROOT
    _ROOT = Path(tempfile.mkdtemp(prefix="mace-dance-test-caches-"))
    for var, sub in CACHE_VARS.items():
        (_ROOT / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(_ROOT / sub)
    for var in UNSET_VARS:
        os.environ.pop(var, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _ROOT is not None:
        shutil.rmtree(_ROOT, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def hermetic_caches() -> Iterator[Path]:
    """The temporary root every cache variable points into (for the whole session)."""
    assert _ROOT is not None
    yield _ROOT
    moved = {v: os.environ.get(v) for v, sub in CACHE_VARS.items() if os.environ.get(v) != str(_ROOT / sub)}
    assert not moved, f"a test changed cache variables for the rest of the session: {moved}"


@pytest.fixture
def unpinned_weights(monkeypatch):
    """For tests that put tiny random stand-ins where the registry expects the real weights: the registry
    without its published hashes (loading then warns that the weights are unverified instead of failing)."""
    from ma_data.core import weights

    specs = {n: replace(s, sha256=None, sha256_prefix=None, files=()) for n, s in weights.registry().items()}
    monkeypatch.setattr(weights, "registry", lambda: specs)
    return specs


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """torch runs one intra-op thread for the module, then gets its setting back. Tiny models are as fast that
    way and immune to an oversubscribed shared CPU; folders of torch tests request it from an autouse fixture."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def _ray_home_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ray-home")


@pytest.fixture
def ray_home(monkeypatch, _ray_home_dir) -> Path:
    """``HOME`` for a test that starts a local Ray: a temporary folder, the same for the whole session.

    A local Ray writes ``~/.ray/auth_token`` (kept out of the real home), and a process that started Ray once
    keeps that token: a later start in the same process with another ``HOME`` generates a new token, and its
    GCS never comes up ("Timed out waiting for file .../gcs_server_port...").
    """
    monkeypatch.setenv("HOME", str(_ray_home_dir))
    return _ray_home_dir
