"""The YAML file of ``mace-bench reproduce``: which methods to score, on which test set, with which options.

::

    testset: sample-v1                  # a packaged test-set manifest, or {manifest: PATH, gt: DIR, ...}
    methods:
      - name: My method                 # shown in the tables (any text; escaped everywhere)
        videos: runs/mine/videos        # generated videos, <stem>.mp4 (motion from them, and appearance)
        keypoints: runs/mine/keypoints  # optional: motion scored from these tracks instead of the videos
        motion3d: runs/mine/motion      # optional: 3D motions for Table 2 (needs testset.motion3d)
    options:                            # all optional
      protocol: mace2d-official         # the 2D motion protocol (Table 1)
      protocol3d: finedance3d           # the 3D protocol (Table 2)
      pose: mediapipe                   # keypoint extractor for videos (vitpose: the official one)
      appearance_dims: [temporal_flickering, ssim, psnr]   # default: the six VBench ones + Table 3's
      n_boot: 1000
      seed: 0
      device: cpu
      score_gt: true                    # score the GT videos' appearance for the Ground Truth row

The mapping form of ``testset``: ``manifest`` (path or packaged name), ``gt`` (GT videos; default: the
folder beside the manifest), ``gt_keypoints`` (default: ``gt``), ``audio`` (GT music; default: the GT
videos' own), and for Table 2 ``motion3d`` (GT motions) with ``music_beats`` or ``music``.
Relative paths are relative to the YAML file. A problem is one line naming the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ma_data.core.errors import ConfigError

__all__ = ["MethodSpec", "ReproduceConfig", "ReproduceOptions", "TestSetSpec", "load_config", "slug"]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    slug: str
    videos: Path | None = None
    keypoints: Path | None = None
    motion3d: Path | None = None


@dataclass(frozen=True)
class TestSetSpec:
    manifest: str
    gt: Path | None = None
    gt_keypoints: Path | None = None
    audio: Path | None = None
    motion3d: Path | None = None
    music_beats: Path | None = None
    music: Path | None = None

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class ReproduceOptions:
    protocol: str = "mace2d-official"
    protocol3d: str = "finedance3d"
    pose: str = "mediapipe"
    detector: str = "auto"
    appearance_dims: tuple[str, ...] | None = None
    fvd_clips: str | None = None
    n_boot: int = 1000
    seed: int = 0
    device: str = "cpu"
    score_gt: bool = True


@dataclass
class ReproduceConfig:
    path: Path
    testset: TestSetSpec
    methods: list[MethodSpec]
    options: ReproduceOptions = field(default_factory=ReproduceOptions)


def slug(name: str) -> str:
    """A folder name for a method: lowercase letters and digits joined by ``-`` (at most 48 characters)."""
    s = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:48].strip("-")
    return s or "method"


def _fail(path: Path, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {problem}")


def _str(d: dict, key: str, path: Path, where: str, required: bool = False) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise _fail(path, where, f"missing {key!r}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"{key!r} must be a non-empty string, got {value!r:.60}")
    return value


def _path(d: dict, key: str, base: Path, path: Path, where: str) -> Path | None:
    value = _str(d, key, path, where)
    if value is None:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _testset(raw: Any, base: Path, path: Path) -> TestSetSpec:
    if isinstance(raw, str):
        return TestSetSpec(raw)
    if not isinstance(raw, dict):
        raise _fail(path, "testset", "give a test-set name (sample-v1) or a mapping with 'manifest'")
    known = {"manifest", "gt", "gt_keypoints", "audio", "motion3d", "music_beats", "music"}
    extra = sorted(set(raw) - known)
    if extra:
        raise _fail(path, "testset", f"unknown key(s) {extra}; known: {sorted(known)}")
    manifest = _str(raw, "manifest", path, "testset", required=True)
    manifest_path = Path(manifest).expanduser()
    if manifest_path.suffix and not manifest_path.is_absolute():
        manifest = str(base / manifest_path)
    spec = TestSetSpec(
        manifest,
        **{k: _path(raw, k, base, path, "testset") for k in sorted(known - {"manifest"})},
    )
    if spec.music_beats is not None and spec.music is not None:
        raise _fail(path, "testset", "give either 'music_beats' or 'music', not both")
    return spec


def _methods(raw: Any, base: Path, path: Path) -> list[MethodSpec]:
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "methods", "give a list of methods (name, videos, optional keypoints/motion3d)")
    out: list[MethodSpec] = []
    for i, m in enumerate(raw):
        where = f"methods[{i}]"
        if not isinstance(m, dict):
            raise _fail(path, where, "each method is a mapping with 'name' and 'videos'")
        extra = sorted(set(m) - {"name", "videos", "keypoints", "motion3d"})
        if extra:
            raise _fail(path, where, f"unknown key(s) {extra}; known: name, videos, keypoints, motion3d")
        name = _str(m, "name", path, where, required=True)
        if len(name) > 200 or any(ord(c) < 32 for c in name):
            raise _fail(path, where, "'name' must be one line of at most 200 characters")
        folders = {k: _path(m, k, base, path, where) for k in ("videos", "keypoints", "motion3d")}
        if not any(folders.values()):
            raise _fail(path, where, f"method {name!r} gives no 'videos', 'keypoints' or 'motion3d' folder")
        out.append(MethodSpec(name, slug(name), **folders))
    for kind, values in (("name", [m.name for m in out]), ("folder name", [m.slug for m in out])):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise _fail(path, "methods", f"two methods share the {kind} {twice[0]!r}; rename one")
    return out


def _options(raw: Any, path: Path) -> ReproduceOptions:
    if raw is None:
        return ReproduceOptions()
    if not isinstance(raw, dict):
        raise _fail(path, "options", "must be a mapping")
    defaults = ReproduceOptions()
    known = set(defaults.__dataclass_fields__)
    extra = sorted(set(raw) - known)
    if extra:
        raise _fail(path, "options", f"unknown key(s) {extra}; known: {sorted(known)}")
    kw: dict[str, Any] = {}
    for key, value in raw.items():
        default = getattr(defaults, key)
        if key == "appearance_dims":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                raise _fail(path, "options.appearance_dims", "give a list of dimension names")
            kw[key] = tuple(value) if value is not None else None
        elif key in ("n_boot", "seed"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _fail(path, f"options.{key}", f"must be a non-negative integer, got {value!r:.40}")
            kw[key] = value
        elif key == "score_gt":
            if not isinstance(value, bool):
                raise _fail(path, "options.score_gt", "must be true or false")
            kw[key] = value
        elif value is None and default is None:
            kw[key] = None
        elif not isinstance(value, str):
            raise _fail(path, f"options.{key}", f"must be a string, got {value!r:.40}")
        else:
            kw[key] = value
    return ReproduceOptions(**kw)


def load_config(path: str | Path) -> ReproduceConfig:
    """Read and check a reproduce YAML file (paths resolved against its folder). Raises a one-line
    :class:`ConfigError` naming the file and the key for anything wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the reproduce config ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a YAML file ({' '.join(str(exc).split())[:200]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the reproduce config must be a mapping with 'testset' and 'methods'")
    extra = sorted(set(raw) - {"testset", "methods", "options"})
    if extra:
        raise ConfigError(f"{path}: unknown key(s) {extra}; known: testset, methods, options")
    if "testset" not in raw:
        raise ConfigError(f"{path}: missing 'testset' (a test-set name such as sample-v1, or a mapping)")
    base = path.resolve().parent
    return ReproduceConfig(
        path=path,
        testset=_testset(raw["testset"], base, path),
        methods=_methods(raw.get("methods"), base, path),
        options=_options(raw.get("options"), path),
    )
