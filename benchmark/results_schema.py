"""The results schema version, and reading old results files: older schemas are upgraded in memory.

Readers (``mace-bench table``, the leaderboard) see one shape: :func:`upgrade_results` turns a schema 1.0
document into schema 2.0 without changing any number. What changed in 2.0:

- **protocol parameters**: the 2D protocols use the names the 3D protocols use for the same concept
  (:data:`RENAMED_2D`); parameters the 1.0 code applied without recording them are recorded
  (:func:`_params_2d`, :func:`_params_3d`: the values the 1.0 code used); parameters recorded but never read
  are gone (``pfc_up`` of the 3D protocols, ``fps`` of ``mace2d-strict``). Protocol versions are unchanged:
  the numbers are the same.
- **inputs**: one block per dimension everywhere, ``{"sides": {side: folder}, "files": {stem: {side:
  sha256}}, "sha256": digest}``; 2D sides are named by side (``"GT keypoints"``), not by option
  (``"gt_keypoints"``); 3D results had ``gt_sha256``/``pred_sha256`` by file name at the top of ``inputs``
  and now have an ``inputs.motion3d`` block.
- **uncertainty**: ``{method, n_boot, seed}`` in every results file (1.0 3D results had none: null values).
- **metrics**: each entry carries its display ``label``.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

__all__ = ["RENAMED_2D", "SCHEMA_VERSION", "upgrade_results"]

#: The results schema written by this toolkit (see the module docstring for what 2.0 changed).
SCHEMA_VERSION = "2.0"

#: 2D parameter names of schema 1.0 -> their names since 2.0 (the 3D protocols' names for the same concept).
RENAMED_2D: dict[str, str] = {
    "frame_time": "kinetic_frame_time",
    "norm_eps": "normalize_eps",
    "norm_ddof": "normalize_ddof",
    "fid_complex": "fid_complex_mode",
    "div_dtype": "diversity_dtype",
    "bas_sigma": "bas_sigma_smooth",
    "bas_kernel_sigma": "bas_sigma_kernel",
    "bas_sigma_s": "bas_sigma_smooth_s",
    "bas_kernel_sigma_s": "bas_sigma_kernel_s",
}

#: 1.0 ``inputs.motion.sides`` keys (command-line options) -> side names.
_SIDE_OF_OPTION = {
    "gt_keypoints": "GT keypoints",
    "pred_keypoints": "generated keypoints",
    "audio_dir": "GT audio",
    "gt_dir": "GT video",
    "pred_dir": "generated video",
}

_KEYPOINT_SUFFIXES_1_0 = [".json", ".npz"]


def _params_2d(params: dict[str, Any]) -> dict[str, Any]:
    out = {RENAMED_2D.get(k, k): v for k, v in params.items()}
    official = out.get("window") == "first"
    if not official:
        out.pop("fps", None)  # recorded by mace2d-strict 1.x, never read (it reads each file's frame rate)
    # What the 1.0 code did without recording it: the official glob (*.json, case-sensitive, hidden files
    # included) for the first-window protocol, any-case .json/.npz otherwise; triu diversity; BAS 0 when
    # the music has no beat.
    out.setdefault("keypoint_suffixes", [".json"] if official else list(_KEYPOINT_SUFFIXES_1_0))
    out.setdefault("file_match", "glob" if official else "any-case")
    out.setdefault("diversity_mode", "triu")
    out.setdefault("bas_without_beats", "zero")
    return out


def _params_3d(params: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in params.items() if k != "pfc_up"}  # never read (pfc_up_index is)
    out.setdefault("bas_without_beats", "zero")
    return out


def _protocol(p: Any) -> Any:
    if not isinstance(p, dict) or not isinstance(p.get("params"), dict):
        return p
    kind = p.get("kind")
    if kind == "motion2d":
        p["params"] = _params_2d(p["params"])
    elif kind == "motion3d":
        p["params"] = _params_3d(p["params"])
    return p


def _digest(files: dict[str, dict[str, str]]) -> str:
    combined = hashlib.sha256()
    for stem in sorted(files):
        for side, sha in files[stem].items():
            combined.update(f"{stem}:{side}:{sha}\n".encode())
    return combined.hexdigest()


def _inputs_3d(old: dict[str, Any]) -> dict[str, Any]:
    sides: dict[str, Any] = {"GT motion": old.get("gt_dir"), "generated motion": old.get("pred_dir")}
    hashed = {"GT motion": old.get("gt_sha256"), "generated motion": old.get("pred_sha256")}
    if "music_beats_dir" in old:
        sides["music beats"] = old["music_beats_dir"]
        hashed["music beats"] = old.get("music_beats_sha256")
    if "music_dir" in old:
        sides["music"] = old["music_dir"]
    files: dict[str, dict[str, str]] = {}
    for side, by_name in hashed.items():
        for name, sha in (by_name or {}).items() if isinstance(by_name, dict) else ():
            files.setdefault(Path(str(name)).stem, {})[side] = sha
    files = {stem: files[stem] for stem in sorted(files)}
    block: dict[str, Any] = {"sides": sides, "files": files, "sha256": _digest(files)}
    if "music_recipe" in old:
        block["music_recipe"] = old["music_recipe"]
    return {"motion3d": block}


def _inputs(inputs: Any, kinds: set[str]) -> Any:
    if not isinstance(inputs, dict):
        return inputs
    if "motion3d" in kinds and "gt_sha256" in inputs:
        return _inputs_3d(inputs)
    motion = inputs.get("motion")
    if isinstance(motion, dict) and isinstance(motion.get("sides"), dict):
        old = motion["sides"]
        sides = {_SIDE_OF_OPTION.get(k, k): v for k, v in old.items()}
        seen = {s for per in (motion.get("files") or {}).values() if isinstance(per, dict) for s in per}
        if "GT audio" in seen and "GT audio" not in sides and "GT video" in sides:
            sides["GT audio"] = sides["GT video"]  # 1.0 read the GT videos' own audio
        motion["sides"] = sides
    appearance = inputs.get("appearance")
    if isinstance(appearance, dict) and "sides" not in appearance:
        seen = [s for per in (appearance.get("files") or {}).values() if isinstance(per, dict) for s in per]
        appearance["sides"] = dict.fromkeys(dict.fromkeys(seen))  # folders were not recorded in 1.0
    return inputs


def upgrade_results(doc: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A copy of results document ``doc`` in the current schema (documents already current are copied as
    they are). ``labels`` maps metric keys to display labels for documents that have none."""
    doc = copy.deepcopy(doc)
    version = str(doc.get("schema_version", "1.0"))
    if version == SCHEMA_VERSION:
        return doc
    protocols = doc.get("protocols")
    if isinstance(protocols, list):
        doc["protocols"] = [_protocol(p) for p in protocols]
    if isinstance(doc.get("protocol"), dict):
        doc["protocol"] = _protocol(doc["protocol"])
    kinds = {p.get("kind") for p in doc.get("protocols") or [] if isinstance(p, dict)}
    doc["inputs"] = _inputs(doc.get("inputs", {}), kinds)
    if not isinstance(doc.get("uncertainty"), dict):
        doc["uncertainty"] = {"method": "not recorded (results schema 1.0)", "n_boot": None, "seed": None}
    for key, entry in (doc.get("metrics") or {}).items():
        if isinstance(entry, dict) and "label" not in entry:
            entry["label"] = (labels or {}).get(key, key)
    doc["schema_version"] = SCHEMA_VERSION
    doc["upgraded_from"] = version
    return doc
