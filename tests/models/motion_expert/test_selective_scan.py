"""The pure-PyTorch selective scans against a literal float64 recurrence written here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.motion_expert import selective_scan as ss


def naive_scan(u, delta, A, B, C, D, z, delta_bias):
    """Element-by-element recurrence in float64 numpy (independent of the module's vectorisation)."""
    u, delta, A, B, C, D, z, bias = (np.asarray(a, np.float64) for a in (u, delta, A, B, C, D, z, delta_bias))
    b, d, length = u.shape
    n = A.shape[1]
    y = np.zeros((b, d, length))
    for i in range(b):
        for c in range(d):
            h = np.zeros(n)
            for t in range(length):
                dt = np.log1p(np.exp(delta[i, c, t] + bias[c]))  # softplus
                h = np.exp(dt * A[c]) * h + dt * B[i, :, t] * u[i, c, t]
                out = h @ C[i, :, t] + D[c] * u[i, c, t]
                y[i, c, t] = out * z[i, c, t] / (1 + np.exp(-z[i, c, t]))  # * silu(z)
    return y


def random_inputs(b=2, d=3, length=37, n=4, seed=0, dt_shift=0.0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(b, d, length, generator=g)
    delta = torch.randn(b, d, length, generator=g) * 0.5 + dt_shift
    A = -torch.rand(d, n, generator=g) * 3 - 0.1
    B = torch.randn(b, n, length, generator=g)
    C = torch.randn(b, n, length, generator=g)
    D = torch.randn(d, generator=g)
    z = torch.randn(b, d, length, generator=g)
    bias = torch.randn(d, generator=g) * 0.1
    return u, delta, A, B, C, D, z, bias


@pytest.mark.parametrize("impl", ["sequential", "doubling", "chunked", "blocked", "auto"])
@pytest.mark.parametrize("length", [1, 2, 5, 16, 37, 50])
def test_scan_matches_naive_recurrence(impl, length):
    u, delta, A, B, C, D, z, bias = random_inputs(length=length)
    want = naive_scan(u, delta, A, B, C, D, z, bias)
    got = ss.selective_scan(u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True, impl=impl)
    np.testing.assert_allclose(got.double().numpy(), want, rtol=1e-4, atol=1e-5)


def test_chunked_falls_back_when_decay_is_huge():
    # Step sizes around 100 make a chunk's decay span far beyond MAX_CHUNK_SPAN.
    u, delta, A, B, C, D, z, bias = random_inputs(length=40, dt_shift=100.0)
    want = naive_scan(u, delta, A, B, C, D, z, bias)
    got = ss.selective_scan_chunked(u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True)
    assert torch.isfinite(got).all()
    np.testing.assert_allclose(got.double().numpy(), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("block", [1, 3, 7, 40])
def test_blocked_scan_any_block_size(block):
    # 1 frame per block is the plain recurrence across blocks; 40 >= L is one block.
    u, delta, A, B, C, D, z, bias = random_inputs(length=37)
    want = naive_scan(u, delta, A, B, C, D, z, bias)
    got = ss.selective_scan_blocked(
        u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True, block=block
    )
    np.testing.assert_allclose(got.double().numpy(), want, rtol=1e-4, atol=1e-5)


def test_blocked_scan_is_stable_for_huge_decay_without_fallback():
    u, delta, A, B, C, D, z, bias = random_inputs(length=40, dt_shift=100.0)
    want = naive_scan(u, delta, A, B, C, D, z, bias)
    got = ss.selective_scan_blocked(u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True)
    np.testing.assert_allclose(got.double().numpy(), want, rtol=1e-4, atol=1e-4)


def test_blocked_scan_never_reads_data_on_the_host():
    # Meta tensors have no data: any .item()/float()/bool() on them raises, so a scan that runs on them
    # has no host synchronisation and can be captured in a CUDA graph.
    inputs = [t.to("meta") for t in random_inputs(length=37)]
    u, delta, A, B, C, D, z, bias = inputs
    y = ss.selective_scan(u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True, impl="blocked")
    assert y.shape == u.shape and y.device.type == "meta"
    with pytest.raises((RuntimeError, NotImplementedError)):
        ss.selective_scan_chunked(u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True)


def test_gradients_agree_between_implementations():
    grads = {}
    for impl in ("sequential", "doubling", "chunked", "blocked"):
        inputs = [t.clone().requires_grad_(True) for t in random_inputs(length=23)]
        u, delta, A, B, C, D, z, bias = inputs
        y = ss.selective_scan(u, delta, A, B, C, D, z=z, delta_bias=bias, delta_softplus=True, impl=impl)
        (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
        grads[impl] = [t.grad for t in inputs]
    for impl in ("doubling", "chunked", "blocked"):
        for g_ref, g in zip(grads["sequential"], grads[impl], strict=True):
            torch.testing.assert_close(g, g_ref, rtol=1e-4, atol=1e-5)


def test_unknown_impl_and_cuda_request_fail_clearly():
    u, delta, A, B, C, D, z, bias = random_inputs(length=4)
    with pytest.raises(ValueError, match="unknown selective-scan impl"):
        ss.selective_scan(u, delta, A, B, C, D, impl="magic")
    with pytest.raises(RuntimeError, match="CUDA"):
        ss.selective_scan(u, delta, A, B, C, D, impl="cuda")
