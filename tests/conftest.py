"""Fixtures shared by every test package."""

from __future__ import annotations

from dataclasses import replace

import pytest


@pytest.fixture
def unpinned_weights(monkeypatch):
    """For tests that put tiny random stand-ins where the registry expects the real weights: the registry
    without its published hashes (loading then warns that the weights are unverified instead of failing)."""
    from ma_data.core import weights

    specs = {n: replace(s, sha256=None, sha256_prefix=None, files=()) for n, s in weights.registry().items()}
    monkeypatch.setattr(weights, "registry", lambda: specs)
    return specs
