"""The validation report: accepted or not, every problem (code, place, message), warnings, what was checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmark.leaderboard.archive import Problem

REPORT_SCHEMA = "mace-dance/validation-report"


def printable(text: str) -> str:
    """``text`` safe for a terminal: control, format and bidi characters (e.g. ANSI escapes in a stem name
    from a bundle) are shown as escapes instead of being interpreted."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


@dataclass
class Entry:
    """One (test set, protocol) result of an accepted submission, as the board shows it."""

    protocol: str
    protocol_version: str
    kind: str
    metrics: dict[str, dict[str, Any]]
    n_scored: int
    skipped: dict[str, str]
    rescored: bool
    toolkit_version: str
    created_utc: str
    verified: dict[str, str] = field(default_factory=dict)  # metric -> how the board checked it

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "protocol_version": self.protocol_version,
            "kind": self.kind,
            "metrics": self.metrics,
            "n_scored": self.n_scored,
            "skipped": self.skipped,
            "rescored": self.rescored,
            "toolkit_version": self.toolkit_version,
            "created_utc": self.created_utc,
            "verified": self.verified,
        }


@dataclass
class Report:
    bundle: str
    sha256: str | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    submission: dict[str, Any] | None = None
    testset: dict[str, Any] | None = None
    signature: dict[str, Any] = field(default_factory=lambda: {"status": "unsigned", "key": None})
    entries: list[Entry] = field(default_factory=list)
    validator: str = ""

    @property
    def accepted(self) -> bool:
        return not self.problems

    def add(self, code: str, message: str, where: str = "") -> None:
        self.problems.append(Problem(code, message, where))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "schema_version": "1.0",
            "bundle": self.bundle,
            "bundle_sha256": self.sha256,
            "accepted": self.accepted,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": list(self.warnings),
            "checks": list(self.checks),
            "submission": self.submission,
            "testset": self.testset,
            "signature": self.signature,
            "entries": [e.to_dict() for e in self.entries] if self.accepted else [],
            "validator": self.validator,
        }

    def lines(self) -> list[str]:
        """One readable line per problem and warning, then the verdict."""
        out = [f"problem [{p.code}] {p.line()}" for p in self.problems]
        out += [f"warning: {w}" for w in self.warnings]
        verdict = "ACCEPTED" if self.accepted else f"REJECTED ({len(self.problems)} problem(s))"
        out.append(f"{verdict}: {self.bundle}")
        return [printable(line) for line in out]
