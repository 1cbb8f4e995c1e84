"""Motion Expert checkpoints: ours, and the official release's layout mapped onto our module names.

Our file (``torch.save`` dict): ``format``, ``config`` (denoiser), ``train_config``, ``model_state_dict``,
``ema_state_dict``, ``optimizer_state_dict``, ``normalizer`` ({scale, min}), ``step``, ``genres``.

The official ``train-3750.pt`` holds ``model_state_dict`` / ``ema_state_dict`` of its ``DanceDecoder``
and a pickled EDGE ``Normalizer`` (``dataset.preprocess.Normalizer`` wrapping ``dataset.scaler.MinMaxScaler``);
those two classes are read into plain attribute holders, so the release's code is not needed.

Every checkpoint is read with ``torch.load(weights_only=True)`` (:func:`ma_data.core.io.torch_files.load_torch_file`):
tensors, containers, numbers and numpy arrays, plus the two EDGE classes as data holders; nothing in a file
can run code.
Ours are saved as plain dicts of tensors and primitives so that this works.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from ma_data.core.errors import ConfigError, FormatError
from ma_data.sources.finedance import FINEDANCE_GENRES

from .denoiser import DenoiserConfig, MotionDenoiser
from .normalizer import MinMaxNormalizer

FORMAT = "mace-dance/motion-expert"
FORMAT_VERSION = 1

# Official name -> ours; applied in order to every key (after stripping DDP/compile prefixes).
_OFFICIAL_RULES: tuple[tuple[str, str], ...] = (
    (r"^time_mlp\.1\.", "time_embed.linear_1."),
    (r"^time_mlp\.3\.", "time_embed.linear_2."),
    (r"^beta_mlp\.1\.", "beta_embed.linear_1."),
    (r"^beta_mlp\.3\.", "beta_embed.linear_2."),
    (r"^input_projection\.", "motion_in."),
    (r"^cond_projection\.", "music_in."),
    (r"^final_layer\.", "motion_out."),
    (r"^null_cond_embed$", "null_music"),
    (r"^dancelayerstack\.", "dance_layers."),
    (r"^musiclayerstack\.", "music_layers."),
    (r"\.bimamba\.mamba_forward\.", ".bimamba.fwd."),
    (r"\.bimamba\.mamba_backward\.", ".bimamba.bwd."),
    (r"\.film1\.block\.1\.", ".film_mamba.proj."),
    (r"\.film2\.block\.1\.", ".film_cross.proj."),
    (r"\.film\.block\.1\.", ".film.proj."),
    (r"\.genre_MLP\.0\.", ".genre.table."),
    (r"\.genre_MLP\.1\.", ".genre.linear_1."),
    (r"\.genre_MLP\.3\.", ".genre.linear_2."),
    (r"\.transformer\.cross_attn\.", ".cross.attn."),
    (r"\.transformer\.norm_dance\.", ".cross.norm_q."),
    (r"\.transformer\.norm_music\.", ".cross.norm_kv."),
    (r"\.transformer\.norm\.", ".cross.norm_ff."),
    (r"\.transformer\.linear1\.", ".cross.ff_in."),
    (r"\.transformer\.linear2\.", ".cross.ff_out."),
)
_PREFIXES = ("module.", "_orig_mod.")


def official_to_ours(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an official ``DanceDecoder`` state dict to :class:`MotionDenoiser` names."""
    out = {}
    for key, value in state.items():
        new = key
        for p in _PREFIXES:
            while new.startswith(p):
                new = new[len(p) :]
        for pattern, repl in _OFFICIAL_RULES:
            new = re.sub(pattern, repl, new)
        if new in out:
            raise FormatError(f"official state dict: two keys map to {new!r}")
        out[new] = value
    return out


def is_official_state(state: dict) -> bool:
    return any(k.split(".", 1)[0] in ("input_projection", "dancelayerstack") for k in state) or any(
        k.startswith(("module.input_projection", "module.dancelayerstack")) for k in state
    )


def infer_config(state: dict[str, torch.Tensor], **overrides) -> DenoiserConfig:
    """Recover the architecture from (our-named) weights; heads cannot be seen in weights (default 8)."""
    try:
        width, nfeats = state["motion_in.weight"].shape[0], state["motion_in.weight"].shape[1]
        kw = dict(
            nfeats=int(nfeats),
            width=int(width),
            music_dim=int(state["music_in.weight"].shape[1]),
            ff_size=int(state["dance_layers.0.cross.ff_in.weight"].shape[0]),
            dance_layers=1 + max(int(k.split(".")[1]) for k in state if k.startswith("dance_layers.")),
            music_layers=1
            + max((int(k.split(".")[1]) for k in state if k.startswith("music_layers.")), default=-1),
            n_genres=int(state["music_layers.0.genre.table.weight"].shape[0])
            if "music_layers.0.genre.table.weight" in state
            else len(FINEDANCE_GENRES),
            d_state=int(state["dance_layers.0.bimamba.fwd.A_log"].shape[1]),
            d_conv=int(state["dance_layers.0.bimamba.fwd.conv1d.weight"].shape[-1]),
            expand=int(state["dance_layers.0.bimamba.fwd.in_proj.weight"].shape[0]) // (2 * int(width)),
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise FormatError(f"state dict does not look like a Motion Expert denoiser ({exc})") from exc
    kw.update(overrides)
    return DenoiserConfig(**kw)


# ------------------------------------------------------------------------- unpickling the official normaliser


class _EdgeObject:
    """The attributes of a pickled EDGE object whose class we do not import: data only, no behaviour."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"{type(self).__name__} state must be a dict")
        for key, value in state.items():
            if isinstance(key, str) and not key.startswith("__"):
                self.__dict__[key] = value


class _EdgeNormalizer(_EdgeObject):
    pass


class _EdgeMinMaxScaler(_EdgeObject):
    pass


#: The release's classes, by the name its pickle gives them, mapped onto data holders.
OFFICIAL_CLASSES = {
    "dataset.preprocess.Normalizer": _EdgeNormalizer,
    "dataset.scaler.MinMaxScaler": _EdgeMinMaxScaler,
}


def _normalizer_from_official(obj) -> MinMaxNormalizer:
    scaler = getattr(obj, "scaler", obj)
    try:
        scale, min_ = scaler.scale_, scaler.min_
    except AttributeError as exc:
        raise FormatError(f"official normalizer has no scale_/min_ ({type(obj).__name__})") from exc
    arrays = []
    for value in (scale, min_):
        if torch.is_tensor(value):
            value = value.detach().cpu().numpy()
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
            raise FormatError(
                f"official normalizer scale_/min_ must be numeric arrays, got {type(value).__name__}"
            )
        arrays.append(value)
    return MinMaxNormalizer(*arrays)


# ------------------------------------------------------------------------------------------- load / save


@dataclass
class LoadedExpert:
    model: MotionDenoiser
    normalizer: MinMaxNormalizer
    source: str  # "ours" or "official"
    weights: str  # "model" or "ema"
    step: int | None
    raw: dict
    genres: tuple[str, ...] = FINEDANCE_GENRES


def save_checkpoint(path: Path, **payload) -> None:
    """Atomically write our checkpoint dict (``format``/``version`` are added)."""
    from ma_data.core.io.atomic import atomic_write

    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "genres": list(FINEDANCE_GENRES),
        **payload,
    }  # payload may override
    with atomic_write(Path(path), "wb") as fh:
        torch.save(payload, fh)


def read_checkpoint(path: Path, map_location="cpu") -> dict:
    """The checkpoint dict, read with ``torch.load(weights_only=True)``; one-line FormatError on any defect."""
    from ma_data.core.io.torch_files import load_torch_file

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: checkpoint not found")
    # numpy arrays are admitted (rebuilt by checked functions) in case a normaliser stored them.
    ckpt = load_torch_file(path, map_location=map_location, allow_numpy=True, classes=OFFICIAL_CLASSES)
    if not isinstance(ckpt, dict):
        raise FormatError(f"{path}: expected a checkpoint dict, got {type(ckpt).__name__}")
    return ckpt


def load_expert(
    path: Path,
    weights: str = "model",
    map_location="cpu",
    scan_impl: str = "auto",
    num_heads: int | None = None,
) -> LoadedExpert:
    """Build the denoiser and normaliser from our checkpoint or the official layout.

    ``weights="model"`` (what the release's ``test.py`` loads) or ``"ema"``.
    """
    if weights not in ("model", "ema"):
        raise ConfigError(f"weights must be 'model' or 'ema', got {weights!r}")
    ckpt = read_checkpoint(path, map_location)
    try:
        return _build_expert(Path(path), ckpt, weights, scan_impl, num_heads)
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise FormatError(f"{path}: checkpoint does not hold a usable Motion Expert ({reason})") from None


def _build_expert(
    path: Path, ckpt: dict, weights: str, scan_impl: str, num_heads: int | None
) -> LoadedExpert:
    key = f"{weights}_state_dict"
    if key not in ckpt:
        raise FormatError(f"{path}: no '{key}' in checkpoint (has {sorted(map(str, ckpt))[:10]})")
    if "normalizer" not in ckpt:
        raise FormatError(f"{path}: checkpoint has no 'normalizer'")
    state = ckpt[key]
    overrides = {"scan_impl": scan_impl}
    if ckpt.get("format") == FORMAT:
        source = "ours"
        known = {f.name for f in fields(DenoiserConfig)}
        cfg = DenoiserConfig(**{k: v for k, v in ckpt["config"].items() if k in known})
        cfg.scan_impl = scan_impl
        if num_heads:
            cfg.num_heads = num_heads
        normalizer = MinMaxNormalizer.from_state_dict(ckpt["normalizer"])
    elif is_official_state(state):
        source = "official"
        state = official_to_ours(state)
        if num_heads:
            overrides["num_heads"] = num_heads
        cfg = infer_config(state, **overrides)
        normalizer = _normalizer_from_official(ckpt["normalizer"])
    else:
        raise FormatError(f"{path}: '{key}' is neither our layout nor the official DanceDecoder layout")
    model = MotionDenoiser(cfg)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise FormatError(
            f"{path}: {source} weights do not match the model: missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}"
        )
    if normalizer.dim != cfg.nfeats:
        raise FormatError(f"{path}: normaliser has {normalizer.dim} channels, model {cfg.nfeats}")
    model.eval()
    genres = tuple(ckpt.get("genres") or FINEDANCE_GENRES) if source == "ours" else FINEDANCE_GENRES
    if len(genres) != cfg.n_genres:
        raise FormatError(f"{path}: {len(genres)} genre names for {cfg.n_genres} genre embeddings")
    return LoadedExpert(model, normalizer, source, weights, ckpt.get("step"), ckpt, genres)
