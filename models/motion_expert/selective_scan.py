"""Mamba-1 selective scan: pure-PyTorch implementations plus dispatch to mamba_ssm's CUDA kernel.

All functions share mamba_ssm's ``selective_scan_fn`` signature and layout::

    u, delta, z: (batch, d_inner, L)    A: (d_inner, d_state)    B, C: (batch, d_state, L)    D: (d_inner,)

and compute, per channel ``d`` and state ``n``::

    dt_t  = softplus(delta_t + delta_bias)            (if delta_softplus)
    h_t   = exp(dt_t * A) * h_{t-1} + dt_t * B_t * u_t
    y_t   = <C_t, h_t> + D * u_t,   then   y_t *= silu(z_t)

``"sequential"`` is the literal recurrence (one Python step per frame). ``"doubling"`` is a
Hillis-Steele prefix scan: log2(L) vectorised steps; the decay between two frames is taken as
``exp(cumA_t - cumA_s)`` of a cumulative log-decay, so it never divides by a tiny product (stable in
float32 for any length). ``benchmarks/bench_motion_expert.py`` measures the two against each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ma_data.core.errors import ConfigError

DEFAULT_CPU_IMPL = "chunked"
_CUDA_SCAN = None
_CUDA_SCAN_ERROR: str | None = None


def cuda_selective_scan():
    """Return mamba_ssm's ``selective_scan_fn`` if it imports, else None (the reason is kept)."""
    global _CUDA_SCAN, _CUDA_SCAN_ERROR
    if _CUDA_SCAN is None and _CUDA_SCAN_ERROR is None:
        try:
            from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

            _CUDA_SCAN = selective_scan_fn
        except Exception as exc:  # ImportError, or a kernel built for another torch
            _CUDA_SCAN_ERROR = f"{type(exc).__name__}: {exc}"
    return _CUDA_SCAN


def _prepare(u, delta, A, B, delta_bias, delta_softplus):
    """Discretise: per-step log-decay ``dt*A`` and input ``dt*B*u``, both (b, d, L, n), float32."""
    dtype_in = u.dtype
    u, delta, B = u.float(), delta.float(), B.float()
    if delta_bias is not None:
        delta = delta + delta_bias.float()[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    log_a = delta.unsqueeze(-1) * A.float()[:, None, :]  # (b, d, L, n), <= 0 for A < 0
    bu = (delta * u).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(1)  # (b, d, L, n)
    return dtype_in, u, log_a, bu


def _finish(h, u, C, D, z, dtype_in):
    """Read out ``y = <C, h> + D u``, gate with ``silu(z)``."""
    y = torch.einsum("bdln,bnl->bdl", h, C.float())
    if D is not None:
        y = y + D.float()[:, None] * u
    if z is not None:
        y = y * F.silu(z.float())
    return y.to(dtype_in)


def selective_scan_sequential(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """The literal recurrence, one frame at a time (reference; slow for long sequences)."""
    dtype_in, u, log_a, bu = _prepare(u, delta, A, B, delta_bias, delta_softplus)
    a = torch.exp(log_a)
    h = torch.zeros_like(bu[:, :, 0])
    states = []
    for t in range(u.shape[-1]):
        h = a[:, :, t] * h + bu[:, :, t]
        states.append(h)
    return _finish(torch.stack(states, dim=2), u, C, D, z, dtype_in)


def selective_scan_doubling(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """Hillis-Steele prefix scan over time: ceil(log2 L) vectorised steps."""
    dtype_in, u, log_a, h = _prepare(u, delta, A, B, delta_bias, delta_softplus)
    cum = torch.cumsum(log_a, dim=2)  # cum_t = sum_{s<=t} log a_s
    length = h.shape[2]
    k = 1
    while k < length:
        # h_t <- h_t + (prod_{s=t-k+1..t} a_s) * h_{t-k};  the product is exp(cum_t - cum_{t-k}) <= 1
        decay = torch.exp(cum[:, :, k:] - cum[:, :, :-k])
        shifted = decay * h[:, :, :-k]
        h = torch.cat([h[:, :, :k], h[:, :, k:] + shifted], dim=2)
        k *= 2
    return _finish(h, u, C, D, z, dtype_in)


# Largest within-chunk decay span (in log units) the chunked scan accepts: factors are at most
# exp(span / 2), far from float32's exp(88) overflow.
MAX_CHUNK_SPAN = 100.0


def selective_scan_chunked(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, chunk: int = 16
):
    """Chunked scan: closed form inside chunks of ``chunk`` frames, a short recurrence across chunks.

    Inside a chunk, ``h_t = sum_{s<=t} exp(cum_t - cum_s) b_s`` is evaluated as
    ``exp(cum_t - m) * cumsum_s(exp(m - cum_s) b_s)`` with ``m`` the chunk's mid-point cumulative decay,
    so every factor is bounded by ``exp(span / 2)``. Chunks whose decay span exceeds
    ``MAX_CHUNK_SPAN`` (very large learned step sizes) fall back to the doubling scan.
    """
    dtype_in, u, log_a, bu = _prepare(u, delta, A, B, delta_bias, delta_softplus)
    b, d, length, n = bu.shape
    pad = (-length) % chunk
    if pad:  # trailing padding never influences earlier frames of a causal scan
        log_a = F.pad(log_a, (0, 0, 0, pad))
        bu = F.pad(bu, (0, 0, 0, pad))
    n_chunks = (length + pad) // chunk
    log_a = log_a.view(b, d, n_chunks, chunk, n)
    bu = bu.view(b, d, n_chunks, chunk, n)
    cum = torch.cumsum(log_a, dim=3)  # decay from the chunk start (exclusive) to t (inclusive)
    if float(-cum[:, :, :, -1].detach().min()) > MAX_CHUNK_SPAN:
        return selective_scan_doubling(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    mid = cum[:, :, :, chunk // 2 : chunk // 2 + 1]
    local = torch.exp(cum - mid) * torch.cumsum(torch.exp(mid - cum) * bu, dim=3)
    # Carry the state across chunks: H_c = local_end_c + exp(cum_end_c) * H_{c-1}.
    ends, decay_end = local[:, :, :, -1], torch.exp(cum[:, :, :, -1])
    carry = [torch.zeros_like(ends[:, :, 0])]
    for c in range(n_chunks - 1):
        carry.append(ends[:, :, c] + decay_end[:, :, c] * carry[-1])
    h = local + torch.exp(cum) * torch.stack(carry, dim=2).unsqueeze(3)
    h = h.view(b, d, n_chunks * chunk, n)[:, :, :length]
    return _finish(h, u, C, D, z, dtype_in)


IMPLS = {
    "sequential": selective_scan_sequential,
    "doubling": selective_scan_doubling,
    "chunked": selective_scan_chunked,
}


def selective_scan(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, impl: str = "auto"
):
    """Selective scan with implementation choice.

    ``impl="auto"`` uses mamba_ssm's CUDA kernel for CUDA tensors when it imports, and the doubling
    scan otherwise. ``"cuda"`` insists on the kernel; ``"sequential"`` / ``"doubling"`` force a
    pure-PyTorch path on any device.
    """
    if impl in ("auto", "cuda") and u.is_cuda:
        fn = cuda_selective_scan()
        if fn is not None:
            return fn(u, delta, A, B, C, D, z=z, delta_bias=delta_bias, delta_softplus=delta_softplus)
    if impl == "cuda":
        raise RuntimeError(
            "impl='cuda' needs CUDA tensors and mamba_ssm's kernels"
            + (f" (import failed: {_CUDA_SCAN_ERROR})" if _CUDA_SCAN_ERROR else "")
        )
    if impl != "auto" and impl not in IMPLS:
        raise ConfigError(
            f"unknown selective-scan impl {impl!r}; choose auto, cuda or one of {sorted(IMPLS)}"
        )
    fn = IMPLS[DEFAULT_CPU_IMPL if impl == "auto" else impl]
    return fn(u, delta, A, B, C, D, z=z, delta_bias=delta_bias, delta_softplus=delta_softplus)
