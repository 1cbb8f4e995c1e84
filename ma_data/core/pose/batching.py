"""Helpers for running pose models on batches of frames: batch sizing, chunking, slot filling, precision.

- :func:`frames_per_batch` bounds a batch by the memory its frames take (``--batch-size`` is an upper bound).
- :func:`chunked` groups a frame stream into lists, checking every frame, in order.
- :func:`fill_slots` runs a per-item CPU step (resize, crop) on a thread pool, each result written straight
  into its row of one preallocated batch array (OpenCV releases the GIL, so the threads really run at once).
- :func:`precision` is the numeric mode of a model call: ``float32`` is IEEE float32 (TF32 off, which PyTorch
  otherwise allows for cuDNN convolutions: batched and one-by-one runs then agree to float32 rounding),
  ``bfloat16`` runs under ``torch.autocast`` (matmuls and convolutions in bfloat16, reductions such as
  softmax and layer norm in float32).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ma_data.core.errors import ConfigError, check_choice
from ma_data.core.pose.base import check_frame

#: Numeric modes of the pose model: float32 (default, the reference numbers) or bfloat16 (faster on GPUs).
DTYPES = ("float32", "bfloat16")
#: Host memory the frames of one batch may take, with the batch being read ahead (bytes).
DEFAULT_BATCH_BYTES = 1 << 30


def check_dtype(dtype: str) -> str:
    return check_choice("pose dtype", dtype, DTYPES)


def frames_per_batch(batch_size: int, width: int, height: int, budget: int = DEFAULT_BATCH_BYTES) -> int:
    """``batch_size`` (at least 1), lowered so that two batches of RGB frames (the one being processed and
    the one read ahead) fit in ``budget`` bytes: 32 frames of 720p take 88 MB, of 4K 796 MB."""
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}")
    per_frame = 2 * 3 * max(1, width) * max(1, height)
    return max(1, min(int(batch_size), budget // per_frame))


def chunked(frames: Iterable[np.ndarray], size: int, width: int, height: int) -> Iterator[list[np.ndarray]]:
    """Lists of up to ``size`` consecutive frames, each checked against the declared frame size."""
    chunk: list[np.ndarray] = []
    for i, frame in enumerate(frames):
        chunk.append(check_frame(frame, width, height, i))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fill(out: np.ndarray, row: int, fn: Callable[..., np.ndarray], args: tuple) -> None:
    out[row] = fn(*args)


def fill_slots(
    pool: ThreadPoolExecutor, out: np.ndarray, fn: Callable[..., np.ndarray], items: Sequence[tuple]
) -> list[Future]:
    """Submit ``out[j] = fn(*items[j])`` for every ``j``; wait on the returned futures (they re-raise)."""
    return [pool.submit(_fill, out, j, fn, args) for j, args in enumerate(items)]


def wait_all(futures: Iterable[Future]) -> None:
    for fut in futures:
        fut.result()


@contextlib.contextmanager
def ieee_float32(torch: Any) -> Iterator[None]:
    """Float32 matmuls and convolutions without TF32 (restored afterwards)."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = (cudnn.allow_tf32, matmul.allow_tf32)
    cudnn.allow_tf32 = matmul.allow_tf32 = False
    try:
        yield
    finally:
        cudnn.allow_tf32, matmul.allow_tf32 = saved


def precision(torch: Any, device: str, dtype: str):
    """The context a model call runs in for ``dtype`` (see the module docstring)."""
    if check_dtype(dtype) == "bfloat16":
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
    return ieee_float32(torch)
