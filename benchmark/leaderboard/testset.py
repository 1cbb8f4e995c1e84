"""Test sets as data: a versioned manifest of the GT files a benchmark number was scored on.

A manifest (``manifests/testsets/<name>-v<version>.yaml``) names the test set and its version, the protocols
(name, version and a sha256 of every parameter) it is scored under, and for every stem the sha256 of each GT
file a protocol reads (``video``, optional ``audio`` when the music is not the video's soundtrack,
``keypoints``), its frame count, frame rate and duration. It holds hashes, never media: a maintainer can
publish the manifest of a private test set (``hashes_published: true``) without its videos, and anyone can
check that a results file was scored on it. ``hashes_published: false`` declares a test set (e.g. the
paper's) whose hashes are not public yet; nothing can be verified against it, but its paper rows can be shown.

The GT files themselves, needed only to re-score submissions, are looked up in ``<manifest stem>/`` next to
the manifest (the bundled ``sample`` set ships them there) or in a folder given on the command line.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmark.leaderboard.safejson import canonical
from ma_data.core.errors import FormatError, MaceError
from ma_data.core.packaged import packaged_path

SCHEMA = "mace-dance/testset"
SCHEMA_VERSION = "1.0"
ROLES = ("video", "audio", "keypoints")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.[A-Za-z0-9]{1,8}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
KEYPOINT_SUFFIXES = (".json", ".npz")


class BoardError(MaceError):
    """The board's own set-up is wrong (its manifest, toolkit or GT files), not a submission."""


#: Which GT role each side name of a results file's ``inputs`` reads (``GT audio`` may be the video itself).
SIDE_ROLES: dict[str, tuple[str, ...]] = {
    "GT video": ("video",),
    "GT keypoints": ("keypoints",),
    "GT audio": ("audio", "video"),
}


@dataclass(frozen=True)
class GtFile:
    file: str
    sha256: str


@dataclass(frozen=True)
class StemEntry:
    stem: str
    frames: int
    fps: float
    duration_s: float
    files: dict[str, GtFile]

    def accepted_sha(self, side: str) -> dict[str, str]:
        """{role: sha256} a results side may match for this stem (``GT audio``: the audio, else the video)."""
        roles = SIDE_ROLES.get(side, ())
        if side == "GT audio" and "audio" in self.files:
            roles = ("audio",)
        return {r: self.files[r].sha256 for r in roles if r in self.files}


@dataclass(frozen=True)
class ProtocolRef:
    name: str
    version: str
    params_sha256: str


@dataclass
class TestSet:
    name: str
    version: str
    protocols: list[ProtocolRef]
    stems: dict[str, StemEntry]
    hashes_published: bool = True
    n_stems: int = 0
    description: str = ""
    paper_tables: list[str] = field(default_factory=list)
    path: Path | None = None

    __test__ = False  # not a pytest class

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.version

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def protocol(self, name: str) -> ProtocolRef | None:
        return next((p for p in self.protocols if p.name == name), None)

    def fingerprint(self) -> str:
        """sha256 of everything that defines the test set (not comments, description or formatting)."""
        body = {
            "name": self.name,
            "version": self.version,
            "protocols": [[p.name, p.version, p.params_sha256] for p in self.protocols],
            "stems": {
                s: {
                    "frames": e.frames,
                    "fps": e.fps,
                    "duration_s": e.duration_s,
                    "files": {r: [f.file, f.sha256] for r, f in sorted(e.files.items())},
                }
                for s, e in sorted(self.stems.items())
            },
        }
        return hashlib.sha256(canonical(body)).hexdigest()

    def default_gt_dir(self) -> Path | None:
        if self.path is None:
            return None
        folder = self.path.with_suffix("")
        return folder if folder.is_dir() else None


def params_sha256(params: dict[str, Any]) -> str:
    """sha256 of a protocol's parameters as they appear in a results file (canonical JSON)."""
    return hashlib.sha256(canonical(params)).hexdigest()


def testsets_dir() -> Path:
    return packaged_path("testsets")


def packaged_testsets() -> list[Path]:
    return sorted(testsets_dir().glob("*.yaml"))


def resolve_testset_path(name_or_path: str | os.PathLike) -> Path:
    """A manifest path, or the name of a packaged one (``sample-v1``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    packaged = testsets_dir() / f"{name_or_path}.yaml"
    if not path.suffix and packaged.is_file():
        return packaged
    known = ", ".join(p.stem for p in packaged_testsets())
    raise MaceError(f"{path}: no such test-set manifest (packaged: {known})")


def _need(d: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise FormatError(f"{where}: missing {key!r}")
    value = d[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise FormatError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _parse_stem(stem: str, d: Any, where: str) -> StemEntry:
    if not STEM_RE.match(stem):
        raise FormatError(f"{where}: stem {stem!r} is not a plain name ([A-Za-z0-9._-])")
    frames = _need(d, "frames", int, f"{where}: {stem}")
    fps = float(_need(d, "fps", (int, float), f"{where}: {stem}"))
    duration = float(_need(d, "duration_s", (int, float), f"{where}: {stem}"))
    files_raw = _need(d, "files", dict, f"{where}: {stem}")
    files = {}
    for role, spec in files_raw.items():
        if role not in ROLES:
            raise FormatError(f"{where}: {stem}: unknown file role {role!r} (known: {', '.join(ROLES)})")
        name = _need(spec, "file", str, f"{where}: {stem}.{role}")
        sha = _need(spec, "sha256", str, f"{where}: {stem}.{role}")
        if not FILE_RE.match(name) or Path(name).stem != stem:
            raise FormatError(f"{where}: {stem}.{role}: file {name!r} must be '{stem}.<ext>'")
        if not SHA_RE.match(sha):
            raise FormatError(f"{where}: {stem}.{role}: sha256 must be 64 lowercase hex digits")
        files[role] = GtFile(name, sha)
    if "video" not in files and "keypoints" not in files:
        raise FormatError(f"{where}: {stem}: needs at least a video or keypoints file")
    return StemEntry(stem, frames, fps, duration, files)


def load_testset(name_or_path: str | os.PathLike) -> TestSet:
    """Read and check a test-set manifest (a path, or a packaged name such as ``sample-v1``)."""
    path = resolve_testset_path(name_or_path)
    where = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FormatError(f"{where}: unreadable test-set manifest ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise FormatError(f"{where}: not a test-set manifest (schema must be {SCHEMA!r})")
    if str(doc.get("schema_version")) != SCHEMA_VERSION:
        raise FormatError(f"{where}: unsupported schema_version {doc.get('schema_version')!r}")
    name, version = str(_need(doc, "name", str, where)), str(_need(doc, "version", (str, int), where))
    if not NAME_RE.match(name) or not VERSION_RE.match(version):
        raise FormatError(f"{where}: bad name/version {name!r} {version!r}")
    protocols = []
    for p in _need(doc, "protocols", list, where):
        ref = ProtocolRef(
            _need(p, "name", str, where), str(_need(p, "version", (str, int, float), where)), ""
        )
        sha = _need(p, "params_sha256", str, where)
        if not SHA_RE.match(sha):
            raise FormatError(f"{where}: protocol {ref.name}: params_sha256 must be 64 lowercase hex digits")
        protocols.append(ProtocolRef(ref.name, ref.version, sha))
    if not protocols or len({p.name for p in protocols}) != len(protocols):
        raise FormatError(f"{where}: 'protocols' must list each protocol once")
    published = bool(doc.get("hashes_published", True))
    stems_raw = doc.get("stems") or {}
    if not isinstance(stems_raw, dict):
        raise FormatError(f"{where}: 'stems' must be a mapping")
    stems = {str(s): _parse_stem(str(s), d, where) for s, d in stems_raw.items()}
    if published and not stems:
        raise FormatError(f"{where}: no stems (set hashes_published: false for an unpublished test set)")
    if not published and stems:
        raise FormatError(f"{where}: hashes_published is false but stems are listed")
    tables = doc.get("paper_tables") or []
    if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
        raise FormatError(f"{where}: 'paper_tables' must be a list of table names")
    n = int(doc.get("n_stems", len(stems)))
    if published and n != len(stems):
        raise FormatError(f"{where}: n_stems {n} but {len(stems)} stems listed")
    return TestSet(
        name=name,
        version=version,
        protocols=protocols,
        stems=dict(sorted(stems.items())),
        hashes_published=published,
        n_stems=n,
        description=str(doc.get("description", "")),
        paper_tables=list(tables),
        path=path.resolve(),
    )


def scored_elsewhere(testset: TestSet, results: dict[str, Any]) -> str | None:
    """Why ``results`` were not scored on ``testset`` (a stem it does not hold, a GT file whose recorded
    sha256 is not the manifest's, no GT hash at all), or None when every GT hash they record matches."""
    if not testset.hashes_published:
        return f"test set {testset.label} has no published hashes to check against"
    checked = 0
    for dim, block in (results.get("inputs") or {}).items():
        for stem, sides in ((block or {}).get("files") or {}).items():
            for side, sha in (sides or {}).items():
                if side not in SIDE_ROLES:
                    continue
                if stem not in testset.stems:
                    return f"{dim} stem {stem!r} is not in test set {testset.label}"
                if sha not in testset.stems[stem].accepted_sha(side).values():
                    return f"{dim} {side} of {stem} has another sha256 than test set {testset.label}'s"
                checked += 1
    return None if checked else "they record no GT file hash"


def check_protocols_current(testset: TestSet) -> None:
    """The board's toolkit must define each protocol exactly as the manifest pinned it."""
    from benchmark.protocols import get_protocol

    for ref in testset.protocols:
        proto = get_protocol(ref.name)
        if proto.version != ref.version or params_sha256(proto.params) != ref.params_sha256:
            raise BoardError(
                f"{testset.path}: protocol {ref.name} v{ref.version} is pinned with other parameters than "
                f"this toolkit's {proto.name} v{proto.version}; re-pin it with `mace-bench testset create` "
                "(a published test set gets a new version)"
            )


def create_testset(
    gt_dir: Path,
    name: str,
    version: str,
    protocols: list[str],
    audio_dir: Path | None = None,
    keypoints_dir: Path | None = None,
    description: str = "",
) -> TestSet:
    """Hash a folder of GT videos (and keypoints/audio with the same stems) into a :class:`TestSet`."""
    from benchmark.inputs import AUDIO_SUFFIXES, VIDEO_SUFFIXES, list_by_stem
    from benchmark.protocols import get_protocol
    from ma_data.core.io.atomic import sha256_file
    from ma_data.core.io.video import probe_video

    if not NAME_RE.match(name):
        raise MaceError(f"--name {name!r}: use lowercase letters, digits and . _ - (at most 64)")
    if not VERSION_RE.match(version):
        raise MaceError(f"--version {version!r}: use letters, digits and . _ - (at most 32)")
    if not protocols:
        raise MaceError("give at least one --protocol")
    refs = []
    for p in dict.fromkeys(protocols):
        proto = get_protocol(p)
        refs.append(ProtocolRef(proto.name, proto.version, params_sha256(proto.params)))
    videos = list_by_stem(gt_dir, VIDEO_SUFFIXES, "GT video")
    if not videos:
        raise MaceError(f"{gt_dir}: no GT videos ({', '.join(VIDEO_SUFFIXES)})")
    sides = {"video": videos}
    kp = list_by_stem(keypoints_dir or gt_dir, KEYPOINT_SUFFIXES, "GT keypoints")
    if kp:
        sides["keypoints"] = kp
    if audio_dir is not None:
        sides["audio"] = list_by_stem(audio_dir, AUDIO_SUFFIXES, "GT audio")
    for role, files in sides.items():
        if set(files) != set(videos):
            odd = sorted(set(files) ^ set(videos))
            raise MaceError(f"{role} files and GT videos have different stems: {', '.join(odd[:5])}")
    stems = {}
    for stem in sorted(videos):
        if not STEM_RE.match(stem):
            raise MaceError(
                f"{videos[stem]}: stem {stem!r} is not a plain name ([A-Za-z0-9._-], at most 128)"
            )
        info = probe_video(videos[stem])
        if not info.n_frames or not info.fps:
            raise MaceError(f"{videos[stem]}: no frames or no frame rate")
        files = {role: GtFile(f[stem].name, sha256_file(f[stem])) for role, f in sides.items()}
        for f in files.values():
            if not FILE_RE.match(f.file):
                raise MaceError(f"{gt_dir / f.file}: file name is not a plain name ([A-Za-z0-9._-])")
        stems[stem] = StemEntry(stem, info.n_frames, info.fps, info.n_frames / info.fps, files)
    return TestSet(name, version, refs, stems, True, len(stems), description)


def dump_testset(testset: TestSet) -> str:
    """The manifest as YAML text (deterministic: sorted stems, fixed key order)."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "name": testset.name,
        "version": testset.version,
        "description": testset.description,
        "hashes_published": testset.hashes_published,
        "n_stems": testset.n_stems,
        "protocols": [
            {"name": p.name, "version": p.version, "params_sha256": p.params_sha256}
            for p in testset.protocols
        ],
    }
    if testset.paper_tables:
        doc["paper_tables"] = list(testset.paper_tables)
    doc["stems"] = {
        s: {
            "frames": e.frames,
            "fps": e.fps,
            "duration_s": e.duration_s,
            "files": {r: {"file": f.file, "sha256": f.sha256} for r, f in sorted(e.files.items())},
        }
        for s, e in sorted(testset.stems.items())
    }
    head = (
        f"# Test set {testset.name} v{testset.version}: sha256 of every GT file, per stem "
        "(written by `mace-bench testset create`).\n"
        f"# Fingerprint: {testset.fingerprint()}\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=110)
