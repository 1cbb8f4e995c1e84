"""Model test fixtures: every model test module runs torch single-threaded (tiny models, shared CPUs)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread(one_torch_thread):
    """Tiny convolutions run ~40x slower with 2 threads on a shared CPU (oversubscription)."""
