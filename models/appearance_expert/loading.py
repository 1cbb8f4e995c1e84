"""Loading Wan2.2-Animate through diffusers from a local directory in diffusers layout.

The base model is ``Wan-AI/Wan2.2-Animate-14B-Diffusers`` (about 82 GB). It is never downloaded implicitly: it is
looked up in the weights cache of :mod:`ma_data.core.weights` under the registry name :data:`BASE_WEIGHT` (or a
directory the user passes), and a missing directory is a :class:`~ma_data.core.errors.MissingWeightError` saying
where it was looked for and how to get it.

Components are loaded one by one instead of through ``DiffusionPipeline.from_pretrained`` for two reasons:
each component gets the dtype it needs (the Wan VAE is kept in float32, as diffusers recommends), and the CLIP
image processor is loaded as ``CLIPImageProcessorPil``. transformers >= 5 maps ``CLIPImageProcessor`` to a
torchvision backend; torchvision is not installable next to our CPU torch 2.13.0 (only a CUDA build exists and
it replaces torch), and the PIL backend computes the same resize/crop/normalise without it.

Memory options (:class:`MemoryOptions`) for real hardware, with their costs, are applied by
:func:`apply_memory_options`:

* ``dtype="bfloat16"`` -- transformer, text and image encoders in bf16: the 14B DiT needs ~33 GB instead of
  ~66 GB (fp32); the VAE stays fp32 (~0.5 GB) because bf16 Wan VAE decoding shows banding. Training in bf16
  weights with fp32 trainable parameters (we upcast the trainable ones) keeps the optimizer state exact.
* ``gradient_checkpointing=True`` -- recomputes every DiT block in the backward pass: activation memory for an
  81x1280x720 window drops from well over 80 GB to a few GB, for ~30-40 % more step time.
* ``offload="model"`` -- ``enable_model_cpu_offload``: whole components move to the GPU only while they run;
  peak GPU memory is the largest component (the DiT, ~33 GB in bf16) and each call pays one host-to-device
  copy of that component (seconds per denoising call chain, not per step).
* ``offload="group"`` -- diffusers group offloading of the DiT by blocks (``block_level``, ``num_blocks_per_group``
  blocks on the GPU at a time, optionally overlapped with a CUDA stream): peak GPU memory of a few GB for the
  DiT, at the cost of PCIe traffic every step (2-3x slower without streams, ~1.3x with ``use_stream``) and
  pinned host memory of the model's size.
* ``offload="sequential"`` -- ``enable_sequential_cpu_offload``: leaf-module offload, the smallest GPU memory
  and by far the slowest (10x or worse); a last resort.
* ``vae_tiling=True`` -- tiled VAE encode/decode (as the official inference uses ``tiled=True``): bounded VAE
  memory at 1280x720, with slight seams possible at tile borders.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ma_data.core.errors import FormatError, MissingWeightError, check_choice
from ma_data.core.progress import progress_enabled

#: Registry name (``manifests/weights.yaml``) of the base Wan2.2-Animate-14B model in diffusers layout.
BASE_WEIGHT = "wan2.2-animate-14b-diffusers"

#: The sub-directories a diffusers-layout Wan-Animate directory must have.
COMPONENTS = (
    "transformer",
    "vae",
    "text_encoder",
    "tokenizer",
    "image_encoder",
    "image_processor",
    "scheduler",
)


#: Weight dtypes of the DiT and encoders, and the CPU-offload modes (:class:`MemoryOptions`).
WEIGHT_DTYPES = ("bfloat16", "float16", "float32")
OFFLOAD_MODES = ("none", "model", "group", "sequential")


@dataclass(frozen=True)
class MemoryOptions:
    """How to fit the model on the hardware at hand; see the module docstring for what each one costs."""

    dtype: str = "bfloat16"
    gradient_checkpointing: bool = False
    offload: str = "none"  # none | model | group | sequential
    group_offload_blocks: int = 1
    group_offload_use_stream: bool = True
    vae_tiling: bool = False

    def __post_init__(self) -> None:
        check_choice("offload", self.offload, OFFLOAD_MODES)
        check_choice("dtype", self.dtype, WEIGHT_DTYPES)

    @property
    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)


def resolve_model_dir(path: str | os.PathLike | None = None, name: str = BASE_WEIGHT) -> Path:
    """Find the diffusers-layout model directory: ``path`` if given, else the weights cache entry ``name``.

    Raises :class:`MissingWeightError` when it is absent and :class:`FormatError` when it is not in diffusers
    layout (a DiffSynth/original-Wan checkpoint directory is the usual mistake).
    """
    from ma_data.core.weights import resolve_weight

    try:
        root = resolve_weight(name, path)
    except MissingWeightError as exc:
        # A directory cannot be fetched by `mace-bench weights fetch`; say how to get it instead.
        raise MissingWeightError(
            f"{exc}. It is a diffusers-layout directory: `huggingface-cli download "
            f"Wan-AI/Wan2.2-Animate-14B-Diffusers --local-dir DIR`, then put DIR there or pass it (--model-dir)"
        ) from exc
    except Exception as exc:  # an unregistered name: still give the one-line, actionable error
        where = Path(path) if path is not None else name
        raise MissingWeightError(
            f"Wan-Animate model directory not found ({where}): download Wan-AI/Wan2.2-Animate-14B-Diffusers "
            f"(`huggingface-cli download Wan-AI/Wan2.2-Animate-14B-Diffusers --local-dir DIR`) and pass DIR "
            f"({exc})"
        ) from exc
    missing = [c for c in COMPONENTS if not (root / c).is_dir()]
    if missing:
        raise FormatError(
            f"{root}: not a diffusers-layout Wan-Animate directory (missing {', '.join(missing)}); expected the "
            f"layout of Wan-AI/Wan2.2-Animate-14B-Diffusers (model_index.json + one folder per component)"
        )
    return root


def _scheduler_from_dir(folder: Path):
    import diffusers

    cfg_path = folder / "scheduler_config.json"
    if not cfg_path.is_file():
        raise FormatError(f"{cfg_path}: missing scheduler config")
    cls_name = json.loads(cfg_path.read_text()).get("_class_name", "UniPCMultistepScheduler")
    cls = getattr(diffusers, cls_name, None)
    if cls is None:
        raise FormatError(f"{cfg_path}: unknown scheduler class {cls_name!r}")
    return cls.from_pretrained(folder)


def load_transformer(model_dir: str | os.PathLike, dtype: Any = None):
    """The ``WanAnimateTransformer3DModel`` of a diffusers-layout directory (``model_dir/transformer``)."""
    from diffusers import WanAnimateTransformer3DModel

    folder = Path(model_dir) / "transformer"
    if not folder.is_dir():
        raise MissingWeightError(f"{folder}: transformer folder not found")
    return WanAnimateTransformer3DModel.from_pretrained(folder, torch_dtype=dtype)


def load_components(
    model_dir: str | os.PathLike, memory: MemoryOptions | None = None, transformer: Any = None
) -> dict[str, Any]:
    """Every pipeline component of ``model_dir`` with the dtypes of ``memory`` (VAE always float32).

    ``transformer`` lets a caller pass an already prepared (e.g. LoRA-injected) transformer.
    """
    import torch
    from diffusers import AutoencoderKLWan
    from transformers import AutoTokenizer, CLIPVisionModel, UMT5EncoderModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    memory = memory or MemoryOptions()
    root = Path(model_dir)
    dtype = memory.torch_dtype
    if transformer is None:
        transformer = load_transformer(root, dtype)
    return {
        "transformer": transformer,
        "vae": AutoencoderKLWan.from_pretrained(root / "vae", torch_dtype=torch.float32),
        "text_encoder": UMT5EncoderModel.from_pretrained(root / "text_encoder", dtype=dtype),
        "tokenizer": AutoTokenizer.from_pretrained(root / "tokenizer"),
        "image_encoder": CLIPVisionModel.from_pretrained(root / "image_encoder", dtype=dtype),
        "image_processor": CLIPImageProcessorPil.from_pretrained(root / "image_processor"),
        "scheduler": _scheduler_from_dir(root / "scheduler"),
    }


def load_pipeline(model_dir: str | os.PathLike, memory: MemoryOptions | None = None, transformer: Any = None):
    """A ``WanAnimatePipeline`` built from the components of ``model_dir`` (nothing moved to a device yet)."""
    from diffusers import WanAnimatePipeline

    pipe = WanAnimatePipeline(**load_components(model_dir, memory, transformer))
    pipe.set_progress_bar_config(disable=not progress_enabled())
    return pipe


def apply_memory_options(pipe, memory: MemoryOptions, device: str | None = None):
    """Apply offloading / checkpointing / VAE tiling to a pipeline and place it on ``device``."""
    if memory.gradient_checkpointing:
        pipe.transformer.enable_gradient_checkpointing()
    if memory.vae_tiling:
        pipe.vae.enable_tiling()
    if device is None:
        return pipe
    if memory.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif memory.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    elif memory.offload == "group":
        import torch

        pipe.transformer.enable_group_offload(
            onload_device=torch.device(device),
            offload_device=torch.device("cpu"),
            offload_type="block_level",
            num_blocks_per_group=memory.group_offload_blocks,
            use_stream=memory.group_offload_use_stream and torch.device(device).type == "cuda",
        )
        for name in ("text_encoder", "image_encoder", "vae"):
            getattr(pipe, name).to(device)
    else:
        pipe.to(device)
    return pipe
