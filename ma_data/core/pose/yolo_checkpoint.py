"""Read an ultralytics checkpoint (``yolov8s.pt``) without executing any of its pickled classes.

The released file is a torch zip whose ``data.pkl`` pickles ``{"model": DetectionModel(...), "ema": ..., ...}``:
whole ``nn.Module`` objects of ultralytics classes (``ultralytics.nn.tasks.DetectionModel``,
``ultralytics.nn.modules.conv.Conv``, ``...block.C2f``, ``...head.Detect``, older files ``ultralytics.nn.modules.Conv``
or ``ultralytics.yolo.utils.*``) and of ``torch.nn.modules.*``, each restored by ``__new__`` plus its ``__dict__``
(``_parameters``, ``_buffers``, ``_modules``, ``eps``, ...).

We load it with :func:`ma_data.core.io.torch_files.load_torch_file` (``torch.load(weights_only=True)``:
tensors, storages, plain containers, and numpy scalars through the checked rebuilders of
:mod:`ma_data.core.io.safe_pickle`). The globals the pickle names are listed first
(``torch.serialization.get_unsafe_globals_in_checkpoint``, a scan that executes nothing); each
``ultralytics.*`` / ``torch.nn.modules.*`` class is mapped to an inert stand-in that only stores the state it
is given, a few data-only types of training metadata (paths, namespaces) to an inert placeholder, and
anything else (``os.system``, ``builtins.eval``, ...) refuses the file. No ultralytics code is imported or run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ma_data.core.errors import FormatError

#: Classes whose pickled state we read (as data) instead of constructing them.
MODULE_PREFIXES = ("ultralytics.", "torch.nn.modules.")
#: Data-only globals seen in training metadata; mapped to an inert placeholder (their values are not needed).
METADATA_GLOBALS = frozenset(
    {
        "types.SimpleNamespace",
        "argparse.Namespace",
        "pathlib.Path",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "datetime.datetime",
    }
)


class PickledObject:
    """Stand-in for a pickled class: records the state the pickle gives it; has no behaviour."""

    qualified_name = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # REDUCE with arguments: ignored
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):  # (state, slots)
            state = {**(state[0] or {}), **state[1]}
        self.state = dict(state) if isinstance(state, dict) else {}

    def __repr__(self) -> str:
        return f"<pickled {self.qualified_name}>"


class _Placeholder(PickledObject):
    """Inert value for data-only metadata types."""


def _stand_in(name: str, base: type = PickledObject) -> type:
    return type(name.rsplit(".", 1)[-1], (base,), {"qualified_name": name, "__module__": __name__})


def load_ultralytics_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's top-level dict, with every pickled object as a :class:`PickledObject`.

    Raises :class:`FormatError` naming the file when it is not a torch zip, names a global outside the allowed
    set, or does not unpickle.
    """
    import torch

    from ma_data.core.io.torch_files import load_torch_file, numpy_safe_globals

    path = Path(path)
    numpy_names = {name for _, name in numpy_safe_globals()}
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except Exception as exc:  # not a zip, truncated, no data.pkl
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise FormatError(f"{path}: not a torch checkpoint archive ({reason})") from None
    names = [n for n in names if n not in numpy_names]
    refused = sorted(n for n in names if not n.startswith(MODULE_PREFIXES) and n not in METADATA_GLOBALS)
    if refused:
        raise FormatError(
            f"{path}: refused: the pickle names {', '.join(repr(n[:100]) for n in refused[:5])}"
            f"{' ...' if len(refused) > 5 else ''}, which is not a tensor, a plain container or a model class "
            "(files from others are data; nothing in them is executed)"
        )
    classes = {n: _stand_in(n, _Placeholder if n in METADATA_GLOBALS else PickledObject) for n in names}
    ckpt = load_torch_file(path, allow_numpy=True, classes=classes)
    if not isinstance(ckpt, dict):
        raise FormatError(f"{path}: expected a checkpoint dict, got {type(ckpt).__name__}")
    return ckpt


def module_tree(obj: Any) -> Iterator[tuple[str, PickledObject]]:
    """(dotted name, stand-in) for ``obj`` and every submodule below it, in ``_modules`` order."""
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        prefix, node = stack.pop()
        if not isinstance(node, PickledObject):
            continue
        yield prefix, node
        children = list((node.state.get("_modules") or {}).items())
        for name, child in reversed(children):
            stack.append((f"{prefix}.{name}" if prefix else str(name), child))


def state_dict_of(obj: PickledObject) -> dict[str, Any]:
    """``nn.Module.state_dict()`` of a pickled module tree: parameters and persistent buffers by dotted name."""
    import torch

    out: dict[str, Any] = {}
    for prefix, node in module_tree(obj):
        skip = set(node.state.get("_non_persistent_buffers_set") or ())
        for group in ("_parameters", "_buffers"):
            for name, value in (node.state.get(group) or {}).items():
                if value is None or name in skip:
                    continue
                if not isinstance(value, torch.Tensor):
                    raise FormatError(f"{prefix}.{name}: expected a tensor, got {type(value).__name__}")
                out[f"{prefix}.{name}" if prefix else name] = value
    return out


def module_attributes(obj: PickledObject, attribute: str) -> dict[str, Any]:
    """``{dotted module name: value}`` of one plain attribute (e.g. a BatchNorm's ``eps``) over the tree."""
    return {name: node.state[attribute] for name, node in module_tree(obj) if attribute in node.state}
