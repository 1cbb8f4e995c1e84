"""An explicit reader of the results-file fields the validator needs: one function per schema version.

The validator never walks a results document itself; it reads a :class:`ResultsView` made here. When the
results schema changes (e.g. one runner writing the same ``inputs``/``uncertainty`` blocks for 2D, 3D and
appearance), add ``read_vX`` for the new version and register it in :data:`READERS`; the rules do not change.

Schema 1.0 (``mace-bench evaluate``, :mod:`benchmark.results`):

- ``protocols``: name, version, kind, params; ``metrics[key]``: value, ci95, higher_is_better, protocol;
- ``per_sample[stem]``: every protocol's per-stem values merged into one mapping;
- ``inputs.motion`` (2D motion) / ``inputs.appearance``: ``files[stem][side] = sha256`` of each input file,
  ``sha256`` = one digest over them (see :func:`benchmark.inputs.hash_inputs`);
- ``n_samples_by_protocol``; ``skipped``: list of {stem, reason} merged over protocols;
- bootstrap: 2D motion ``extra.<protocol>.bootstrap`` {n_boot, seed}; appearance ``uncertainty.n_boot`` with
  seed 0 (``score_appearance`` does not take the seed in 1.0).

3D results (``evaluate-3d``) in 1.0 record ``inputs.gt_sha256`` by file name with no side names; they are
reported as unsupported.

Schema 2.0 (the unified runner, :mod:`benchmark.runner`): the same fields, with the 2D protocols' parameters
under the 3D protocols' names, ``inputs.<dimension>.sides`` named by side, ``uncertainty`` {n_boot, seed}
in every file (the appearance seed is the one used) and ``metrics[key].label``. A 1.0 document is read
through :func:`benchmark.results.upgrade_results` first, so both are checked against the same protocol
parameters; its appearance seed stays 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmark.leaderboard.archive import Problem

#: per-sample keys that are not metrics, by protocol kind
AUX_PER_SAMPLE = {
    "motion2d": ("n_music_beats", "n_motion_beats", "n_motion_beats_gt", "missed_frames", "missed_frames_gt"),
    "appearance": (),
}
#: results ``inputs`` block of each protocol kind
INPUT_BLOCK = {"motion2d": "motion", "appearance": "appearance"}
GT_SIDES = ("GT video", "GT keypoints", "GT audio")
ISO_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class ResultsFormatError(Exception):
    """The document is not a results file this reader understands (one problem, fatal for the file)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Metric:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    higher_is_better: bool | None


@dataclass
class ProtocolScore:
    """What one results file claims for one protocol."""

    name: str
    version: str
    kind: str
    params: dict[str, Any]
    metrics: dict[str, Metric]
    per_sample: dict[str, dict[str, float | None]]
    n_samples: int
    inputs: dict[str, dict[str, str]]  # stem -> side -> sha256 (this protocol's input block)
    inputs_digest: str | None
    input_sides: list[str]
    n_boot: int | None
    seed: int | None

    @property
    def stems(self) -> list[str]:
        return sorted(self.per_sample)


@dataclass
class ResultsView:
    schema_version: str
    toolkit_version: str
    created_utc: str
    protocols: list[ProtocolScore]
    skipped: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def _num(x: Any) -> bool:
    return x is None or isinstance(x, int | float) and not isinstance(x, bool)


def _dict(doc: Any, key: str) -> dict:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise ResultsFormatError("results.schema", f"'{key}' must be an object")
    return value


def _metric(key: str, entry: Any) -> Metric:
    if not isinstance(entry, dict):
        raise ResultsFormatError("results.schema", f"metrics.{key} must be an object")
    ci = entry.get("ci95", [None, None])
    hib = entry.get("higher_is_better")
    if not _num(entry.get("value")) or not isinstance(ci, list) or len(ci) != 2 or not all(map(_num, ci)):
        raise ResultsFormatError("results.schema", f"metrics.{key}: value/ci95 must be numbers or null")
    if hib is not None and not isinstance(hib, bool):
        raise ResultsFormatError("results.schema", f"metrics.{key}: higher_is_better must be true/false/null")
    return Metric(entry.get("value"), ci[0], ci[1], hib)


def _input_block(doc: dict, kind: str) -> tuple[dict[str, dict[str, str]], str | None, list[str]]:
    block = doc.get("inputs", {}).get(INPUT_BLOCK[kind]) if isinstance(doc.get("inputs"), dict) else None
    if not isinstance(block, dict) or not isinstance(block.get("files"), dict):
        raise ResultsFormatError(
            "results.schema", f"inputs.{INPUT_BLOCK[kind]}.files is missing: no input hashes recorded"
        )
    files: dict[str, dict[str, str]] = {}
    sides: list[str] = []
    for stem, per_side in block["files"].items():
        if not isinstance(per_side, dict) or not all(
            isinstance(v, str) and SHA_RE.match(v) for v in per_side.values()
        ):
            raise ResultsFormatError(
                "results.schema", f"inputs.{INPUT_BLOCK[kind]}.files.{stem[:80]}: bad hashes"
            )
        files[stem] = dict(per_side)
        for side in per_side:
            if side not in sides:
                sides.append(side)
    digest = block.get("sha256")
    return files, digest if isinstance(digest, str) else None, sides


def read_v1(doc: dict[str, Any], appearance_seed_recorded: bool = False) -> ResultsView:
    """Schema 1.0 upgraded in memory, and 2.0 (``appearance_seed_recorded``): see the module docstring."""
    toolkit = doc.get("toolkit")
    version = toolkit.get("version") if isinstance(toolkit, dict) else None
    if not isinstance(version, str) or not version.strip():
        raise ResultsFormatError("results.toolkit", "toolkit.version is not recorded")
    created = doc.get("created_utc")
    if not isinstance(created, str) or not ISO_UTC_RE.match(created):
        raise ResultsFormatError("results.schema", "created_utc must be an ISO 8601 UTC time")
    protocols_raw = doc.get("protocols")
    if not isinstance(protocols_raw, list) or not protocols_raw:
        raise ResultsFormatError("results.schema", "'protocols' must be a non-empty list")
    metrics_raw = _dict(doc, "metrics")
    per_sample_raw = _dict(doc, "per_sample")
    counts = _dict(doc, "n_samples_by_protocol")
    skipped_raw = doc.get("skipped")
    if not isinstance(skipped_raw, list):
        raise ResultsFormatError("results.schema", "'skipped' must be a list")
    problems: list[Problem] = []
    skipped: dict[str, str] = {}
    for item in skipped_raw:
        if not isinstance(item, dict) or not isinstance(item.get("stem"), str):
            raise ResultsFormatError("results.schema", "'skipped' entries must be {stem, reason}")
        stem = item["stem"]
        if stem in skipped:
            problems.append(
                Problem("results.stem_duplicate", f"stem {stem[:80]!r} is listed twice in 'skipped'")
            )
        skipped[stem] = str(item.get("reason", ""))[:500]
    for stem, values in per_sample_raw.items():
        if not isinstance(values, dict) or not all(_num(v) for v in values.values()):
            raise ResultsFormatError(
                "results.schema", f"per_sample.{stem[:80]}: values must be numbers or null"
            )

    scores: list[ProtocolScore] = []
    claimed: set[str] = set()
    for p in protocols_raw:
        if not isinstance(p, dict) or not all(isinstance(p.get(k), str) for k in ("name", "version", "kind")):
            raise ResultsFormatError("results.schema", "each protocol needs name, version and kind")
        if not isinstance(p.get("params"), dict):
            raise ResultsFormatError("results.schema", f"protocol {p['name'][:60]}: params must be an object")
        name, kind = p["name"], p["kind"]
        if kind not in INPUT_BLOCK:
            raise ResultsFormatError(
                "results.unsupported",
                f"protocol {name[:60]} is a {kind[:20]} protocol; only 2D motion and appearance results are "
                "verifiable with results schema 1.0",
            )
        metrics = {
            k: _metric(k, e)
            for k, e in metrics_raw.items()
            if isinstance(e, dict) and e.get("protocol") == name
        }
        keys = set(metrics) | set(AUX_PER_SAMPLE[kind])
        claimed |= keys
        per_sample = {
            stem: {k: v for k, v in values.items() if k in keys}
            for stem, values in per_sample_raw.items()
            if any(k in keys for k in values)
        }
        n = counts.get(name)
        if not isinstance(n, int) or isinstance(n, bool):
            raise ResultsFormatError(
                "results.schema", f"n_samples_by_protocol.{name[:60]} must be an integer"
            )
        files, digest, sides = _input_block(doc, kind)
        boot = _bootstrap(doc, name, kind, appearance_seed_recorded)
        scores.append(
            ProtocolScore(
                name, p["version"], kind, p["params"], metrics, per_sample, n, files, digest, sides, *boot
            )
        )
    names = [s.name for s in scores]
    single = doc.get("protocol")
    if single is not None and (len(protocols_raw) != 1 or single != protocols_raw[0]):
        problems.append(Problem("results.schema", "'protocol' disagrees with 'protocols'"))
    if len(scores) == 1 and doc.get("n_samples") != scores[0].n_samples:
        problems.append(Problem("results.n_samples", "'n_samples' disagrees with 'n_samples_by_protocol'"))
    for key, entry in metrics_raw.items():
        if not isinstance(entry, dict) or entry.get("protocol") not in names:
            problems.append(
                Problem("results.metric_protocol", f"metric {key[:60]!r} names no protocol of this file")
            )
    stray = sorted({k for values in per_sample_raw.values() for k in values} - claimed)
    if stray:
        problems.append(
            Problem(
                "results.schema", f"per-sample key(s) of no protocol in this file: {', '.join(stray[:5])}"
            )
        )
    return ResultsView(doc["schema_version"], version, created, scores, skipped, problems)


def _bootstrap(doc: dict, name: str, kind: str, seed_recorded: bool) -> tuple[int | None, int | None]:
    if kind == "motion2d":
        extra = doc.get("extra", {}).get(name, {}) if isinstance(doc.get("extra"), dict) else {}
        boot = extra.get("bootstrap", {}) if isinstance(extra, dict) else {}
        n_boot, seed = (boot.get("n_boot"), boot.get("seed")) if isinstance(boot, dict) else (None, None)
    else:
        unc = doc.get("uncertainty") if isinstance(doc.get("uncertainty"), dict) else {}
        n_boot, seed = unc.get("n_boot"), (unc.get("seed") if seed_recorded else 0)
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (n_boot, seed))
    return (n_boot, seed) if ok else (None, None)


def _read_1_0(doc: dict[str, Any]) -> ResultsView:
    from benchmark.results import upgrade_results

    return read_v1(upgrade_results(doc))


def read_v2(doc: dict[str, Any]) -> ResultsView:
    """Schema 2.0: the fields of 1.0 (see the module docstring); the appearance bootstrap seed is recorded."""
    return read_v1(doc, appearance_seed_recorded=True)


READERS: dict[str, Callable[[dict[str, Any]], ResultsView]] = {"1.0": _read_1_0, "2.0": read_v2}


def read_results_doc(doc: Any) -> ResultsView:
    """The :class:`ResultsView` of a parsed results document; raises :class:`ResultsFormatError`."""
    if not isinstance(doc, dict):
        raise ResultsFormatError("results.schema", "not a JSON object")
    version = doc.get("schema_version")
    reader = READERS.get(version) if isinstance(version, str) else None
    if reader is None:
        raise ResultsFormatError(
            "results.schema_version",
            f"unsupported results schema_version {str(version)[:20]!r} (supported: {', '.join(READERS)})",
        )
    try:
        return reader(doc)
    except ResultsFormatError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError) as exc:  # a shape the reader did not foresee
        raise ResultsFormatError("results.schema", f"malformed results ({exc.__class__.__name__})") from None
