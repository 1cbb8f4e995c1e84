"""Motion-benchmark test fixtures: keep the on-disk caches (music beats) inside the test's temp dir."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path_factory.getbasetemp() / "mace-dance-cache"))
