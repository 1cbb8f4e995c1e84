"""Read torch checkpoints without running code: ``torch.load(weights_only=True)`` and one-line errors.

Every checkpoint the toolkit opens (ours, the official releases, downloaded weights) goes through
:func:`load_torch_file`. torch's weights-only unpickler builds tensors, containers and numbers and refuses
every other global; two narrow, opt-in extensions exist:

- ``allow_numpy=True`` admits numpy arrays, dtypes and scalars, rebuilt by the checked functions of
  :mod:`ma_data.core.io.safe_pickle` (older checkpoints of ours stored numpy RNG states);
- ``classes={"module.Name": cls}`` maps a class the file names onto a plain data holder of ours (the
  official Motion Expert checkpoint pickles EDGE's ``Normalizer``); ``cls`` must only store what it is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ma_data.core.errors import FormatError

__all__ = ["load_torch_file", "numpy_safe_globals"]


def numpy_safe_globals() -> list[tuple[Any, str]]:
    """``(object, "module.name")`` pairs for ``torch.serialization.safe_globals`` that admit numpy values."""
    import numpy as np

    from ma_data.core.io.safe_pickle import NUMPY_PICKLE_GLOBALS, NdarrayRef

    pairs: list[tuple[Any, str]] = [
        (np.ndarray if obj is NdarrayRef else obj, f"{module}.{name}")
        for (module, name), obj in NUMPY_PICKLE_GLOBALS.items()
    ]
    # torch only lets BUILD (``__setstate__``) run on allowlisted types: ndarrays and the dtype classes.
    kinds = (bool, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
             np.float16, np.float32, np.float64, np.complex64, np.complex128)  # fmt: skip
    pairs += [(type(np.dtype(k)), f"numpy.dtypes.{type(np.dtype(k)).__name__}") for k in kinds]
    return pairs


def _reason(exc: BaseException) -> str:
    text = str(exc)
    found = re.search(r"GLOBAL (\S+)", text)
    if found:
        name = found.group(1)[:100]
        return (
            f"refused the pickled global {name!r} (checkpoints are read with torch.load(weights_only=True): "
            "tensors, containers and numbers only)"
        )
    found = re.search(r"WeightsUnpickler error:\s*([^\n]+)", text)
    line = found.group(1) if found else next((s for s in text.splitlines() if s.strip()), "")
    if "weights_only" in line:  # torch's boilerplate, not the reason
        line = "not a torch checkpoint, or one that holds more than tensors and plain values"
    line = " ".join(f"{type(exc).__name__}: {line}".split())
    return line if len(line) <= 200 else line[:197] + "..."


def load_torch_file(
    path: str | os.PathLike,
    *,
    map_location: Any = "cpu",
    allow_numpy: bool = False,
    classes: Mapping[str, type] | None = None,
) -> Any:
    """``torch.load(path, weights_only=True)``; any failure is a one-line FormatError naming the file."""
    import torch

    path = Path(path)
    allowed = [(cls, name) for name, cls in (classes or {}).items()]
    if allow_numpy:
        allowed += numpy_safe_globals()
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(str(path), map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, expected a checkpoint file") from None
    except MemoryError:
        raise FormatError(f"{path}: checkpoint too large for memory") from None
    except Exception as exc:  # UnpicklingError, RuntimeError (corrupt zip), EOFError, ...
        raise FormatError(f"{path}: cannot load checkpoint ({_reason(exc)})") from None
