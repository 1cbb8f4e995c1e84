"""SMPL-24 motion: the ``Motion`` container and readers for the 3D dance formats in circulation.

A ``Motion`` holds SMPL-24 axis-angle poses (T, 24, 3), the root translation (T, 3), the frame rate and the up
axis ("y" for AIST++ / FineDance data, "z" for EDGE / MACE-Dance model outputs). Joint positions come from
forward kinematics on the fixed skeleton of ``ma_data.core.body``; joints-only inputs (plain position arrays) carry
their joints and no rotations.

Readers (``load_motion`` picks one from the file's content):

- FineDance ``motion/NNN.npy``: (T, 315) = root translation + 52 SMPL-H joints x 6D (first two matrix rows),
  Y-up, 30 fps. SMPL-24 keeps SMPL-H joints [0..22, 37] (left/right index1 stand in for the SMPL hands).
  LODGE's variants are accepted too: (T, 319) with 4 leading contact flags, (T, 135)/(T, 139) body-only.
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

import os
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ma_data.core.body.axes import UP_AXES, convert_motion, convert_points
from ma_data.core.body.fk import forward_kinematics
from ma_data.core.body.rotations import rotation_6d_to_axis_angle
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
        if self.up_axis not in UP_AXES:
            raise FormatError(f"{where}: up_axis must be one of {UP_AXES}, got {self.up_axis!r}")
        if not (self.fps > 0):
            raise FormatError(f"{where}: fps must be positive, got {self.fps}")
        if self.poses is None and self.stored_joints is None:
            raise FormatError(f"{where}: a motion needs poses or joints")
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


def _fail(path: Path | str, msg: str) -> FormatError:
    return FormatError(f"{path}: {msg}")


def from_finedance_array(arr: np.ndarray, source: str = "finedance", fps: float = 30.0) -> Motion:
    """Convert a FineDance / LODGE rotation array to SMPL-24 (see the module docstring for the layouts)."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 2:
        raise _fail(source, f"expected a (T, 315) FineDance array, got shape {arr.shape}")
    width = arr.shape[1]
    if width in (319, 139):  # LODGE: 4 foot-contact flags first
        arr, width = arr[:, 4:], width - 4
    if width not in (315, 135):
        raise _fail(source, f"expected (T, 315) SMPL-H 6D (or LODGE 319/135/139), got shape {arr.shape}")
    n_src = (width - 3) // 6
    trans = arr[:, :3]
    aa = rotation_6d_to_axis_angle(arr[:, 3:].reshape(len(arr), n_src, 6))
    if n_src == 52:
        poses = aa[:, list(SMPLH_TO_SMPL24)]
    else:  # 22 body joints only: SMPL hands are leaves, identity is as good as any
        poses = np.concatenate([aa, np.zeros((len(arr), 2, 3))], axis=1)
    return Motion(poses=poses, trans=trans, fps=fps, up_axis="y", source=source)


def read_finedance(path: str | os.PathLike, fps: float = 30.0) -> Motion:
    """Read a FineDance ``motion/NNN.npy`` (T, 315) file as SMPL-24."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise _fail(path, f"cannot read .npy ({exc.__class__.__name__}: {exc})") from exc
    return from_finedance_array(arr, source=str(path), fps=fps)


def from_joints_array(
    arr: np.ndarray, source: str = "joints", fps: float = 30.0, up_axis: str = "y"
) -> Motion:
    """Wrap (T, J, 3) or (T, 3J) joint positions (J in {22, 24}) as a joints-only Motion."""
    arr = np.asarray(arr)
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


def read_joints_npy(path: str | os.PathLike, fps: float = 30.0, up_axis: str = "y") -> Motion:
    """Read a plain joint-position ``.npy`` (metres, Y-up unless told otherwise)."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise _fail(path, f"cannot read .npy ({exc.__class__.__name__}: {exc})") from exc
    return from_joints_array(arr, source=str(path), fps=fps, up_axis=up_axis)


def _aa72(x, source, key) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 72:
        return a.reshape(-1, 24, 3)
    if a.ndim == 3 and a.shape[1:] == (24, 3):
        return a
    raise _fail(source, f"{key} must be (T, 72) axis-angle, got {a.shape}")


def _trans3(x, source, key, n) -> np.ndarray:
    t = np.asarray(x, dtype=np.float64)
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
            scale = float(np.asarray(d["smpl_scaling"]).reshape(-1)[0])
            if not scale > 0:
                raise _fail(source, f"smpl_scaling must be positive, got {scale}")
            return Motion(poses, trans / scale, fps or 60.0, "y", source=source)
        joints = None
        if "full_pose" in keys:
            joints = np.asarray(d["full_pose"], dtype=np.float64)
            if joints.ndim == 2 and joints.shape[1] == 72:
                joints = joints.reshape(-1, 24, 3)
        return Motion(poses, trans, fps or 30.0, "z", stored_joints=joints, source=source)
    if {"pos", "q"} <= keys:
        poses = _aa72(d["q"], source, "q")
        return Motion(poses, _trans3(d["pos"], source, "pos", len(poses)), fps or 30.0, "y", source=source)
    if "pred_position" in keys:
        return from_joints_array(np.asarray(d["pred_position"]), source=source, fps=fps or 60.0, up_axis="y")
    if "full_pose" in keys:
        return from_joints_array(np.asarray(d["full_pose"]), source=source, fps=fps or 30.0, up_axis="z")
    raise _fail(
        source,
        "unknown motion dict; expected smpl_poses+smpl_trans[+full_pose], pos+q, pred_position or full_pose "
        f"(got {sorted(map(str, keys))[:8]})",
    )


def _load_pickled(path: Path):
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:
        pass
    try:  # Bailando writes np.save(dict) under a .pkl name
        obj = np.load(path, allow_pickle=True)
        return obj.item() if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == () else obj
    except Exception as exc:
        raise _fail(path, f"cannot unpickle ({exc.__class__.__name__}: {exc})") from exc


def read_motion_pickle(path: str | os.PathLike, fps: float | None = None) -> Motion:
    """Read a Motion Expert / EDGE / AIST++ / Bailando pickle (only load pickles you trust)."""
    path = Path(path)
    return from_motion_dict(_load_pickled(path), source=str(path), fps=fps)


def read_motion_npz(path: str | os.PathLike) -> Motion:
    """Read the project's motion ``.npz``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as exc:
        raise _fail(path, f"cannot read .npz ({exc.__class__.__name__}: {exc})") from exc
    fps = float(data["fps"]) if "fps" in data else 30.0
    up = str(data["up_axis"]) if "up_axis" in data else "y"
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
    raise _fail(path, f"motion .npz needs 'poses'+'trans' or 'joints' (has {sorted(data)})")


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
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError:  # object array: a pickled dict saved with np.save
            return read_motion_pickle(path, fps=fps)
        except Exception as exc:
            raise _fail(path, f"cannot read .npy ({exc.__class__.__name__}: {exc})") from exc
        if arr.ndim == 2 and arr.shape[1] in (315, 319, 135, 139):
            return from_finedance_array(arr, source=str(path), fps=fps or 30.0)
        return from_joints_array(arr, source=str(path), fps=fps or 30.0, up_axis="y")
    raise _fail(path, f"unsupported motion file type {suffix!r} (expected .npy, .npz or .pkl)")


def motion_from_joints(joints: np.ndarray, fps: float = 30.0, up_axis: str = "y") -> Motion:
    """Convenience: a joints-only Motion from an in-memory array."""
    return from_joints_array(joints, fps=fps, up_axis=up_axis)
