"""Mamba-1 block and the bidirectional BiMamba used by the Motion Expert.

``Mamba`` has the parameter names and shapes of ``mamba_ssm.Mamba`` (``in_proj, conv1d, x_proj,
dt_proj, A_log, D, out_proj``) and its initialisation, so a state dict moves between the two
unchanged. Only the selective scan differs: pure PyTorch on the CPU, mamba_ssm's CUDA kernel when it
imports (see :mod:`models.motion_expert.selective_scan`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .selective_scan import selective_scan


class Mamba(nn.Module):
    """One Mamba-1 mixer: (B, L, d_model) -> (B, L, d_model)."""

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | str = "auto",
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 1e-4,
        conv_bias: bool = True,
        bias: bool = False,
        scan_impl: str = "auto",
    ):
        super().__init__()
        self.d_model, self.d_state, self.d_conv = d_model, d_state, d_conv
        self.d_inner = int(expand * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.scan_impl = scan_impl

        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=bias)
        # Depthwise causal convolution: pad both sides by d_conv-1 and keep the first L outputs.
        self.conv1d = nn.Conv1d(
            self.d_inner, self.d_inner, d_conv, groups=self.d_inner, padding=d_conv - 1, bias=conv_bias
        )
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)

        # dt initialisation as in the Mamba paper: weights ~ U(+-rank^-0.5); the bias is the inverse
        # softplus of a log-uniform step size in [dt_min, dt_max], so early steps neither vanish nor explode.
        std = self.dt_rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -std, std)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

        # S4D-real initialisation A = -(1..N), stored as log so A stays negative.
        A = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.A_log._no_weight_decay = True
        self.D._no_weight_decay = True
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        length = hidden.shape[1]
        xz = self.in_proj(hidden).transpose(1, 2)  # (B, 2*d_inner, L)
        x, z = xz.chunk(2, dim=1)
        x = F.silu(self.conv1d(x)[..., :length])
        x_dbl = self.x_proj(x.transpose(1, 2))  # (B, L, rank + 2N)
        dt, B, C = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = (dt @ self.dt_proj.weight.t()).transpose(1, 2)  # bias goes in as delta_bias, like mamba_ssm
        A = -torch.exp(self.A_log.float())
        y = selective_scan(
            x,
            dt,
            A,
            B.transpose(1, 2).contiguous(),
            C.transpose(1, 2).contiguous(),
            self.D.float(),
            z=z,
            delta_bias=self.dt_proj.bias.float(),
            delta_softplus=True,
            impl=self.scan_impl,
        )
        return self.out_proj(y.transpose(1, 2))


class BiMamba(nn.Module):
    """Pre-norm bidirectional Mamba: ``dropout(M_f(LN x) + flip(M_b(flip(LN x))))``, no residual.

    The two directions have separate weights; outputs are summed (the official ``IntraModalMamba``).
    """

    def __init__(
        self,
        d_model: int,
        dropout: float = 0.1,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        scan_impl: str = "auto",
    ):
        super().__init__()
        self.norm = nn.LayerNorm(d_model, eps=1e-5)
        self.fwd = Mamba(d_model, d_state=d_state, d_conv=d_conv, expand=expand, scan_impl=scan_impl)
        self.bwd = Mamba(d_model, d_state=d_state, d_conv=d_conv, expand=expand, scan_impl=scan_impl)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        return self.dropout(self.fwd(h) + self.bwd(h.flip(1)).flip(1))
