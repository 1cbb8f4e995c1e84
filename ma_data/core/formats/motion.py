"""SMPL-24 motion: the ``Motion`` container and readers for the 3D dance formats in circulation.

A ``Motion`` holds SMPL-24 axis-angle poses (T, 24, 3), the root translation (T, 3), the frame rate and the up
axis ("y" for AIST++ / FineDance data, "z" for EDGE / MACE-Dance model outputs). Joint positions come from
forward kinematics on the fixed skeleton of ``ma_data.core.body``; joints-only inputs (plain position arrays) carry
their joints and no rotations.

Readers (``load_motion`` picks one from the file's content):

- FineDance ``motion/NNN.npy``: (T, 315) = root translation + 52 SMPL-H joints x 6D (first two matrix rows),
  Y-up, 30 fps. SMPL-24 keeps SMPL-H joints [0..22, 37] (left/right index1 stand in for the SMPL hands).
  LODGE's variants are accepted too: (T, 319) with 4 leading contact flags, (T, 135)/(T, 139) body-only.
  :func:`to_finedance_array` writes the (T, 315) layout back (the bundled synthetic sample uses it).
- Motion Expert / EDGE output pickles: ``smpl_poses`` (T, 72), ``smpl_trans`` (T, 3), ``full_pose``
  (T, 24, 3), Z-up, 30 fps. A pickle that also has ``smpl_scaling`` is an AIST++ annotation (Y-up, 60 fps,
  translation divided by the scaling).
- EDGE / MACE ``motions_sliced`` pickles: ``pos`` (T, 3), ``q`` (T, 72), Y-up, 30 fps.
- Bailando result pickles (``np.save`` of a dict with ``pred_position`` (T, 72)): joints only, Y-up, 60 fps.
- Plain joint arrays ``.npy``: (T, J, 3) or (T, 3J) with J in {22, 24}, metres, Y-up, 30 fps.
- The project's motion ``.npz``: ``poses``, ``trans`` (optional when ``joints`` is given), ``joints``
  (optional), ``fps``, ``up_axis``.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ma_data.core.body.axes import UP_AXES, convert_motion, convert_points
from ma_data.core.body.fk import forward_kinematics
from ma_data.core.body.rotations import axis_angle_to_matrix, matrix_to_rotation_6d, rotation_6d_to_axis_angle
from ma_data.core.errors import FormatError

#: SMPL-H (52-joint) indices that make up SMPL-24: the 22 body joints, then left and right index1.
SMPLH_TO_SMPL24 = tuple(range(23)) + (37,)

#: Joint counts accepted for joints-only arrays.
JOINT_COUNTS = (22, 24)


@dataclass(eq=False)  # arrays inside: compare motions explicitly, not with ==
class Motion:
    """An SMPL-24 motion clip.

    Attributes:
        poses: (T, 24, 3) local axis-angle rotations, or None for joints-only data.
        trans: (T, 3) root translation in metres, or None for joints-only data.
        fps: frames per second.
        up_axis: "y" or "z".
        stored_joints: (T, J, 3) joints supplied by the file (joints-only inputs, or the ``full_pose``
            of a Motion Expert pickle); None when the joints are to be computed by FK.
        source: where the motion came from (a path), for error messages.
    """

    poses: np.ndarray | None
    trans: np.ndarray | None
    fps: float = 30.0
    up_axis: str = "y"
    stored_joints: np.ndarray | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        where = self.source or "motion"
        if not isinstance(self.up_axis, str) or self.up_axis not in UP_AXES:
            raise FormatError(f"{where}: up_axis must be one of {UP_AXES}, got {str(self.up_axis)[:40]!r}")
        if isinstance(self.fps, (bool, np.bool_)) or not isinstance(self.fps, (int, float, np.number)):
            raise FormatError(f"{where}: fps must be a number, got {type(self.fps).__name__}")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise FormatError(f"{where}: fps must be a positive finite number, got {self.fps}")
        if self.poses is None and self.stored_joints is None:
            raise FormatError(f"{where}: a motion needs poses or joints")
        for name in ("poses", "trans", "stored_joints"):
            value = getattr(self, name)
            if value is not None and np.asarray(value).dtype.kind not in "iuf":
                raise FormatError(f"{where}: {name} must be numbers, got dtype {np.asarray(value).dtype}")
        if self.poses is not None:
            p = np.asarray(self.poses)
            if p.ndim != 3 or p.shape[1:] != (24, 3):
                raise FormatError(f"{where}: poses must be (T, 24, 3) axis-angle, got {p.shape}")
            if self.trans is None or np.asarray(self.trans).shape != (p.shape[0], 3):
                got = None if self.trans is None else np.asarray(self.trans).shape
                raise FormatError(f"{where}: trans must be ({p.shape[0]}, 3), got {got}")
            if not (np.isfinite(p).all() and np.isfinite(self.trans).all()):
                raise FormatError(f"{where}: poses or trans contain NaN/inf")
        if self.stored_joints is not None:
            j = np.asarray(self.stored_joints)
            if j.ndim != 3 or j.shape[2] != 3:
                raise FormatError(f"{where}: joints must be (T, J, 3), got {j.shape}")
            if self.poses is not None and j.shape[0] != np.asarray(self.poses).shape[0]:
                raise FormatError(
                    f"{where}: {j.shape[0]} joint frames but {np.asarray(self.poses).shape[0]} pose frames"
                )
            if not np.isfinite(j).all():
                raise FormatError(f"{where}: joints contain NaN/inf")

    @property
    def n_frames(self) -> int:
        return int((self.poses if self.poses is not None else self.stored_joints).shape[0])

    @property
    def has_rotations(self) -> bool:
        return self.poses is not None

    @property
    def duration_s(self) -> float:
        return self.n_frames / float(self.fps)

    def joints(self, recompute: bool = False) -> np.ndarray:
        """(T, J, 3) joint positions in this motion's up-axis convention.

        Stored joints win unless ``recompute`` is set (then FK runs on the poses).
        """
        if self.stored_joints is not None and not (recompute and self.poses is not None):
            return np.asarray(self.stored_joints)
        return forward_kinematics(np.asarray(self.poses), np.asarray(self.trans))

    def to_up_axis(self, up_axis: str) -> Motion:
        """The same motion with ``up_axis`` up (root orientation, translation and joints rotated)."""
        if up_axis == self.up_axis:
            return self
        poses = trans = None
        if self.poses is not None:
            poses, trans = convert_motion(
                np.asarray(self.poses), np.asarray(self.trans), self.up_axis, up_axis
            )
        joints = None
        if self.stored_joints is not None:
            joints = convert_points(np.asarray(self.stored_joints), self.up_axis, up_axis)
        return replace(self, poses=poses, trans=trans, stored_joints=joints, up_axis=up_axis)

    def slice(self, start: int = 0, stop: int | None = None) -> Motion:
        """Frames [start, stop)."""
        sl = slice(start, stop)
        return replace(
            self,
            poses=None if self.poses is None else self.poses[sl],
            trans=None if self.trans is None else self.trans[sl],
            stored_joints=None if self.stored_joints is None else self.stored_joints[sl],
        )

    def save_npz(self, path: str | os.PathLike) -> Path:
        """Write the project's motion ``.npz`` atomically."""
        from ma_data.core.io.atomic import atomic_write

        arrays: dict[str, np.ndarray] = {
            "fps": np.asarray(float(self.fps)),
            "up_axis": np.asarray(self.up_axis),
        }
        if self.poses is not None:
            arrays["poses"] = np.asarray(self.poses)
            arrays["trans"] = np.asarray(self.trans)
        arrays["joints"] = self.joints()
        path = Path(path)
        with atomic_write(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path


# --------------------------------------------------------------------------------------------------- readers

#: What a malformed file can make numpy or our conversions raise; readers turn these into FormatError.
_DATA_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError, MemoryError,
                RecursionError, ZeroDivisionError)  # fmt: skip


def _fail(path: Path | str, msg: str) -> FormatError:
    return FormatError(f"{path}: {msg}")


def _one_line(exc: BaseException, n: int = 160) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _reader(fn):
    """Name the file in any error a malformed file provokes (the first argument is the path)."""

    @functools.wraps(fn)
    def wrapper(path, *args, **kwargs):
        try:
            return fn(path, *args, **kwargs)
        except FormatError:
            raise
        except _DATA_ERRORS as exc:
            raise _fail(path, f"unreadable motion data ({_one_line(exc)})") from None

    return wrapper


def _numbers(x, source, key: str, dtype=np.float64) -> np.ndarray:
    """``x`` as a real-valued array (ints or floats; not strings, bools, objects or complex numbers)."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise _fail(source, f"{key} is not a rectangular array ({_one_line(exc)})") from None
    if a.dtype.kind not in "iuf":
        raise _fail(source, f"{key} must be numbers, got dtype {a.dtype}")
    return a.astype(dtype, copy=False)


def _scalar_number(x, source, key: str) -> float:
    a = _numbers(x, source, key)
    if a.size != 1:
        raise _fail(source, f"{key} must be one number, got shape {a.shape}")
    return float(a.reshape(-1)[0])


def from_finedance_array(arr: np.ndarray, source: str = "finedance", fps: float = 30.0) -> Motion:
    """Convert a FineDance / LODGE rotation array to SMPL-24 (see the module docstring for the layouts)."""
    arr = _numbers(arr, source, "FineDance motion")
    if arr.ndim != 2:
        raise _fail(source, f"expected a (T, 315) FineDance array, got shape {arr.shape}")
    width = arr.shape[1]
    if width in (319, 139):  # LODGE: 4 foot-contact flags first
        arr, width = arr[:, 4:], width - 4
    if width not in (315, 135):
        raise _fail(source, f"expected (T, 315) SMPL-H 6D (or LODGE 319/135/139), got shape {arr.shape}")
    if len(arr) == 0:
        raise _fail(source, "motion has no frames")
    if not np.isfinite(arr).all():
        raise _fail(source, "motion contains NaN/inf")
    n_src = (width - 3) // 6
    trans = arr[:, :3]
    aa = rotation_6d_to_axis_angle(arr[:, 3:].reshape(len(arr), n_src, 6))
    if n_src == 52:
        poses = aa[:, list(SMPLH_TO_SMPL24)]
    else:  # 22 body joints only: SMPL hands are leaves, identity is as good as any
        poses = np.concatenate([aa, np.zeros((len(arr), 2, 3))], axis=1)
    return Motion(poses=poses, trans=trans, fps=fps, up_axis="y", source=source)


def to_finedance_array(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """SMPL-24 axis-angle (T, 24, 3) + translation (T, 3) -> FineDance (T, 315) float32: translation, then 52
    SMPL-H joints x 6D; the SMPL hands go to left/right index1, the other finger joints stay at identity."""
    n = len(poses)
    smplh = np.zeros((n, 52, 3))
    smplh[:, list(SMPLH_TO_SMPL24)] = poses
    d6 = matrix_to_rotation_6d(axis_angle_to_matrix(smplh)).reshape(n, 52 * 6)
    return np.concatenate([trans, d6], axis=1).astype(np.float32)


def _read_npy(path: Path) -> np.ndarray:
    from ma_data.core.io.safe_pickle import load_npy

    return load_npy(path)


@_reader
def read_finedance(path: str | os.PathLike, fps: float = 30.0) -> Motion:
    """Read a FineDance ``motion/NNN.npy`` (T, 315) file as SMPL-24."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise _fail(path, f"cannot read .npy ({_one_line(exc)})") from None
    return from_finedance_array(arr, source=str(path), fps=fps)


def from_joints_array(
    arr: np.ndarray, source: str = "joints", fps: float = 30.0, up_axis: str = "y"
) -> Motion:
    """Wrap (T, J, 3) or (T, 3J) joint positions (J in {22, 24}) as a joints-only Motion."""
    try:
        arr = np.asarray(arr)
    except (ValueError, TypeError) as exc:
        raise _fail(source, f"joints are not a rectangular array ({_one_line(exc)})") from None
    if not np.issubdtype(arr.dtype, np.floating):
        raise _fail(source, f"joint array must be floating point, got {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] in tuple(3 * j for j in JOINT_COUNTS):
        arr = arr.reshape(arr.shape[0], -1, 3)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[1] not in JOINT_COUNTS:
        raise _fail(
            source, f"expected joints of shape (T, 24, 3), (T, 22, 3), (T, 72) or (T, 66), got {arr.shape}"
        )
    if arr.shape[0] < 1:
        raise _fail(source, "joint array has no frames")
    return Motion(poses=None, trans=None, fps=fps, up_axis=up_axis, stored_joints=arr, source=source)


@_reader
def read_joints_npy(path: str | os.PathLike, fps: float = 30.0, up_axis: str = "y") -> Motion:
    """Read a plain joint-position ``.npy`` (metres, Y-up unless told otherwise)."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise _fail(path, f"cannot read .npy ({_one_line(exc)})") from None
    return from_joints_array(arr, source=str(path), fps=fps, up_axis=up_axis)


def _aa72(x, source, key) -> np.ndarray:
    a = _numbers(x, source, key)
    if a.ndim == 2 and a.shape[1] == 72:
        return a.reshape(-1, 24, 3)
    if a.ndim == 3 and a.shape[1:] == (24, 3):
        return a
    raise _fail(source, f"{key} must be (T, 72) axis-angle, got {a.shape}")


def _trans3(x, source, key, n) -> np.ndarray:
    t = _numbers(x, source, key)
    if t.shape != (n, 3):
        raise _fail(source, f"{key} must be ({n}, 3), got {t.shape}")
    return t


def from_motion_dict(d: dict, source: str = "motion", fps: float | None = None) -> Motion:
    """Build a Motion from one of the known pickle dict layouts (see the module docstring)."""
    if not isinstance(d, dict):
        raise _fail(source, f"expected a dict, got {type(d).__name__}")
    keys = set(d)
    if {"smpl_poses", "smpl_trans"} <= keys:
        poses = _aa72(d["smpl_poses"], source, "smpl_poses")
        trans = _trans3(d["smpl_trans"], source, "smpl_trans", len(poses))
        if "smpl_scaling" in keys:  # AIST++ annotation
            scale = _scalar_number(np.asarray(d["smpl_scaling"]).reshape(-1)[:1], source, "smpl_scaling")
            if not (math.isfinite(scale) and scale > 0):
                raise _fail(source, f"smpl_scaling must be positive, got {scale}")
            return Motion(poses, trans / scale, fps or 60.0, "y", source=source)
        joints = None
        if "full_pose" in keys:
            joints = _numbers(d["full_pose"], source, "full_pose")
            if joints.ndim == 2 and joints.shape[1] == 72:
                joints = joints.reshape(-1, 24, 3)
        return Motion(poses, trans, fps or 30.0, "z", stored_joints=joints, source=source)
    if {"pos", "q"} <= keys:
        poses = _aa72(d["q"], source, "q")
        return Motion(poses, _trans3(d["pos"], source, "pos", len(poses)), fps or 30.0, "y", source=source)
    if "pred_position" in keys:
        return from_joints_array(d["pred_position"], source=source, fps=fps or 60.0, up_axis="y")
    if "full_pose" in keys:
        return from_joints_array(d["full_pose"], source=source, fps=fps or 30.0, up_axis="z")
    names = sorted(" ".join(str(k).split())[:40] for k in keys)[:8]
    raise _fail(
        source,
        "unknown motion dict; expected smpl_poses+smpl_trans[+full_pose], pos+q, pred_position or full_pose "
        f"(got {names})",
    )


def _load_pickled(path: Path):
    """The object in a motion pickle, or in an ``np.save``-d object array (Bailando writes those as .pkl)."""
    from ma_data.core.io.safe_pickle import NPY_MAGIC, load_pickle

    try:
        with open(path, "rb") as fh:
            is_npy = fh.read(len(NPY_MAGIC)) == NPY_MAGIC
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None
    obj = _read_npy(path) if is_npy else load_pickle(path)
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    return obj


@_reader
def read_motion_pickle(path: str | os.PathLike, fps: float | None = None) -> Motion:
    """Read a Motion Expert / EDGE / AIST++ / Bailando pickle.

    Pickles are read by :mod:`ma_data.core.io.safe_pickle`: only plain containers and numpy arrays, never
    code, so files from others are safe to read.
    """
    path = Path(path)
    return from_motion_dict(_load_pickled(path), source=str(path), fps=fps)


@_reader
def read_motion_npz(path: str | os.PathLike) -> Motion:
    """Read the project's motion ``.npz``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as exc:
        raise _fail(path, f"cannot read .npz ({_one_line(exc)})") from None
    fps = _scalar_number(data["fps"], path, "fps") if "fps" in data else 30.0
    up = "y"
    if "up_axis" in data:
        u = data["up_axis"]
        if u.dtype.kind != "U" or u.size != 1:
            raise _fail(path, f"up_axis must be 'y' or 'z', got an array of {u.dtype} {u.shape}")
        up = str(u.reshape(-1)[0])
    joints = data.get("joints")
    if "poses" in data:
        poses = _aa72(data["poses"], path, "poses")
        if "trans" not in data:
            raise _fail(path, "has poses but no trans")
        trans = _trans3(data["trans"], path, "trans", len(poses))
        # Joints saved next to poses are FK output; recompute rather than trust them.
        return Motion(poses, trans, fps, up, source=str(path))
    if joints is not None:
        return from_joints_array(joints, source=str(path), fps=fps, up_axis=up)
    raise _fail(path, f"motion .npz needs 'poses'+'trans' or 'joints' (has {sorted(data)[:8]})")


@_reader
def load_motion(path: str | os.PathLike, fps: float | None = None) -> Motion:
    """Read any supported motion file, choosing the reader from the suffix and the array layout.

    ``fps`` overrides the format's default frame rate (for formats that do not store one). Raises
    ``FormatError`` with a one-line message naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        m = read_motion_npz(path)
        return m if fps is None else replace(m, fps=fps)
    if suffix in (".pkl", ".pickle"):
        return read_motion_pickle(path, fps=fps)
    if suffix == ".npy":
        arr = _read_npy(path)
        if arr.dtype.hasobject:  # a pickled dict saved with np.save (Bailando)
            obj = arr.item() if arr.shape == () else arr
            return from_motion_dict(obj, source=str(path), fps=fps)
        if arr.ndim == 2 and arr.shape[1] in (315, 319, 135, 139):
            return from_finedance_array(arr, source=str(path), fps=fps or 30.0)
        return from_joints_array(arr, source=str(path), fps=fps or 30.0, up_axis="y")
    raise _fail(path, f"unsupported motion file type {suffix!r} (expected .npy, .npz or .pkl)")


def motion_from_joints(joints: np.ndarray, fps: float = 30.0, up_axis: str = "y") -> Motion:
    """Convenience: a joints-only Motion from an in-memory array."""
    return from_joints_array(joints, fps=fps, up_axis=up_axis)
