"""Reading a submission archive from a stranger: every member in memory, with caps, nothing on disk.

:func:`read_archive` opens a zip and returns ``{name: bytes}`` for the members it accepts plus a list of
problems, one per rule broken. It never extracts: members are read through ``zipfile`` with a byte cap, so a
zip bomb stops at the cap, and a name is only ever a dictionary key. Rules:

- the file itself: a readable zip no larger than ``max_archive_bytes``; no encryption; stored or deflated;
- names: UTF-8 (flag bit 11, or plain ASCII), relative, no ``..``/``.``/empty parts, no backslashes, drive
  letters, control characters or NUL; no two names equal (also after case folding and NFC normalisation);
- entries: regular files only (no symlinks, devices, FIFOs: the Unix mode in the external attributes), no two
  entries sharing or overlapping data (how "hard links" and overlapping-entry bombs are built in a zip);
- sizes: at most ``max_members`` entries, ``max_member_bytes`` each, ``max_total_bytes`` in all, a
  compression ratio of at most ``max_ratio`` (members over 1 MiB); the declared size must be the real one and the CRC must match.
"""

from __future__ import annotations

import io
import math
import os
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_LOCAL_HEADER_SIZE = 30


@dataclass(frozen=True)
class Limits:
    """Caps on what a bundle may hold (defaults fit 200 clips of keypoints with a wide margin)."""

    max_archive_bytes: int = 256 * 1024 * 1024
    max_members: int = 2000
    max_member_bytes: int = 32 * 1024 * 1024
    max_total_bytes: int = 512 * 1024 * 1024
    max_ratio: float = 100.0
    #: the ratio rule applies above this size: a small all-zero keypoint file legitimately compresses 500x
    ratio_min_bytes: int = 1024 * 1024


@dataclass
class Problem:
    """One reason to reject: a stable ``code`` (``area.rule``), where it was found, and a readable message."""

    code: str
    message: str
    where: str = ""

    def line(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "where": self.where, "message": self.message}


@dataclass
class Archive:
    members: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _shown(name: str) -> str:
    """A name made safe to print in one line (escapes control characters, bounded length)."""
    return ascii(name[:200])[1:-1]


def check_name(name: str) -> str | None:
    """Why ``name`` is not a safe relative member name, or None."""
    if not name:
        return "empty name"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "control character in name"
    if "\\" in name:
        return "backslash in name (a Windows path separator)"
    if name.startswith("/"):
        return "absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "drive-letter path"
    parts = name.rstrip("/").split("/") if name.endswith("/") else name.split("/")
    if any(p == ".." for p in parts):
        return "path traversal ('..')"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' path component"
    if len(name) > 255:
        return "name longer than 255 characters"
    return None


def _file_type(info: zipfile.ZipInfo) -> str | None:
    """'symlink', 'device', ... when the Unix mode marks a non-regular file; None for a regular file."""
    mode = info.external_attr >> 16
    if info.create_system != 3 or stat.S_IFMT(mode) == 0:  # permission bits only (e.g. ZipFile.writestr)
        return "directory" if info.filename.endswith("/") else None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return None
    return "special file (device, FIFO or socket)"


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    return data


def read_archive(path: str | os.PathLike, limits: Limits | None = None) -> Archive:
    """Read every acceptable member of the zip at ``path`` into memory; collect every problem."""
    limits = limits or Limits()
    out = Archive()
    path = Path(path)
    where = path.name

    def bad(code: str, message: str, name: str = "") -> None:
        out.problems.append(Problem(code, message, f"{where}:{_shown(name)}" if name else where))

    try:
        size = path.stat().st_size
    except OSError as exc:
        bad("archive.unreadable", f"cannot read the bundle ({exc.strerror or exc})")
        return out
    if size > limits.max_archive_bytes:
        bad("archive.too_large", f"bundle is {size} bytes > {limits.max_archive_bytes}")
        return out
    try:
        data = path.read_bytes()
        zf = zipfile.ZipFile(io.BytesIO(data))
    except UnicodeDecodeError:
        bad("archive.non_utf8_name", "a member name is flagged UTF-8 but is not valid UTF-8")
        return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError) as exc:
        bad("archive.unreadable", f"not a readable zip archive ({exc.__class__.__name__}: {str(exc)[:100]})")
        return out
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            bad("archive.too_many_files", f"{len(infos)} entries > {limits.max_members}")
            return out
        declared_total = sum(i.file_size for i in infos)
        if declared_total > limits.max_total_bytes:
            bad("archive.too_large", f"{declared_total} bytes uncompressed > {limits.max_total_bytes}")
            return out
        _check_overlaps(infos, data, bad)
        seen: dict[str, str] = {}
        total = 0
        for info in infos:
            name = info.orig_filename
            if not info.flag_bits & _UTF8_FLAG and not name.isascii():
                bad("archive.non_utf8_name", "name is neither ASCII nor flagged UTF-8", name)
                continue
            reason = check_name(name)
            if reason is not None:
                bad("archive.unsafe_path", reason, name)
                continue
            kind = _file_type(info)
            if kind is not None:
                code = "archive.link" if kind == "symlink" else "archive.not_a_file"
                if kind != "directory":
                    bad(code, f"entry is a {kind}", name)
                elif info.file_size:
                    bad("archive.not_a_file", "directory entry with content", name)
                continue  # empty directory entries carry nothing
            folded = unicodedata.normalize("NFC", name).casefold()
            if folded in seen:
                same = (
                    "duplicate name"
                    if seen[folded] == name
                    else f"name collides with {_shown(seen[folded])!r}"
                )
                bad("archive.duplicate_name", same, name)
                continue
            seen[folded] = name
            if info.flag_bits & _ENCRYPTED_FLAG:
                bad("archive.encrypted", "encrypted entry", name)
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                bad("archive.compression", f"compression method {info.compress_type} (use deflate)", name)
                continue
            if info.file_size > limits.max_member_bytes:
                bad("archive.file_too_large", f"{info.file_size} bytes > {limits.max_member_bytes}", name)
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_min_bytes and ratio > limits.max_ratio:
                bad(
                    "archive.compression_ratio",
                    f"compression ratio {ratio:.0f} > {limits.max_ratio:.0f}",
                    name,
                )
                continue
            try:
                content = _read_capped(zf, info, min(limits.max_member_bytes, info.file_size))
            except zipfile.BadZipFile as exc:
                bad("archive.corrupt", f"corrupt entry ({str(exc)[:100]})", name)
                continue
            except Exception as exc:  # zlib.error, EOFError, NotImplementedError: all mean "corrupt"
                bad("archive.corrupt", f"corrupt entry ({exc.__class__.__name__})", name)
                continue
            if len(content) != info.file_size:
                bad(
                    "archive.size_mismatch",
                    f"holds more or fewer bytes than its declared {info.file_size}",
                    name,
                )
                continue
            total += len(content)
            if total > limits.max_total_bytes:
                bad("archive.too_large", f"more than {limits.max_total_bytes} bytes uncompressed", name)
                return out
            out.members[name] = content
    return out


def _check_overlaps(infos: list[zipfile.ZipInfo], data: bytes, bad) -> None:
    """Entries whose data ranges share bytes: two names for one body (a zip "hard link") or a bomb."""
    spans = []
    for info in infos:
        start = info.header_offset
        head = data[start + 26 : start + _LOCAL_HEADER_SIZE]
        extra = (
            int.from_bytes(head[:2], "little") + int.from_bytes(head[2:], "little") if len(head) == 4 else 0
        )
        spans.append((start, start + _LOCAL_HEADER_SIZE + extra + info.compress_size, info))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (start_a, end_a, a), (start_b, _, b) in zip(spans, spans[1:], strict=False):
        if start_b == start_a:
            bad(
                "archive.link",
                f"shares its data with {_shown(a.orig_filename)!r} (a hard link)",
                b.orig_filename,
            )
        elif start_b < end_a:
            bad("archive.overlap", f"overlaps the data of {_shown(a.orig_filename)!r}", b.orig_filename)


def check_npz(data: bytes, limits: Limits | None = None) -> str | None:
    """Why an ``.npz`` keypoint track is unsafe to hand to ``np.load``, or None.

    ``np.load`` allocates what each array header declares before reading: a tiny member declaring a huge shape
    exhausts memory. Members must be plain ``.npy`` arrays (no object dtype, so nothing is unpickled) whose
    declared size fits in the member.
    """
    import numpy as np

    limits = limits or Limits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, OSError, NotImplementedError):
        return "not a readable npz"
    with zf:
        infos = zf.infolist()
        if not infos or len(infos) > 8:
            return f"{len(infos)} arrays (a keypoint npz holds data, mask, metadata)"
        for info in infos:
            if check_name(info.filename) or "/" in info.filename or not info.filename.endswith(".npy"):
                return f"member {_shown(info.filename)!r} is not a plain .npy name"
            if info.flag_bits & _ENCRYPTED_FLAG or _file_type(info) is not None:
                return f"member {_shown(info.filename)!r} is not a plain file"
            if info.file_size > limits.max_member_bytes:
                return f"member {_shown(info.filename)!r} is larger than {limits.max_member_bytes} bytes"
            try:
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    else:
                        return f"member {_shown(info.filename)!r}: unsupported .npy version {version}"
            except Exception:  # ValueError, zlib.error, BadZipFile: all mean "not an array"
                return f"member {_shown(info.filename)!r} is not a .npy array"
            if dtype.hasobject:
                return f"member {_shown(info.filename)!r} holds Python objects (would need unpickling)"
            if math.prod(shape) * dtype.itemsize > info.file_size:
                return f"member {_shown(info.filename)!r} declares a shape {shape} larger than its data"
    return None
