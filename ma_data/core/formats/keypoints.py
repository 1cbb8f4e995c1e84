"""2D keypoint tracks in the ViTPose-25 (easy_ViTPose ``coco_25``) layout.

A :class:`KeypointTrack` holds ``data`` of shape (T, 25, 3), float32, ``(x, y, conf)`` in image pixels
(x right, y down), plus a boolean per-frame ``mask`` (True = a person was detected). Frames without a
detection are all-zero rows with ``mask == False`` — the same convention the official MACE-Dance extractor
uses when no person is found.

Official JSON layout (verified against AMAP-ML/MACE-Dance ``Evaluation-Motion/extract_ViTPose.py`` and
JunkyByte/easy_ViTPose ``inference.py``):

- ``extract_ViTPose.py`` appends ``model.inference(rgb_frame)[0].tolist()`` per frame, and easy_ViTPose's
  ``VitInference.postprocess`` returns ``points[:, :, ::-1]`` — i.e. every row is ``(y, x, score)``.
  So the official JSON ``{"keypoints": [[[y, x, conf] x 25] per frame]}`` stores **row, column** order,
  although the official feature code's docstrings call it ``(x, y, confidence)``.
- Frames without a person are ``[[0, 0, 0]] * 25``. Other keys (``video_name``, ``fps``, ``total_frames``,
  ``skeleton``) are informational; the official metric script reads only ``keypoints``.
- Joint *rows* follow easy_ViTPose's ``coco_25`` order (:data:`JOINT_NAMES`). The official feature code
  (``features/kinetic_2d.py``, ``geometric_2d.py``) indexes these rows with a *different* name list
  (COCO-17 order then head_top, neck_viz, feet), so e.g. its "left_hip"/"right_hip" are rows 11/12
  (right_wrist/left_hip here). A bit-exact reimplementation must index raw rows exactly as it does; use
  :func:`read_official_array` (raw float64 values, official channel order) for that.

:func:`read_official_json` / :func:`write_official_json` convert between the official ``(y, x, c)`` rows
and our ``(x, y, c)`` track (``layout="yxc"``, the default); ``layout="xyc"`` handles JSON written by tools
that already store ``(x, y, c)``.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ma_data.core.errors import FormatError
from ma_data.core.io.atomic import atomic_write
from ma_data.core.joint_names import ARM_JOINTS

__all__ = [
    "JOINT_NAMES",
    "JOINT_INDEX",
    "NUM_JOINTS",
    "SKELETON_EDGES",
    "FLIP_PERMUTATION",
    "KeypointTrack",
    "validate_keypoints",
    "read_official_array",
    "read_official_array_with_fps",
    "read_official_json",
    "write_official_json",
    "save_npz",
    "load_npz",
]

Layout = Literal["yxc", "xyc"]

#: easy_ViTPose ``coco_25`` joint order (the order of rows in the official JSON and in our tracks).
JOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "neck",
    *ARM_JOINTS,
    "left_hip",
    "right_hip",
    "hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

#: Bones for drawing, as in easy_ViTPose's ``coco_25`` skeleton (legs, torso, arms, face, feet).
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (17, 15), (15, 12), (18, 16), (16, 13), (12, 14), (13, 14), (5, 14),
    (6, 5), (7, 5), (6, 8), (7, 9), (8, 10), (9, 11), (1, 2), (0, 1), (0, 2),
    (1, 3), (2, 4), (17, 21), (18, 24), (19, 20), (22, 23), (19, 21),
    (22, 24), (5, 0),
)  # fmt: skip


def _show(value: Any, n: int = 40) -> str:
    """A value from a file, shortened to fit a one-line message."""
    text = " ".join(repr(value).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _real(value: Any) -> float | None:
    """``value`` as a float if it is a real number (not a bool, string or container), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    try:
        return float(value)
    except OverflowError:  # a huge JSON integer
        return math.inf


def _flip_permutation() -> tuple[int, ...]:
    perm = []
    for name in JOINT_NAMES:
        if name.startswith("left_"):
            perm.append(JOINT_INDEX["right_" + name[5:]])
        elif name.startswith("right_"):
            perm.append(JOINT_INDEX["left_" + name[6:]])
        else:
            perm.append(JOINT_INDEX[name])
    return tuple(perm)


#: ``data[:, FLIP_PERMUTATION]`` swaps left and right joints (for mirroring).
FLIP_PERMUTATION: tuple[int, ...] = _flip_permutation()

_NPZ_VERSION = 1


def validate_keypoints(arr: Any, source: str | os.PathLike = "<array>", *, allow_empty: bool = False):
    """Return ``arr`` as a finite (T, 25, 3) float array or raise a one-line :class:`FormatError`.

    ``source`` (usually the file path) starts the message, so batch code can print it as is.
    """
    try:
        a = np.asarray(arr)
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:  # ragged or absurdly nested lists
        raise FormatError(f"{source}: keypoints are not a rectangular array ({_show(exc, 100)})") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise FormatError(f"{source}: keypoints must be numeric, got dtype {a.dtype} (ragged or non-numeric)")
    if a.ndim != 3 or a.shape[1:] != (NUM_JOINTS, 3):
        raise FormatError(f"{source}: keypoints must have shape (T, {NUM_JOINTS}, 3), got {a.shape}")
    if a.shape[0] == 0 and not allow_empty:
        raise FormatError(f"{source}: keypoints have no frames")
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise FormatError(
            f"{source}: keypoints contain NaN/inf (first at frame {bad[0]}, joint {bad[1]}, channel {bad[2]})"
        )
    return a


@dataclass
class KeypointTrack:
    """One person's 2D keypoints over a video.

    Attributes:
        data: (T, 25, 3) float32 ``(x, y, conf)`` pixels in :data:`JOINT_NAMES` order.
        mask: (T,) bool, True where a person was detected. Defaults to "row not all zero". Rows where the
            mask is False are set to zero, so the two always agree.
        fps: frame rate of the source video (``None`` when unknown, e.g. an official JSON without ``fps``).
        width, height: source frame size in pixels (``None`` when unknown).
        extractor, extractor_version: which pose backend produced the track.
        weights_hash: sha256 (or other fingerprint) of the weights used.
        source_sha256: sha256 of the source video file.
        meta: free-form extra metadata (JSON-serialisable).
    """

    data: np.ndarray
    mask: np.ndarray | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    extractor: str = "unknown"
    extractor_version: str = ""
    weights_hash: str | None = None
    source_sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = validate_keypoints(self.data, "KeypointTrack.data", allow_empty=True)
        data = np.array(data, dtype=np.float32)  # own copy: we zero masked rows below
        if self.mask is None:
            mask = np.any(data != 0, axis=(1, 2))
        else:
            mask = np.asarray(self.mask)
            if mask.shape != (data.shape[0],):
                raise FormatError(f"KeypointTrack.mask: expected shape ({data.shape[0]},), got {mask.shape}")
            mask = mask.astype(bool)
        data[~mask] = 0.0
        self.data = data
        self.mask = mask
        if self.fps is not None:
            fps = _real(self.fps)
            if fps is None or not math.isfinite(fps) or fps <= 0:
                raise FormatError(f"KeypointTrack.fps: must be a positive number, got {_show(self.fps)}")
            self.fps = fps
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None:
                size = _real(value)
                if size is None or not size.is_integer() or size <= 0:
                    raise FormatError(f"KeypointTrack.{name}: must be a positive integer, got {_show(value)}")
                setattr(self, name, int(size))

    def __repr__(self) -> str:
        size = f"{self.width}x{self.height}" if self.width and self.height else "?x?"
        return (
            f"KeypointTrack(T={len(self)}, detected={int(self.mask.sum())}, fps={self.fps}, size={size}, "
            f"extractor={self.extractor!r}{' ' + self.extractor_version if self.extractor_version else ''})"
        )

    # -- views -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_frames(self) -> int:
        return len(self)

    @property
    def xy(self) -> np.ndarray:
        """(T, 25, 2) pixel coordinates (a view)."""
        return self.data[..., :2]

    @property
    def conf(self) -> np.ndarray:
        """(T, 25) confidences (a view)."""
        return self.data[..., 2]

    @property
    def detection_rate(self) -> float:
        return float(self.mask.mean()) if len(self) else 0.0

    def to_official_array(self, layout: Layout = "yxc") -> np.ndarray:
        """(T, 25, 3) float64 in the official JSON channel order (``(y, x, c)`` by default)."""
        out = self.data.astype(np.float64)
        return out[..., [1, 0, 2]] if layout == "yxc" else out

    def slice(self, start: int | None = None, stop: int | None = None) -> KeypointTrack:
        """Frames ``[start:stop]`` as a new track with the same metadata."""
        sl = slice(start, stop)
        return replace(self, data=self.data[sl].copy(), mask=self.mask[sl].copy(), meta=dict(self.meta))

    def filled_data(self) -> np.ndarray:
        """(T, 25, 3) float32 with missed frames linearly interpolated from the nearest detected ones.

        Edges hold the nearest detected value; an all-missed track stays all zero. ``self.mask`` still
        says which frames were observed (the track itself is not modified).
        """
        if self.mask.all() or not self.mask.any():
            return self.data.copy()
        t = np.arange(len(self))
        valid = np.flatnonzero(self.mask)
        flat = self.data.reshape(len(self), -1)
        filled = np.empty_like(flat)
        for c in range(flat.shape[1]):
            filled[:, c] = np.interp(t, valid, flat[valid, c])
        return filled.reshape(self.data.shape)

    def metadata(self) -> dict[str, Any]:
        """JSON-serialisable metadata (everything but the arrays)."""
        return {
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "extractor": self.extractor,
            "extractor_version": self.extractor_version,
            "weights_hash": self.weights_hash,
            "source_sha256": self.source_sha256,
            "meta": self.meta,
        }


# -- official JSON ---------------------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: invalid or truncated JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text") from None
    except RecursionError:
        raise FormatError(f"{path}: JSON nested too deeply") from None
    except MemoryError:
        raise FormatError(f"{path}: JSON too large for memory") from None
    except ValueError as exc:  # e.g. an integer longer than Python's digit limit
        raise FormatError(f"{path}: invalid JSON ({_show(str(exc), 100)})") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_official(path: Path, key: str) -> tuple[dict, np.ndarray]:
    doc = _load_json(path)
    if not isinstance(doc, dict):
        raise FormatError(f"{path}: expected a JSON object with key {key!r}, got {type(doc).__name__}")
    if key not in doc:
        raise FormatError(f"{path}: missing key {key!r}")
    return doc, np.asarray(validate_keypoints(doc[key], path), dtype=np.float64)


def read_official_array(path: str | os.PathLike, key: str = "keypoints") -> np.ndarray:
    """The official JSON's keypoints exactly as stored: (T, 25, 3) float64, official ``(y, x, c)`` order.

    This is what the official ``calculate_metric.py`` feeds its features (``np.array(data["keypoints"])``);
    use it where bit-compatibility matters. Raises :class:`FormatError` naming the file on any defect.
    """
    return _read_official(Path(path), key)[1]


def read_official_array_with_fps(
    path: str | os.PathLike, key: str = "keypoints"
) -> tuple[np.ndarray, float | None]:
    """:func:`read_official_array` plus the file's optional ``fps`` field, from one parse of the file."""
    doc, raw = _read_official(Path(path), key)
    return raw, _doc_fps(doc)


def _doc_fps(doc: dict) -> float | None:
    """The JSON's informational ``fps`` when it is a positive number (the official metric ignores it)."""
    fps = _real(doc.get("fps"))
    return fps if fps is not None and math.isfinite(fps) and fps > 0 else None


def _track_fields(path: Path, meta: dict, n_frames: int) -> dict[str, Any]:
    """KeypointTrack keyword arguments from a file's metadata, each checked for its type."""
    out: dict[str, Any] = {}
    for key in ("fps", "width", "height"):
        value = meta.get(key)
        if value is not None:
            number = _real(value)
            if number is None or not math.isfinite(number) or number <= 0:
                raise FormatError(f"{path}: {key} must be a positive number, got {_show(value)}")
            if key != "fps" and not number.is_integer():
                raise FormatError(f"{path}: {key} must be a whole number of pixels, got {_show(value)}")
            out[key] = number
    for key in ("extractor", "extractor_version", "weights_hash", "source_sha256"):
        value = meta.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise FormatError(f"{path}: {key} must be a string, got {_show(value)}")
            out[key] = value
    extra = meta.get("meta")
    if extra is not None and not isinstance(extra, dict):
        raise FormatError(f"{path}: meta must be an object, got {type(extra).__name__}")
    out["meta"] = dict(extra or {})
    mask = meta.get("mask")
    if mask is not None:
        out["mask"] = _checked_mask(path, mask, n_frames)
    return out


def _checked_mask(path: Path, mask: Any, n_frames: int) -> np.ndarray:
    try:
        m = np.asarray(mask)
    except (ValueError, TypeError, RecursionError):
        raise FormatError(f"{path}: mask is not a flat list of 0/1 flags") from None
    if m.shape != (n_frames,):
        raise FormatError(f"{path}: mask shape {m.shape} does not match {n_frames} frames")
    if m.dtype != bool and not (m.dtype.kind in "iu" and np.isin(m, (0, 1)).all()):
        raise FormatError(f"{path}: mask must hold booleans or 0/1, got dtype {m.dtype}")
    return m.astype(bool)


def read_official_json(
    path: str | os.PathLike, layout: Layout = "yxc", key: str = "keypoints"
) -> KeypointTrack:
    """Read an official-format keypoint JSON into a :class:`KeypointTrack` (channels converted to x, y, c)."""
    path = Path(path)
    if layout not in ("yxc", "xyc"):
        raise ValueError(f"layout must be 'yxc' or 'xyc', got {layout!r}")
    doc, raw = _read_official(path, key)
    data = raw[..., [1, 0, 2]] if layout == "yxc" else raw
    fps = _doc_fps(doc)
    ours = doc.get("mace_dance", {}) if isinstance(doc.get("mace_dance"), dict) else {}
    # Our own files carry the mask; for others a frame counts as detected unless it is the all-zero
    # placeholder the official extractor writes for "no person".
    fields = _track_fields(path, {k: v for k, v in ours.items() if k not in ("fps", "meta")}, len(data))
    fields.pop("meta")
    video_name = doc.get("video_name")
    return KeypointTrack(
        data=data.astype(np.float32),
        fps=fps,
        **{"extractor": "official-json", **fields},
        meta={"json_path": str(path), "video_name": video_name if isinstance(video_name, str) else None},
    )


def write_official_json(path: str | os.PathLike, track: KeypointTrack, layout: Layout = "yxc") -> None:
    """Write ``track`` as an official-format JSON (atomically).

    The keys the official pipeline writes are all present (``video_name``, ``fps``, ``total_frames``,
    ``skeleton``, ``keypoints``); our metadata goes under ``mace_dance`` and is ignored by official tools.
    """
    path = Path(path)
    if layout not in ("yxc", "xyc"):
        raise ValueError(f"layout must be 'yxc' or 'xyc', got {layout!r}")
    kp = track.to_official_array(layout)
    doc = {
        "video_name": track.meta.get("video_name") or path.with_suffix(".mp4").name,
        "fps": track.fps,
        "total_frames": len(track),
        "skeleton": {str(i): name for i, name in enumerate(JOINT_NAMES)},
        "keypoints": kp.tolist(),
        "mace_dance": {
            "coordinate_layout": layout,
            "mask": track.mask.astype(int).tolist(),
            **{k: v for k, v in track.metadata().items() if k not in ("fps", "meta")},
        },
    }
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)


# -- compact npz -----------------------------------------------------------------------------------------


def _write_npz(fh, track: KeypointTrack) -> None:
    meta = {"format": "mace-dance/keypoints", "version": _NPZ_VERSION, **track.metadata()}
    np.savez_compressed(
        fh, data=track.data, mask=track.mask, metadata=np.frombuffer(json.dumps(meta).encode(), np.uint8)
    )


def save_npz(path: str | os.PathLike, track: KeypointTrack) -> None:
    """Save a track as a compressed ``.npz`` (arrays + JSON metadata), atomically."""
    with atomic_write(path, "wb") as fh:
        _write_npz(fh, track)


def track_to_bytes(track: KeypointTrack) -> bytes:
    """The bytes :func:`save_npz` would write (how worker processes hand tracks back)."""
    buf = io.BytesIO()
    _write_npz(buf, track)
    return buf.getvalue()


def track_from_bytes(data: bytes, source: str = "<keypoint bytes>") -> KeypointTrack:
    """A track from :func:`track_to_bytes` output, checked as :func:`load_npz` checks files."""
    return _read_npz(io.BytesIO(data), source)


def load_npz(path: str | os.PathLike) -> KeypointTrack:
    """Load a track written by :func:`save_npz`; raises :class:`FormatError` naming the file on any defect."""
    return _read_npz(Path(path), Path(path))


def _read_npz(file, path) -> KeypointTrack:
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = {"data", "mask", "metadata"} - set(npz.files)
            if missing:
                raise FormatError(f"{path}: not a keypoint npz (missing {', '.join(sorted(missing))})")
            data, mask, meta_bytes = npz["data"], npz["mask"], npz["metadata"]
    except FormatError:
        raise
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError on truncated files
        raise FormatError(f"{path}: unreadable npz ({type(exc).__name__}: {exc})") from None
    if meta_bytes.dtype != np.uint8 or meta_bytes.ndim != 1:
        raise FormatError(
            f"{path}: metadata must be UTF-8 JSON bytes, got {meta_bytes.dtype} {meta_bytes.shape}"
        )
    try:
        meta = json.loads(meta_bytes.tobytes().decode())
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise FormatError(f"{path}: corrupt metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != "mace-dance/keypoints":
        raise FormatError(f"{path}: not a mace-dance keypoint file")
    data = validate_keypoints(data, path, allow_empty=True)
    fields = _track_fields(path, {k: v for k, v in meta.items() if k != "mask"}, data.shape[0])
    return KeypointTrack(data=data, mask=_checked_mask(path, mask, data.shape[0]), **fields)
