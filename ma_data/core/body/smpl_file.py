"""Read an SMPL model file (``SMPL_NEUTRAL.pkl`` or ``.npz``) as plain numpy arrays, without running its code.

The released SMPL ``.pkl`` files are Python 2 pickles: numpy arrays, a ``scipy.sparse`` joint regressor and,
in the files as downloaded, ``chumpy`` arrays. smplx reads them with ``pickle.load``, which runs whatever
the file names. Here they go through the restricted unpickler (:mod:`ma_data.core.io.safe_pickle`): the
sparse matrices (CSC/CSR, any scipy version's module path) become dense arrays, a chumpy ``Ch`` becomes its
value ``x``, and anything else is refused with a one-line error naming the file. The result is what
``smplx.SMPL(data_struct=...)`` needs, so smplx never opens the file itself. ``.npz`` files are read with
``allow_pickle=False``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ma_data.core.errors import FormatError
from ma_data.core.io.safe_pickle import StateConverters, load_pickle

__all__ = ["MAX_DENSE_ELEMENTS", "SMPL_MODEL_CLASSES", "find_smpl_model", "read_smpl_model"]

#: Largest dense array a sparse matrix may become (SMPL's joint regressor is 24 x 6890 = 165,360).
MAX_DENSE_ELEMENTS = 50_000_000

#: The arrays ``smplx.SMPL`` reads from a model file.
REQUIRED_KEYS = ("v_template", "f", "weights", "J_regressor", "shapedirs", "posedirs", "kintree_table")


def _compressed_to_dense(state: Any, fmt: str) -> np.ndarray:
    """A CSC or CSR matrix's pickled state (its ``__dict__``) as a dense array; duplicates sum, as in scipy."""
    if not isinstance(state, dict):
        raise ValueError(f"sparse {fmt} matrix without a state dict")
    shape = state.get("_shape", state.get("shape"))
    arrays = [state.get(k) for k in ("data", "indices", "indptr")]
    if not (
        isinstance(shape, tuple)
        and len(shape) == 2
        and all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape)
    ):
        raise ValueError(f"sparse {fmt} matrix with a bad shape {shape!r}")
    if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in arrays):
        raise ValueError(f"sparse {fmt} matrix without 1-D data/indices/indptr arrays")
    data, indices, indptr = arrays
    if data.dtype.kind not in "biuf" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise ValueError(f"sparse {fmt} matrix with dtypes {data.dtype}/{indices.dtype}/{indptr.dtype}")
    rows, cols = (int(n) for n in shape)
    if rows * cols > MAX_DENSE_ELEMENTS:
        raise ValueError(f"sparse {fmt} matrix of {rows}x{cols} is too large to densify")
    major, minor = (cols, rows) if fmt == "csc" else (rows, cols)
    counts = np.diff(indptr.astype(np.int64))
    ok = (
        len(indptr) == major + 1
        and indptr[0] == 0
        and (counts >= 0).all()
        and indptr[-1] == len(indices) == len(data)
        and ((indices >= 0) & (indices < minor)).all()
    )
    if not ok:
        raise ValueError(f"sparse {fmt} matrix with inconsistent indices")
    dense = np.zeros((major, minor), dtype=data.dtype)
    np.add.at(dense, (np.repeat(np.arange(major), counts), indices.astype(np.int64)), data)
    return np.ascontiguousarray(dense.T if fmt == "csc" else dense)


def _chumpy_value(state: Any) -> np.ndarray:
    """A chumpy ``Ch``'s pickled state holds its value as ``x``."""
    x = state.get("x") if isinstance(state, dict) else None
    if not isinstance(x, np.ndarray) or x.dtype.hasobject:
        raise ValueError(
            "chumpy array without a numeric value 'x' (clean the file with smplx's tools/clean_ch.py)"
        )
    return x


def _sparse(fmt: str):
    return lambda state: _compressed_to_dense(state, fmt)


#: Classes an SMPL model pickle may hold, under every module path scipy and chumpy have used.
SMPL_MODEL_CLASSES: StateConverters = {
    **{(module, "csc_matrix"): _sparse("csc") for module in ("scipy.sparse.csc", "scipy.sparse._csc")},
    **{(module, "csr_matrix"): _sparse("csr") for module in ("scipy.sparse.csr", "scipy.sparse._csr")},
    ("chumpy.ch", "Ch"): _chumpy_value,
}


def find_smpl_model(model_dir: str | os.PathLike, gender: str = "neutral") -> Path | None:
    """``<dir>/smpl/SMPL_<GENDER>.pkl`` (smplx's layout), ``<dir>/SMPL_<GENDER>.pkl``, or the ``.npz`` of
    either; ``None`` when there is none."""
    root = Path(model_dir)
    for folder in (root / "smpl", root):
        for ext in (".pkl", ".npz"):
            path = folder / f"SMPL_{gender.upper()}{ext}"
            if path.is_file():
                return path
    return None


def read_smpl_model(path: str | os.PathLike) -> dict[str, Any]:
    """The model file's entries as plain values (see the module docstring). Raises :class:`FormatError`
    naming the file when it cannot be read safely or lacks an array smplx needs."""
    path = Path(path)
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                data: Any = {key: npz[key] for key in npz.files}
        except (OSError, ValueError, EOFError) as exc:
            raise FormatError(f"{path}: not a readable SMPL .npz without pickled objects ({exc})") from None
    else:
        data = load_pickle(path, classes=SMPL_MODEL_CLASSES)
    if not isinstance(data, dict):
        raise FormatError(f"{path}: an SMPL model file holds a dict, got {type(data).__name__}")
    missing = [k for k in REQUIRED_KEYS if not isinstance(data.get(k), np.ndarray)]
    if missing:
        raise FormatError(f"{path}: not an SMPL model file (no array {', '.join(missing)})")
    return data
