"""The network evaluation of one DDIM step, with everything that does not depend on ``x_t`` done once.

Across the steps of a sampling run the music encoding, the cross-attention memory and the GFT temperature's
embedding are constant, so :class:`DenoiseStep` computes them when it is built; a step then runs only the
time embedding and :meth:`MotionDenoiser.decode` (twice for CFG). That part reads no tensor data on the
host, so on CUDA it is captured once in a CUDA graph and replayed at every step with the new ``x_t`` and
``t`` copied in (batch 1 is bound by kernel launches, not by the GPU's arithmetic). Graphs are cached per
model and shapes, so repeated sampling at one length captures once; if capture fails the step runs eagerly
and says why in :attr:`DenoiseStep.graph_error`.
"""

from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable

import torch

from ma_data.core.errors import ConfigError

from .denoiser import MotionDenoiser

#: Captured graphs kept per model (each holds its activations' memory pool).
MAX_GRAPHS_PER_MODEL = 4

# model -> captured graphs; a graph holds raw pointers to the weights, not the model, so entries go with it.
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict_x0(
    model: MotionDenoiser,
    x: torch.Tensor,
    t: torch.Tensor,
    cond: torch.Tensor,
    beta_emb: torch.Tensor,
    cfg_scale: float | None,
) -> torch.Tensor:
    """x0 prediction at step ``t`` (B,) given the run's constants ``cond`` and ``beta_emb``: GFT
    (``cfg_scale=None``, one network call) or CFG (two, sharing the step embedding)."""
    emb = model.embedding(t, beta_emb, x.shape[0], x.device)
    if cfg_scale is None:
        return model.decode(x, cond, emb)
    conditional = model.decode(x, cond, emb)
    unconditional = model.decode(x, model.condition(None, x.shape[0]), emb)
    return unconditional + cfg_scale * (conditional - unconditional)


class CudaGraphStep:
    """``fn(x, t, cond, beta_emb)`` captured in a CUDA graph; calls copy their inputs into static buffers
    and replay. The returned tensor is the graph's static output: it is overwritten by the next call.
    """

    def __init__(
        self,
        fn: Callable,
        x: torch.Tensor,
        t: torch.Tensor,
        cond: torch.Tensor,
        beta_emb: torch.Tensor,
        warmup: int = 2,
    ):
        self.x, self.t, self.cond, self.beta_emb = x.clone(), t.clone(), cond.clone(), beta_emb.clone()
        inputs = (self.x, self.t, self.cond, self.beta_emb)
        # Warm-up on a side stream (lazy cuBLAS/cuDNN initialisation must not happen during capture).
        side = torch.cuda.Stream(device=x.device)
        side.wait_stream(torch.cuda.current_stream(x.device))
        with torch.cuda.stream(side):
            for _ in range(warmup):
                fn(*inputs)
        torch.cuda.current_stream(x.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = fn(*inputs)

    def set_constants(self, cond: torch.Tensor, beta_emb: torch.Tensor) -> None:
        """A new run's conditioning and temperature (same shapes)."""
        self.cond.copy_(cond)
        self.beta_emb.copy_(beta_emb)

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.x.copy_(x)
        self.t.copy_(t)
        self.graph.replay()
        return self.out


def captured_graphs(model: MotionDenoiser) -> int:
    """How many step graphs are cached for ``model`` (0 on the CPU or when capture failed)."""
    return len(_GRAPHS.get(model, ()))


def _model_fingerprint(model: MotionDenoiser) -> tuple:
    """What a captured graph depends on besides its inputs: where the weights live, mode, scan choice."""
    ptrs = tuple(t.data_ptr() for t in (*model.parameters(), *model.buffers()))
    scans = tuple(getattr(m, "scan_impl", None) for m in model.modules() if hasattr(m, "scan_impl"))
    return ptrs, scans, model.training


_COMPILED: list[Callable] = []


def compiled_predict_x0() -> Callable:
    """``torch.compile(predict_x0)``, made once: dynamo keeps one compiled graph per model, guidance and
    shape (the model is an argument, so nothing here holds a model alive)."""
    if not _COMPILED:
        _COMPILED.append(torch.compile(predict_x0, dynamic=False))
    return _COMPILED[0]


class DenoiseStep:
    """``x0 = step(x_t, t)`` for fixed music, genre and guidance; ``t`` is (B,) long (see :meth:`timesteps`).

    ``cuda_graph``: None replays a CUDA graph when the music is on CUDA and the model is in eval mode,
    True insists (an error on the CPU), False never. ``compile`` wraps the step in ``torch.compile``.
    """

    def __init__(
        self,
        model: MotionDenoiser,
        music: torch.Tensor,
        genre: torch.Tensor,
        guidance: str = "gft",
        beta: float = 0.75,
        cfg_scale: float = 2.0,
        cuda_graph: bool | None = None,
        compile: bool = False,
    ):
        if guidance not in ("gft", "cfg"):
            raise ConfigError(f"guidance must be 'gft' or 'cfg', got {guidance!r}")
        if cuda_graph and not music.is_cuda:
            raise ConfigError("CUDA graphs need the model and music on a CUDA device")
        self.model = model
        self.batch, self.device = music.shape[0], music.device
        self.cfg_scale = None if guidance == "gft" else float(cfg_scale)
        self.calls_per_step = 1 if guidance == "gft" else 2
        # Step-invariant: the music branch and the temperature (CFG evaluates both branches at beta = 1).
        self.cond = model.condition(model.encode_music(music, genre), self.batch)
        self.beta_emb = model.beta_embedding(beta if guidance == "gft" else 1.0, self.batch, self.device)
        self.predict = compiled_predict_x0() if compile else predict_x0
        self.compiled = compile
        self.use_graph = music.is_cuda and not model.training if cuda_graph is None else cuda_graph
        self.graph: CudaGraphStep | None = None
        self.graph_error: str | None = None

    def fn(self, x, t, cond, beta_emb) -> torch.Tensor:
        return self.predict(self.model, x, t, cond, beta_emb, self.cfg_scale)

    def timesteps(self, steps: list[int]) -> torch.Tensor:
        """(n, B) long: row ``k`` is diffusion step ``steps[k]`` for every sample (one transfer per run)."""
        return torch.tensor(steps, device=self.device, dtype=torch.long)[:, None].expand(-1, self.batch)

    def _graph_for(self, x: torch.Tensor, t: torch.Tensor) -> CudaGraphStep | None:
        key = (self.cfg_scale, self.compiled, tuple(x.shape), tuple(self.cond.shape),
               x.dtype, str(x.device), _model_fingerprint(self.model))  # fmt: skip
        cache = _GRAPHS.setdefault(self.model, OrderedDict())
        graph = cache.get(key)
        if graph is None:
            try:
                graph = CudaGraphStep(self.fn, x, t, self.cond, self.beta_emb)
            except Exception as exc:  # an op that cannot be captured: run eagerly, say why
                self.graph_error = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"CUDA graph capture failed, sampling eagerly ({self.graph_error})", stacklevel=3
                )
                return None
            cache[key] = graph
            while len(cache) > MAX_GRAPHS_PER_MODEL:
                cache.popitem(last=False)
        cache.move_to_end(key)
        graph.set_constants(self.cond, self.beta_emb)
        return graph

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x0 prediction; on the graph path the result is overwritten by the next call."""
        self.model.n_calls += self.calls_per_step
        if self.use_graph and self.graph is None and self.graph_error is None:
            self.graph = self._graph_for(x, t)
        if self.graph is not None:
            return self.graph(x, t)
        return self.fn(x, t, self.cond, self.beta_emb)
