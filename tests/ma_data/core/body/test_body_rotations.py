import numpy as np
import pytest
import torch

from ma_data.core.body import rotations as R


def _random_aa(n, seed=0, scale=1.2):
    return np.random.default_rng(seed).normal(size=(n, 3)) * scale


def _rodrigues(aa):
    """Textbook Rodrigues formula, one vector at a time."""
    out = []
    for v in aa:
        th = np.linalg.norm(v)
        if th < 1e-12:
            out.append(np.eye(3))
            continue
        k = v / th
        K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        out.append(np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * K @ K)
    return np.array(out)


def test_axis_angle_to_matrix_matches_rodrigues():
    aa = _random_aa(200)
    np.testing.assert_allclose(R.axis_angle_to_matrix(aa), _rodrigues(aa), atol=1e-12)


def test_known_rotation_90_about_z():
    m = R.axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(m @ np.array([1.0, 0, 0]), [0, 1, 0], atol=1e-12)
    q = R.axis_angle_to_quaternion(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(q, [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)], atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_round_trips(backend):
    aa = _random_aa(300, seed=1)
    aa = aa[np.linalg.norm(aa, axis=1) < np.pi - 1e-3]  # unique representation
    x = aa if backend == "numpy" else torch.tensor(aa)
    m = R.axis_angle_to_matrix(x)
    back = R.matrix_to_axis_angle(m)
    q = R.matrix_to_quaternion(m)
    d6 = R.matrix_to_rotation_6d(m)
    assert type(back) is type(x)
    as_np = (lambda t: t) if backend == "numpy" else (lambda t: t.numpy())
    np.testing.assert_allclose(as_np(back), aa, atol=1e-10)
    np.testing.assert_allclose(as_np(R.quaternion_to_axis_angle(q)), aa, atol=1e-10)
    np.testing.assert_allclose(as_np(R.quaternion_to_matrix(q)), as_np(m), atol=1e-12)
    np.testing.assert_allclose(as_np(R.rotation_6d_to_matrix(d6)), as_np(m), atol=1e-12)
    np.testing.assert_allclose(as_np(R.axis_angle_to_quaternion(x)), as_np(q), atol=1e-12)


def test_6d_is_first_two_rows():
    m = R.axis_angle_to_matrix(_random_aa(5, seed=2))
    d6 = R.matrix_to_rotation_6d(m)
    np.testing.assert_array_equal(d6[:, :3], m[:, 0, :])
    np.testing.assert_array_equal(d6[:, 3:], m[:, 1, :])


def test_6d_gram_schmidt_repairs_noisy_rows():
    m = R.axis_angle_to_matrix(_random_aa(50, seed=3))
    d6 = R.matrix_to_rotation_6d(m) * 3.0  # scaled rows still decode to the same rotation
    np.testing.assert_allclose(R.rotation_6d_to_matrix(d6), m, atol=1e-12)
    out = R.rotation_6d_to_matrix(np.random.default_rng(0).normal(size=(20, 6)))
    np.testing.assert_allclose(
        out @ np.swapaxes(out, -1, -2), np.broadcast_to(np.eye(3), out.shape), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(out), 1.0, atol=1e-12)


def test_edge_cases_zero_and_pi():
    np.testing.assert_allclose(R.axis_angle_to_matrix(np.zeros(3)), np.eye(3))
    np.testing.assert_allclose(R.matrix_to_axis_angle(np.eye(3)), np.zeros(3), atol=1e-15)
    tiny = np.array([1e-9, -2e-9, 0.5e-9])
    np.testing.assert_allclose(
        R.matrix_to_axis_angle(R.axis_angle_to_matrix(tiny)), tiny, rtol=1e-6, atol=1e-18
    )
    for axis in np.eye(3):
        aa = R.matrix_to_axis_angle(R.axis_angle_to_matrix(axis * np.pi))
        assert abs(np.linalg.norm(aa) - np.pi) < 1e-9
        np.testing.assert_allclose(
            R.axis_angle_to_matrix(aa), R.axis_angle_to_matrix(axis * np.pi), atol=1e-12
        )


def test_batched_shapes_and_float32():
    aa = np.random.default_rng(0).normal(size=(2, 7, 24, 3)).astype(np.float32)
    m = R.axis_angle_to_matrix(aa)
    assert m.shape == (2, 7, 24, 3, 3) and m.dtype == np.float32
    assert R.matrix_to_rotation_6d(m).shape == (2, 7, 24, 6)
    assert R.matrix_to_quaternion(m).shape == (2, 7, 24, 4)


def test_quaternion_multiply_composes():
    a, b = _random_aa(10, 4), _random_aa(10, 5)
    qa, qb = R.axis_angle_to_quaternion(a), R.axis_angle_to_quaternion(b)
    np.testing.assert_allclose(
        R.quaternion_to_matrix(R.quaternion_multiply(qa, qb)),
        R.axis_angle_to_matrix(a) @ R.axis_angle_to_matrix(b),
        atol=1e-12,
    )
    v = np.random.default_rng(6).normal(size=(10, 3))
    np.testing.assert_allclose(R.quaternion_apply(qa, v), (R.axis_angle_to_matrix(a) @ v[..., None])[..., 0])


def test_torch_gradients_flow():
    aa = torch.tensor(_random_aa(4, 7), requires_grad=True)
    R.axis_angle_to_matrix(aa).sum().backward()
    assert torch.isfinite(aa.grad).all()


def test_6d_decode_of_degenerate_vectors_is_finite_with_finite_gradients():
    """Network outputs can hold zero 6D vectors; the decode clamps norms as pytorch3d's F.normalize does."""
    import torch

    from ma_data.core.body.rotations import rotation_6d_to_matrix

    assert np.isfinite(rotation_6d_to_matrix(np.zeros((2, 6)))).all()
    d6 = torch.zeros(3, 6, requires_grad=True)
    rotation_6d_to_matrix(d6).sum().backward()
    assert torch.isfinite(d6.grad).all()
