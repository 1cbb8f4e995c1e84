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
float32 for any length). ``"chunked"`` evaluates a closed form inside chunks and falls back to the
doubling scan when a chunk's decay is too large, a check that reads the data on the host.
``"blocked"`` runs the recurrence itself at two levels (every block at once, then across blocks): about
``2 sqrt(2 L)`` vectorised steps, only factors <= 1, no host synchronisation, so it can be captured in
a CUDA graph; it is the default whenever mamba_ssm's kernel is not used.
``benchmarks/bench_motion_expert.py`` measures them against each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ma_data.core.errors import ConfigError

DEFAULT_CPU_IMPL = "blocked"
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


def _blocked_layout(x: torch.Tensor, k: int, n_blocks: int) -> torch.Tensor:
    """(b, c, L) -> (k, b, c, n_blocks): frame ``i * k + j`` at ``[j, :, :, i]``; zero-padded at the end."""
    pad = n_blocks * k - x.shape[-1]
    if pad:  # trailing padding never influences earlier frames of a causal scan
        x = F.pad(x, (0, pad))
    return x.view(x.shape[0], x.shape[1], n_blocks, k).permute(3, 0, 1, 2)


def blocked_scan_block_size(length: int) -> int:
    """Block size minimising the vectorised steps of :func:`selective_scan_blocked` for ``length`` frames.

    About ``2k + L/k`` steps (two passes through a block, one across blocks); a size that needs padding
    costs a few more operations, so exact divisors win ties (240 frames: blocks of 10 or 12, not 11).
    """

    def cost(k: int) -> tuple[int, int]:
        return 2 * k + -(-length // k) + (4 if length % k else 0), k

    return min(range(1, min(length, 64) + 1), key=cost)


def selective_scan_blocked(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, block: int | None = None
):
    """Two-level recurrence: blocks of ``block`` frames (default :func:`blocked_scan_block_size`) at once.

    Pass 1 runs ``h <- a h + b`` through every block in parallel from a zero state, giving each block's
    end state; a short recurrence across blocks turns those into each block's true initial state
    (``H_i = end_i + prod(a over block i) * H_{i-1}``); pass 2 reruns the blocks from those states.
    Every factor is a decay ``exp(dt * A) <= 1``, so it is stable for any step size without a
    data-dependent fallback (no host synchronisation). Time is laid out as the leading dimension so
    each vectorised step reads contiguous memory.
    """
    dtype_in = u.dtype
    u, delta, B, C = u.float(), delta.float(), B.float(), C.float()
    if delta_bias is not None:
        delta = delta + delta_bias.float()[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    b, d, length = u.shape
    k = block or blocked_scan_block_size(length)
    n_blocks = -(-length // k)
    # (k, b, d, n_blocks, n): log-decay dt*A and input dt*B*u, contiguous in that order.
    log_a = _blocked_layout(delta, k, n_blocks).contiguous().unsqueeze(-1) * A.float()[:, None, :]
    bu = _blocked_layout(delta * u, k, n_blocks).contiguous().unsqueeze(-1) * _blocked_layout(
        B, k, n_blocks
    ).permute(0, 1, 3, 2).unsqueeze(2)
    a = torch.exp(log_a)
    end = bu[0]
    for j in range(1, k):
        end = torch.addcmul(bu[j], a[j], end)
    block_decay = torch.exp(log_a.sum(dim=0))  # (b, d, n_blocks, n)
    starts = [torch.zeros_like(end[:, :, 0])]
    for i in range(n_blocks - 1):
        starts.append(torch.addcmul(end[:, :, i], block_decay[:, :, i], starts[-1]))
    h = torch.stack(starts, dim=2)
    states = []
    for j in range(k):
        h = torch.addcmul(bu[j], a[j], h)
        states.append(h)
    c_blocked = _blocked_layout(C, k, n_blocks).permute(0, 1, 3, 2).unsqueeze(2)  # (k, b, 1, n_blocks, n)
    y = (torch.stack(states) * c_blocked).sum(-1)  # (k, b, d, n_blocks)
    y = y.permute(1, 2, 3, 0).reshape(b, d, n_blocks * k)[:, :, :length]
    if D is not None:
        y = y + D.float()[:, None] * u
    if z is not None:
        y = y * F.silu(z.float())
    return y.to(dtype_in)


IMPLS = {
    "sequential": selective_scan_sequential,
    "doubling": selective_scan_doubling,
    "chunked": selective_scan_chunked,
    "blocked": selective_scan_blocked,
}


def selective_scan(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, impl: str = "auto"
):
    """Selective scan with implementation choice.

    ``impl="auto"`` uses mamba_ssm's CUDA kernel for CUDA tensors when it imports, and the blocked
    scan otherwise. ``"cuda"`` insists on the kernel; a name of :data:`IMPLS` forces that pure-PyTorch
    path on any device.
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
