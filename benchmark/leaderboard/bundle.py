"""Packing a submission bundle: one zip with metadata, the unmodified results, keypoints, integrity, signature.

Layout (every name fixed by the packer, never by a file name the submitter chose)::

    submission.json            metadata (META.yaml), the test set (name, version, fingerprint), listings
    integrity.json             {"algorithm": "sha256", "files": [{"path", "sha256"}, ...]} for every other member
    signature.json             optional ed25519 signature over the bytes of integrity.json
    results/<n>.json           the results files of `mace-bench evaluate`, byte for byte
    keypoints/<stem>.json|npz  optional generated keypoint tracks, each the file whose sha256 the results recorded

The zip is written deterministically (fixed timestamps and modes, sorted members), so the same inputs give
the same bundle on the same machine.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import yaml

from benchmark.leaderboard.meta import (
    SUBMISSION_SCHEMA,
    SUBMISSION_SCHEMA_VERSION,
    meta_problems,
    public_meta,
)
from benchmark.leaderboard.results_reader import ResultsFormatError, read_results_doc
from benchmark.leaderboard.safejson import JsonError, loads_strict
from benchmark.leaderboard.testset import TestSet
from ma_data.core.errors import MaceError
from ma_data.core.io.atomic import atomic_path

SUBMISSION = "submission.json"
INTEGRITY = "integrity.json"
SIGNATURE = "signature.json"
RESULTS_RE = re.compile(r"^results/[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.json$")
KEYPOINTS_RE = re.compile(r"^keypoints/([A-Za-z0-9][A-Za-z0-9._-]{0,127})(\.json|\.npz)$")
SUBMISSION_EXTRA_FIELDS = ("schema", "schema_version", "testset", "results", "keypoints", "packed_with")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def integrity_bytes(members: dict[str, bytes]) -> bytes:
    files = [{"path": name, "sha256": sha256_hex(data)} for name, data in sorted(members.items())]
    return (json.dumps({"algorithm": "sha256", "files": files}, indent=1, sort_keys=True) + "\n").encode()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """Write ``members`` to a zip deterministically (order: submission, integrity, signature, the rest sorted)."""
    head = [n for n in (SUBMISSION, INTEGRITY, SIGNATURE) if n in members]
    order = head + sorted(n for n in members if n not in head)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (0o100644 & 0xFFFF) << 16
            zf.writestr(info, members[name], compresslevel=9)
    return path


def read_meta(path: Path) -> dict[str, Any]:
    """META.yaml, checked with the same rules the validator applies to ``submission.json``."""
    try:
        meta = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MaceError(f"{path}: unreadable metadata ({exc.__class__.__name__})") from None
    problems = meta_problems(meta)
    if problems:
        raise MaceError(f"{path}: " + "; ".join(problems))
    return meta


def _keypoint_members(views: list, keypoints_dir: Path, sources: list[Path]) -> dict[str, bytes]:
    """keypoints/<stem><suffix> for every stem a 2D motion result scored from keypoints, matched by hash."""
    wanted: dict[str, str] = {}
    for view, src in zip(views, sources, strict=True):
        for score in view.protocols:
            for stem, sides in score.inputs.items():
                sha = sides.get("generated keypoints")
                if sha is None:
                    continue
                if wanted.setdefault(stem, sha) != sha:
                    raise MaceError(
                        f"{src}: {stem} was scored on other generated keypoints than another results file"
                    )
    if not wanted:
        raise MaceError("--keypoints: no results file was scored from keypoints (evaluate --pred-keypoints)")
    out = {}
    for stem, sha in sorted(wanted.items()):
        found = None
        for suffix in (".json", ".npz"):
            candidate = keypoints_dir / f"{stem}{suffix}"
            if candidate.is_file() and sha256_hex(candidate.read_bytes()) == sha:
                found = (suffix, candidate.read_bytes())
                break
        if found is None:
            raise MaceError(
                f"{keypoints_dir}: no {stem}.json/.npz with the sha256 the results recorded ({sha[:12]}…)"
            )
        out[f"keypoints/{stem}{found[0]}"] = found[1]
    return out


def pack_members(
    results: list[Path],
    meta: dict[str, Any],
    testset: TestSet,
    keypoints_dir: Path | None = None,
    sign_key: Path | None = None,
) -> dict[str, bytes]:
    """Every member of the bundle, ready to zip (no checks beyond reading the inputs)."""
    from benchmark.leaderboard.signing import load_private_key, sign
    from benchmark.results import toolkit_version

    if not results:
        raise MaceError("give at least one --results FILE")
    if not testset.hashes_published:
        raise MaceError(f"test set {testset.label} publishes no hashes: nothing can be submitted against it")
    members: dict[str, bytes] = {}
    views = []
    for i, path in enumerate(results, start=1):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise MaceError(f"{path}: cannot read ({exc.strerror or exc})") from None
        try:
            views.append(read_results_doc(loads_strict(data)))
        except (JsonError, ResultsFormatError) as exc:
            raise MaceError(f"{path}: {exc}") from None
        members[f"results/{i}.json"] = data
    if keypoints_dir is not None:
        members.update(_keypoint_members(views, Path(keypoints_dir), list(results)))
    submission = {
        "schema": SUBMISSION_SCHEMA,
        "schema_version": SUBMISSION_SCHEMA_VERSION,
        **public_meta(meta),
        "testset": {"name": testset.name, "version": testset.version, "fingerprint": testset.fingerprint()},
        "results": sorted(n for n in members if n.startswith("results/")),
        "keypoints": sorted(n for n in members if n.startswith("keypoints/")),
        "packed_with": {"name": "mace-dance", "version": toolkit_version()},
    }
    members[SUBMISSION] = (
        json.dumps(submission, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()
    members[INTEGRITY] = integrity_bytes(members)
    if sign_key is not None:
        doc = sign(load_private_key(sign_key), members[INTEGRITY])
        members[SIGNATURE] = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    return members
