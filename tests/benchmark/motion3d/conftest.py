"""3D motion test fixtures: ``dance(T, seed, dtype)`` is :func:`benchmark.synthetic.synthetic_dance_3d`."""

import pytest

from benchmark.synthetic import synthetic_dance_3d


@pytest.fixture
def dance():
    return synthetic_dance_3d
