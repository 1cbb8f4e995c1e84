"""Read pickles written by others without running their code.

A pickle is a program: ``pickle.load`` calls whatever callable the file names (``os.system`` included). The
motion files in circulation (Motion Expert / EDGE outputs, AIST++ annotations, Bailando's ``np.save`` of a
dict) are pickles of plain containers and numpy arrays, so :func:`load_pickle` reads exactly that and
nothing else: dicts (and ``OrderedDict``), lists, tuples, sets, strings, bytes, numbers, booleans, None,
numpy arrays, dtypes and scalars. Any other global the file names is refused with a one-line
:class:`~ma_data.core.errors.FormatError` naming the file and the global.

numpy's pickles name these globals (checked with numpy 1.26 and 2.x, protocols 2 to 5):

- ``numpy.core.multiarray._reconstruct`` (numpy 1.x) / ``numpy._core.multiarray._reconstruct`` (2.x) with
  ``numpy.ndarray`` and ``numpy.dtype``: an empty array whose ``__setstate__`` receives shape, dtype and
  the raw bytes (or, for object arrays, a list of already-unpickled objects);
- ``numpy.core.numeric._frombuffer`` / ``numpy._core.numeric._frombuffer``: protocol 5's buffer form;
- ``numpy.core.multiarray.scalar`` / ``numpy._core.multiarray.scalar``: numpy scalars (``np.float64(1.5)``);
- ``_codecs.encode`` (protocol 2 spells bytes as a latin-1 string), ``builtins``/``__builtin__`` ``set``,
  ``frozenset``, ``complex``, ``bytes``, ``bytearray``, and ``collections.OrderedDict``.

Each is mapped to a small function of ours that checks its arguments (only ``numpy.ndarray`` may be
reconstructed; scalars and buffers may not have object dtypes), so no callable from the file is ever looked
up by name. After loading, the result is walked once more: only the types above may appear, nested at most
:data:`MAX_DEPTH` levels, without reference cycles and with at most :data:`MAX_OBJECTS` objects once shared
references are expanded.

:func:`load_npy` reads ``.npy`` files, including object arrays (``np.save`` of a dict), the same way.

**Objects of other classes** are read only where a caller names them (``classes=``, e.g. the sparse matrices
of an SMPL model file): such an object is never built; its pickled state (what ``__getstate__`` gave) is
handed to the caller's converter, which returns plain values. Both spellings a pickle uses for "a new object
of class C" are understood — the ``NEWOBJ`` opcode and ``copyreg._reconstructor(C, object, None)`` — followed
by ``BUILD`` with the state. Converted objects may sit in dicts and lists; anywhere else they are refused.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ma_data.core.errors import FormatError

__all__ = [
    "MAX_DEPTH",
    "MAX_OBJECTS",
    "NUMPY_PICKLE_GLOBALS",
    "StateConverters",
    "load_npy",
    "load_pickle",
    "loads_pickle",
]

#: Deepest container nesting accepted in a result (motion files nest two or three levels).
MAX_DEPTH = 100
#: Most Python objects (containers, numbers, strings, arrays) a result may hold, shared references counted
#: each time they are reached (so a "billion laughs" of shared lists is refused before anything expands it).
MAX_OBJECTS = 5_000_000

_PLAIN = (str, bytes, bytearray, int, float, complex, bool, type(None))


class _Refused(pickle.UnpicklingError):
    """A global or an argument the file asked for is not on the allowlist."""


class NdarrayRef:
    """What the global ``numpy.ndarray`` resolves to: a token only :func:`_reconstruct` accepts."""


def _reconstruct(subtype, shape, dtype) -> np.ndarray:
    # numpy's own _reconstruct(subtype, shape, dtype) makes an empty array of ``subtype``; its
    # __setstate__ (numpy's C code, which checks sizes) then fills it. Only plain ndarrays are made here.
    if subtype is not NdarrayRef and subtype is not np.ndarray:
        raise _Refused(f"numpy _reconstruct of {getattr(subtype, '__name__', type(subtype).__name__)}")
    return np.ndarray.__new__(np.ndarray, (0,), np.uint8)


def _dtype(obj, align=False, copy=False, *rest) -> np.dtype:
    if not isinstance(obj, str) or rest:
        raise _Refused(f"numpy.dtype({type(obj).__name__}, ...)")
    return np.dtype(obj, align=bool(align), copy=bool(copy))


def _plain_dtype(dtype, what: str) -> np.dtype:
    if not isinstance(dtype, np.dtype):
        raise _Refused(f"{what} without a dtype")
    if dtype.hasobject:
        raise _Refused(f"{what} of object dtype")
    return dtype


def _as_bytes(data, what: str) -> bytes:
    if isinstance(data, str):  # Python 2 pickles hand raw bytes over as latin-1 text
        return data.encode("latin-1")
    if isinstance(data, (bytes, bytearray, memoryview, pickle.PickleBuffer)):
        return bytes(data)
    raise _Refused(f"{what} from {type(data).__name__}")


def _scalar(dtype, data=None):
    dtype = _plain_dtype(dtype, "numpy scalar")
    raw = _as_bytes(data, "numpy scalar")
    if len(raw) != dtype.itemsize:
        raise _Refused(f"numpy scalar of {dtype} from {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype)[0]


def _frombuffer(buf, dtype, shape, order="C") -> np.ndarray:
    dtype = _plain_dtype(dtype, "numpy buffer")
    if order not in ("C", "F") or not isinstance(shape, tuple):
        raise _Refused("numpy buffer with a bad shape or order")
    raw = _as_bytes(buf, "numpy buffer")
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order=order).copy()  # writeable, owns its data


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise _Refused("_codecs.encode other than str to latin-1")
    return obj.encode("latin-1")


def _bytes(*args) -> bytes:
    if not args:
        return b""
    if len(args) == 2 and isinstance(args[0], str):
        return _codecs_encode(*args)
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytes(args[0])
    raise _Refused("bytes(...) other than from a string or bytes")


def _bytearray(*args) -> bytearray:
    return bytearray(_bytes(*args))


def _container(kind):
    def make(*args):
        if len(args) > 1 or (args and not isinstance(args[0], (list, tuple, set, frozenset))):
            raise _Refused(f"{kind.__name__}(...) from {type(args[0]).__name__}")
        return kind(*args)

    return make


def _complex(real=0.0, imag=0.0) -> complex:
    if not all(isinstance(x, (int, float)) for x in (real, imag)):
        raise _Refused("complex(...) from non-numbers")
    return complex(real, imag)


#: ``(module, name)`` a numpy pickle may name -> what it becomes here (both numpy 1.x and 2.x spellings).
NUMPY_PICKLE_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): NdarrayRef,
    ("numpy", "dtype"): _dtype,
}

_ALLOWED: dict[tuple[str, str], Any] = {
    **NUMPY_PICKLE_GLOBALS,
    ("_codecs", "encode"): _codecs_encode,
    ("builtins", "set"): _container(set),
    ("builtins", "frozenset"): _container(frozenset),
    ("builtins", "complex"): _complex,
    ("builtins", "bytes"): _bytes,
    ("builtins", "bytearray"): _bytearray,
    ("collections", "OrderedDict"): collections.OrderedDict,
}
_MODULE_ALIASES = {"__builtin__": "builtins", "copy_reg": "copyreg"}  # Python 2 names


def _clip(text: str, n: int = 120) -> str:
    """A string from the file, safe to print on one line."""
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= n else text[: n - 3] + "..."


#: ``(module, name)`` of a class -> a function from that object's pickled state to plain values.
StateConverters = Mapping[tuple[str, str], Callable[[Any], Any]]


class _Pending:
    """An object of a caller-named class, not built: it only collects the state ``BUILD`` gives it."""

    convert: Callable[[Any], Any]
    state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _reconstructor(cls, base, state):
    # copyreg._reconstructor(cls, object, None): how protocols 0 and 1 spell "a new cls, state follows".
    if not (isinstance(cls, type) and issubclass(cls, _Pending)) or base is not object or state is not None:
        raise _Refused("copyreg._reconstructor of a class that was not asked for")
    return cls()


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, classes: StateConverters | None = None) -> None:
        super().__init__(fh, encoding="latin1")
        self.classes: dict[tuple[str, str], type] = {}
        for (module, name), convert in (classes or {}).items():
            self.classes[(module, name)] = type(name, (_Pending,), {"convert": staticmethod(convert)})

    def find_class(self, module: str, name: str):
        key = (_MODULE_ALIASES.get(module, module), name)
        if key in _ALLOWED:
            return _ALLOWED[key]
        if self.classes:
            if key in self.classes:
                return self.classes[key]
            if key == ("copyreg", "_reconstructor"):
                return _reconstructor
            if key == ("builtins", "object"):
                return object
        raise _Refused(f"global {_clip(f'{module}.{name}')!r}")

    def persistent_load(self, pid):
        raise _Refused("persistent id")


def _is_leaf(o: Any) -> bool:
    if isinstance(o, (np.ndarray, np.void)):  # arrays and records holding objects are containers
        return not o.dtype.hasobject
    return isinstance(o, (*_PLAIN, np.dtype, np.generic))


def _children(o: Any, source: str) -> list:
    if isinstance(o, np.ndarray):  # object arrays only (others are leaves)
        return list(o.ravel(order="K"))
    if isinstance(o, np.void):  # a record with object fields
        return [o[name] for name in o.dtype.names or ()]
    if type(o) in (dict, collections.OrderedDict):
        return [x for kv in o.items() for x in kv]
    if type(o) in (list, tuple, set, frozenset):
        return list(o)
    raise FormatError(f"{source}: pickle holds an object of type {_clip(type(o).__name__)!r}")


def _check_tree(obj: Any, source: str) -> None:
    """Refuse disallowed types, nesting deeper than MAX_DEPTH, reference cycles, and structures that hold more
    than MAX_OBJECTS objects once shared references are expanded (sizes are memoised: linear time)."""
    if _is_leaf(obj):
        return
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded object count, depth)
    on_path: set[int] = set()
    keep: list[Any] = []  # records built on access (np.void) stay alive, so their ids stay unique
    stack: list[tuple[Any, list | None]] = [(obj, None)]
    while stack:
        o, kids = stack.pop()
        oid = id(o)
        if kids is not None:  # all children done: this container's size and depth
            on_path.discard(oid)
            count, depth = 1, 0
            for child in kids:
                if _is_leaf(child):
                    count += 1
                else:
                    c, d = done[id(child)]
                    count, depth = count + c, max(depth, d)
            depth += 1
            if depth > MAX_DEPTH:
                raise FormatError(f"{source}: pickle nests containers deeper than {MAX_DEPTH} levels")
            if count > MAX_OBJECTS:
                raise FormatError(f"{source}: pickle holds more than {MAX_OBJECTS} objects")
            done[oid] = (count, depth)
            continue
        if oid in done:
            continue
        if oid in on_path:
            raise FormatError(f"{source}: pickle holds a reference cycle")
        on_path.add(oid)
        kids = _children(o, source)
        keep.append(kids)
        stack.append((o, kids))
        stack.extend((c, None) for c in kids if not _is_leaf(c) and id(c) not in done)


def _settle(obj: Any) -> Any:
    """``obj`` with every :class:`_Pending` in it (as itself, a dict value or a list item) converted."""
    done: dict[int, Any] = {}

    def converted(p: _Pending) -> Any:
        if id(p) not in done:
            done[id(p)] = p.convert(p.state)
        return done[id(p)]

    if isinstance(obj, _Pending):
        return converted(obj)
    seen: set[int] = set()
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if type(o) in (dict, collections.OrderedDict):
            items = o.items()
        elif type(o) is list:
            items = enumerate(o)
        else:
            continue
        for key, value in list(items):
            if isinstance(value, _Pending):
                o[key] = converted(value)
            else:
                stack.append(value)
    return obj


def _load(fh, source: str, classes: StateConverters | None = None) -> Any:
    try:
        obj = _Unpickler(fh, classes).load()
        if classes:
            obj = _settle(obj)
    except _Refused as exc:
        raise FormatError(
            f"{source}: refused to unpickle {exc} (only plain containers, numbers, strings and numpy arrays "
            "are read from pickles)"
        ) from None
    except RecursionError:
        raise FormatError(f"{source}: pickle nests too deeply") from None
    except MemoryError:
        raise FormatError(f"{source}: pickle asks for more memory than is available") from None
    except Exception as exc:  # truncated or corrupt data: UnpicklingError, EOFError, ValueError, ...
        raise FormatError(f"{source}: cannot unpickle ({type(exc).__name__}: {_clip(str(exc))})") from None
    _check_tree(obj, source)
    return obj


def loads_pickle(data: bytes, source: str = "<bytes>", classes: StateConverters | None = None) -> Any:
    """Unpickle ``data`` allowing only plain containers and numpy values (see the module docstring), plus
    objects of ``classes``, each replaced by its converter's value for its pickled state."""
    return _load(io.BytesIO(data), source, classes)


def load_pickle(path: str | os.PathLike, classes: StateConverters | None = None) -> Any:
    """Unpickle the file at ``path`` allowing only plain containers and numpy values (and ``classes``, as in
    :func:`loads_pickle`).

    Raises :class:`FormatError` naming the file for a missing or unreadable file, a refused global, a
    converter's complaint, or a result with disallowed types.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return _load(fh, str(path), classes)
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


NPY_MAGIC = b"\x93NUMPY"


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.npy`` file; object arrays (``np.save`` of a dict or list) go through the safe unpickler.

    Raises :class:`FormatError` naming the file on any defect.
    """
    from numpy.lib import format as npy_format

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            try:
                version = npy_format.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
                else:  # version 3 (utf-8 field names) has no public header reader; plain arrays only
                    fh.seek(0)
                    return npy_format.read_array(fh, allow_pickle=False)
            except Exception as exc:  # ValueError, EOFError, or a SyntaxError/TokenError from the header
                raise FormatError(
                    f"{path}: not a .npy file ({type(exc).__name__}: {_clip(str(exc))})"
                ) from None
            if not dtype.hasobject:
                fh.seek(0)
                try:
                    return npy_format.read_array(fh, allow_pickle=False)
                except MemoryError:
                    raise FormatError(f"{path}: array too large for memory ({shape}, {dtype})") from None
                except (ValueError, EOFError) as exc:
                    raise FormatError(f"{path}: truncated or corrupt .npy ({_clip(str(exc))})") from None
            arr = _load(fh, str(path))
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(arr, np.ndarray) or arr.shape != tuple(shape):
        got = arr.shape if isinstance(arr, np.ndarray) else type(arr).__name__
        raise FormatError(f"{path}: .npy header says shape {tuple(shape)} but the data holds {got}")
    return arr
