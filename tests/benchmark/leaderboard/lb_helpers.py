"""Helpers for the leaderboard tests: scoring the bundled sample set, packing (and tampering) bundles."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.leaderboard.bundle import INTEGRITY, SIGNATURE, integrity_bytes, pack_members, write_zip
from benchmark.leaderboard.testset import load_testset

SAMPLE = "sample-v1"
META = {
    "method": "On-beat dancer",
    "method_version": "1.0",
    "generated_by": "Toy Lab",
    "evaluated_by": "Toy Lab",
    "paper_url": None,
    "code_url": "https://example.org/on-beat",
    "license": "Apache-2.0",
    "sampling": {"seed": 0, "steps": 50, "resolution": [128, 128], "fps": 16},
}


def sample_dir() -> Path:
    return load_testset(SAMPLE).default_gt_dir()


def evaluate_motion(
    pred_keypoints: Path, out: Path, protocol: str = "mace2d-official", gt: Path | None = None
):
    from benchmark.evaluate import EvaluateOptions, run_evaluate
    from benchmark.results import write_results

    gt = gt or sample_dir()
    opts = EvaluateOptions(
        pred_keypoints=pred_keypoints, gt_keypoints=gt, audio_dir=gt, protocol=protocol, out=out, n_boot=50
    )
    write_results(out, run_evaluate(opts).results(argv=["test"]))
    return out


def evaluate_appearance(
    pred_videos: Path, out: Path, gt: Path | None = None, dims: str = "temporal_flickering"
):
    from benchmark.evaluate import EvaluateOptions, run_evaluate
    from benchmark.results import write_results

    opts = EvaluateOptions(
        pred_dir=pred_videos, gt_dir=gt, dims="appearance", appearance_dims=dims, out=out, n_boot=50
    )
    write_results(out, run_evaluate(opts).results(argv=["test"]))
    return out


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def save(doc: dict[str, Any], path: Path) -> Path:
    Path(path).write_text(json.dumps(doc, indent=2))
    return path


def bundle(
    out: Path,
    results: list[Path],
    keypoints: Path | None = None,
    meta: dict[str, Any] | None = None,
    sign_key: Path | None = None,
    mutate: Callable[[dict[str, bytes]], None] | None = None,
    reintegrate: bool = True,
) -> Path:
    """Pack like ``submission pack`` (no check); ``mutate`` edits the members, and with ``reintegrate`` the
    integrity list is rewritten afterwards (an attacker who knows the format)."""
    members = pack_members(list(results), dict(meta or META), load_testset(SAMPLE), keypoints, None)
    if mutate is not None:
        mutate(members)
        if reintegrate:
            body = {k: v for k, v in members.items() if k not in (INTEGRITY, SIGNATURE)}
            members[INTEGRITY] = integrity_bytes(body)
    if sign_key is not None:
        from benchmark.leaderboard.signing import load_private_key, sign

        members[SIGNATURE] = json.dumps(sign(load_private_key(sign_key), members[INTEGRITY])).encode()
    return write_zip(out, members)


def raw_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    """A zip written entry by entry (duplicates and odd attributes allowed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    Path(path).write_bytes(buf.getvalue())
    return path


def members_of(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def codes(report) -> set[str]:
    return {p.code for p in report.problems}
