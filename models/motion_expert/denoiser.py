"""The Motion Expert denoiser: a BiMamba music encoder with a genre gate and a BiMamba-Transformer
dance decoder, predicting the clean motion x0 from a noisy one.

Architecture (the official ``DanceDecoder`` of MACE-Dance ``Expert-Motion``):

* embeddings: ``e = MLP_t(sin(t)) + MLP_beta(sin(1000 * beta))``; no positional encoding, so any length works;
* music encoder: ``c <- c + FiLM_genre(BiMamba(c))`` x ``music_layers``;
* null condition: ``c_used = c + e_null`` (conditional) or ``e_null`` alone (music dropped);
* dance layers: ``x <- x + FiLM_e(BiMamba(x))`` then ``x <- x + FiLM_e(FFN(LN(CrossAttn(LN x, LN c))))``.

Module names are ours; :mod:`models.motion_expert.checkpoint` maps the official key names onto them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ma_data.core.errors import ConfigError
from ma_data.sources.finedance import FINEDANCE_GENRES

from .mamba import BiMamba


@dataclass
class DenoiserConfig:
    nfeats: int = 151
    music_dim: int = 35
    width: int = 512
    ff_size: int = 1024
    num_heads: int = 8  # the released code; the paper says 4
    dropout: float = 0.1
    dance_layers: int = 8
    music_layers: int = 2
    n_genres: int = len(FINEDANCE_GENRES)
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    scan_impl: str = "auto"

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoidal_embedding(x: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) -> (B, dim): [sin(x w_i), cos(x w_i)] with w_i = 10000^(-i/(half-1)), as in DDPM/EDGE."""
    half = dim // 2
    freqs = torch.exp(
        torch.arange(half, device=x.device, dtype=torch.float32) * (-math.log(10000) / (half - 1))
    )
    args = x.float().reshape(-1, 1) * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class ScalarEmbedding(nn.Module):
    """Sinusoidal embedding of a scalar followed by Linear -> Mish -> Linear (time and beta)."""

    def __init__(self, width: int):
        super().__init__()
        self.width = width
        self.linear_1 = nn.Linear(width, 4 * width)
        self.linear_2 = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.mish(self.linear_1(sinusoidal_embedding(x, self.width))))


class FiLM(nn.Module):
    """Mish -> Linear(w, 2w) giving (scale, shift); applied as ``(1 + scale) * h + shift`` over time."""

    def __init__(self, width: int):
        super().__init__()
        self.proj = nn.Linear(width, 2 * width)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.proj(F.mish(emb)).unsqueeze(1).chunk(2, dim=-1)
        return (1 + scale) * h + shift


class GenreEmbedding(nn.Module):
    """Genre id -> vector: Embedding -> Linear -> Mish -> Linear (the paper's Genre-Gate input)."""

    def __init__(self, n_genres: int, width: int, hidden: int):
        super().__init__()
        self.table = nn.Embedding(n_genres, width)
        self.linear_1 = nn.Linear(width, hidden)
        self.linear_2 = nn.Linear(hidden, width)

    def forward(self, genre: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.mish(self.linear_1(self.table(genre))))


class MusicLayer(nn.Module):
    """``c <- c + FiLM_genre(BiMamba(c))``."""

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.bimamba = _bimamba(cfg)
        self.genre = GenreEmbedding(cfg.n_genres, cfg.width, cfg.ff_size)
        self.film = FiLM(cfg.width)

    def forward(self, c: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
        return c + self.film(self.bimamba(c), self.genre(genre))


class CrossBlock(nn.Module):
    """Cross-attention (queries: dance, keys/values: music) followed by an FFN on its output.

    As in the release there is no self-attention and no residual between attention and FFN; the
    residual is added by the caller after FiLM.
    """

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        w = cfg.width
        self.norm_q = nn.LayerNorm(w)
        self.norm_kv = nn.LayerNorm(w)
        self.attn = nn.MultiheadAttention(w, cfg.num_heads, dropout=cfg.dropout, batch_first=True)
        self.drop_attn = nn.Dropout(cfg.dropout)
        self.norm_ff = nn.LayerNorm(w)
        self.ff_in = nn.Linear(w, cfg.ff_size)
        self.ff_out = nn.Linear(cfg.ff_size, w)
        self.drop_ff_in = nn.Dropout(cfg.dropout)
        self.drop_ff_out = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mem: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(mem)
        a = self.drop_attn(self.attn(self.norm_q(x), kv, kv, need_weights=False)[0])
        return self.drop_ff_out(self.ff_out(self.drop_ff_in(F.gelu(self.ff_in(self.norm_ff(a))))))


class DanceLayer(nn.Module):
    """``x <- x + FiLM_e(BiMamba(x))``; ``x <- x + FiLM_e(CrossBlock(x, c))``."""

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.bimamba = _bimamba(cfg)
        self.film_mamba = FiLM(cfg.width)
        self.cross = CrossBlock(cfg)
        self.film_cross = FiLM(cfg.width)

    def forward(self, x: torch.Tensor, c: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        x = x + self.film_mamba(self.bimamba(x), emb)
        return x + self.film_cross(self.cross(x, c), emb)


def _bimamba(cfg: DenoiserConfig) -> BiMamba:
    return BiMamba(cfg.width, cfg.dropout, cfg.d_state, cfg.d_conv, cfg.expand, scan_impl=cfg.scan_impl)


class MotionDenoiser(nn.Module):
    """x0-predicting denoiser ``f(x_t, t, beta, music, genre)``; all tensors batch-first.

    ``x``: (B, T, nfeats) normalised motion; ``music``: (B, T_m, music_dim); ``genre``: (B,) long;
    ``t``: (B,) diffusion step; ``beta``: (B,) GFT temperature in [0, 1].
    """

    def __init__(self, cfg: DenoiserConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or DenoiserConfig()
        self.time_embed = ScalarEmbedding(cfg.width)
        self.beta_embed = ScalarEmbedding(cfg.width)
        self.motion_in = nn.Linear(cfg.nfeats, cfg.width)
        self.music_in = nn.Linear(cfg.music_dim, cfg.width)
        self.motion_out = nn.Linear(cfg.width, cfg.nfeats)
        self.music_layers = nn.ModuleList([MusicLayer(cfg) for _ in range(cfg.music_layers)])
        self.dance_layers = nn.ModuleList([DanceLayer(cfg) for _ in range(cfg.dance_layers)])
        self.null_music = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.n_calls = 0  # network evaluations since construction (sampling cost accounting)

    def encode_music(self, music: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
        c = self.music_in(music)
        for layer in self.music_layers:
            c = layer(c, genre)
        return c

    def beta_embedding(self, beta: torch.Tensor | float, batch: int, device: torch.device) -> torch.Tensor:
        """(batch, width) embedding of the GFT temperature (constant over a sampling run)."""
        beta = torch.as_tensor(beta, device=device, dtype=torch.float32).expand(batch)
        return self.beta_embed(beta * 1000.0)

    def embedding(
        self, t: torch.Tensor | int, beta_emb: torch.Tensor, batch: int, device: torch.device
    ) -> torch.Tensor:
        """(batch, width) step embedding ``MLP_t(sin(t)) + MLP_beta(sin(1000 beta))`` from a beta embedding."""
        t = torch.as_tensor(t, device=device).expand(batch)
        return self.time_embed(t) + beta_emb

    def condition(
        self, music_embed: torch.Tensor | None, batch: int, keep_music: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Cross-attention memory: ``music_embed + e_null``, or ``e_null`` alone for the unconditional branch."""
        if music_embed is None:
            # All keys equal e_null: attention returns its value whatever the length, so one token suffices.
            return self.null_music.expand(batch, 1, -1)
        if keep_music is not None:
            music_embed = music_embed * keep_music.to(music_embed.dtype).view(batch, 1, 1)
        return music_embed + self.null_music

    def decode(self, x: torch.Tensor, c: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """The part that depends on ``x_t``: dance layers over ``x`` with memory ``c`` and embedding ``emb``.

        It reads no tensor data on the host, so a CUDA graph can capture it (see :mod:`.sampling_step`).
        """
        h = self.motion_in(x)
        for layer in self.dance_layers:
            h = layer(h, c, emb)
        return self.motion_out(h)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        beta: torch.Tensor,
        music: torch.Tensor | None = None,
        genre: torch.Tensor | None = None,
        keep_music: torch.Tensor | None = None,
        music_embed: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict x0. Pass ``music``+``genre`` (or a precomputed ``music_embed``) for the conditional
        branch, neither for the unconditional one. ``keep_music`` (B,) bool drops music per sample."""
        self.n_calls += 1
        batch = x.shape[0]
        emb = self.embedding(t, self.beta_embedding(beta, batch, x.device), batch, x.device)
        if music_embed is None and music is not None:
            if genre is None:
                raise ConfigError("the music encoder needs a genre id per sample")
            music_embed = self.encode_music(music, genre)
        return self.decode(x, self.condition(music_embed, batch, keep_music), emb)
