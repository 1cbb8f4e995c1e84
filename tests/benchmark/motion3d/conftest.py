import numpy as np
import pytest

from ma_data.core.body import forward_kinematics


def make_dance(T: int, seed: int, dtype=np.float64) -> np.ndarray:
    """(T, 24, 3) Y-up joints of a smooth random dance: sinusoidal joint rotations, a bouncing, drifting root."""
    r = np.random.default_rng(seed)
    t = np.arange(T) / 30.0
    amp = 0.35 * r.normal(size=(24, 3))
    freq = r.uniform(0.3, 2.0, size=(24, 3))
    phase = r.uniform(0, 2 * np.pi, size=(24, 3))
    poses = amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)
    trans = np.stack(
        [
            0.4 * np.sin(t * r.uniform(0.2, 1.0)),
            0.93 + 0.04 * np.sin(2 * np.pi * r.uniform(1, 3) * t),
            0.4 * np.cos(t * r.uniform(0.2, 1.0)),
        ],
        axis=1,
    )
    return forward_kinematics(poses, trans).astype(dtype)


@pytest.fixture
def dance():
    return make_dance
