"""Re-scoring a submission's 2D motion metrics from its keypoint tracks, as ``mace-bench evaluate`` does.

The generated tracks (already checked against the hashes the results recorded) are written under a fresh
temporary folder, named by test-set stem (never by a name from the archive); the GT keypoints and music of
the test set are linked next to them; then :func:`benchmark.runner.evaluate_motion2d` (the very function
``evaluate --pred-keypoints ... --gt-keypoints ... --audio ...`` runs) scores them with the recorded
``n_boot``/``seed``. Its report is compared with the results file: the scored stems, every per-sample value
(counts exactly, BAS within 1e-9), FID within ``rtol = 1e-4`` (the covariance square root differs between
BLAS/LAPACK builds), Div within ``rtol = 1e-4`` (float32 distances), BAS within 1e-9, the intervals within
``rtol = 1e-3`` (FID/Div intervals are bootstraps of eigenvalue-based distances).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmark.leaderboard.aggregates import close
from benchmark.leaderboard.archive import Problem
from benchmark.leaderboard.results_reader import ProtocolScore
from benchmark.leaderboard.testset import BoardError, TestSet

SET_RTOL = {"fid_k": 1e-4, "fid_g": 1e-4, "div_k": 1e-4, "div_g": 1e-4, "div_k_gt": 1e-4, "div_g_gt": 1e-4}
CI_RTOL = 1e-3
COUNT_KEYS = ("n_music_beats", "n_motion_beats", "n_motion_beats_gt", "missed_frames", "missed_frames_gt")


def _link(src: Path, dst: Path) -> None:
    try:
        os.symlink(src, dst)
    except OSError:  # filesystems without symlinks
        shutil.copyfile(src, dst)


def gt_available(testset: TestSet, gt_dir: Path | None) -> str | None:
    """Why the test set's GT keypoints and music cannot be used for re-scoring, or None."""
    if gt_dir is None:
        return "no GT folder (give --gt DIR, or keep the GT files next to the manifest)"
    for entry in testset.stems.values():
        if "keypoints" not in entry.files:
            return f"test set {testset.label} records no GT keypoints"
        for role in ("keypoints", "audio" if "audio" in entry.files else "video"):
            if not (gt_dir / entry.files[role].file).is_file():
                return f"{gt_dir / entry.files[role].file}: GT file not found"
    return None


def rescore_motion(
    score: ProtocolScore, tracks: dict[str, tuple[str, bytes]], testset: TestSet, gt_dir: Path
) -> list[Problem]:
    """Re-score ``score``'s protocol from ``tracks`` (stem -> (suffix, bytes)); problems where they differ."""
    from benchmark.runner import evaluate_motion2d

    with tempfile.TemporaryDirectory(prefix="mace-rescore-") as tmp:
        root = Path(tmp)
        pred, gt, audio = root / "pred", root / "gt", root / "audio"
        for d in (pred, gt, audio):
            d.mkdir()
        for stem, (suffix, data) in tracks.items():
            (pred / f"{stem}{suffix}").write_bytes(data)
        for stem, entry in testset.stems.items():
            kp = entry.files["keypoints"]
            music = entry.files.get("audio", entry.files.get("video"))
            _link(gt_dir / kp.file, gt / f"{stem}{Path(kp.file).suffix}")
            _link(gt_dir / music.file, audio / f"{stem}{Path(music.file).suffix}")
        evaluation = evaluate_motion2d(
            score.name,
            pred_keypoints=pred,
            gt_keypoints=gt,
            audio=audio,
            n_boot=int(score.n_boot or 0),
            seed=int(score.seed or 0),
        )
    report, inputs = evaluation.report, evaluation.inputs
    _check_board_gt(inputs["motion"]["files"], testset, gt_dir)
    return compare(score, report)


def _check_board_gt(files: dict, testset: TestSet, gt_dir: Path) -> None:
    """The board's own GT copy must be the test set's: otherwise the board, not the submission, is wrong."""
    for stem, sides in files.items():
        for side, sha in sides.items():
            accepted = testset.stems[stem].accepted_sha(side)
            if accepted and sha not in accepted.values():
                raise BoardError(
                    f"{gt_dir}: the GT files for {stem} ({side}) do not match test set {testset.label}"
                )


def compare(score: ProtocolScore, report) -> list[Problem]:
    """Problems where a re-scored :class:`MetricReport` differs from what the results file claims."""
    where = f"{score.name} re-scored"
    out: list[Problem] = []
    claimed, got = set(score.per_sample), set(report.per_sample)
    if claimed != got:
        diff = sorted(claimed ^ got)
        out.append(
            Problem(
                "results.rescore_mismatch",
                f"re-scoring the included keypoints scores {len(got)} stems, the results {len(claimed)} "
                f"(differ: {', '.join(s[:40] for s in diff[:5])})",
                where,
            )
        )
    for stem in sorted(claimed & got):
        mine, theirs = report.per_sample[stem], score.per_sample[stem]
        for key, value in mine.items():
            claim = theirs.get(key)
            same = claim == value if key in COUNT_KEYS else close(claim, value)
            if not same:
                out.append(
                    Problem(
                        "results.per_sample_mismatch",
                        f"per_sample[{stem}].{key} = {claim!r} but re-scoring the included keypoints gives "
                        f"{value!r}",
                        where,
                    )
                )
    for key, mv in report.metrics.items():
        claim = score.metrics.get(key)
        rtol = SET_RTOL.get(key, 1e-9)
        if claim is None:
            out.append(Problem("results.metric_missing", f"{key}: missing from the results", where))
            continue
        if not close(claim.value, mv.value, rtol=rtol):
            out.append(
                Problem(
                    "results.rescore_mismatch",
                    f"{key} = {claim.value!r} but re-scoring the included keypoints gives {mv.value!r} "
                    f"(rtol {rtol:g})",
                    where,
                )
            )
        if not (
            close(claim.ci_low, mv.ci_low, rtol=CI_RTOL) and close(claim.ci_high, mv.ci_high, rtol=CI_RTOL)
        ):
            out.append(
                Problem(
                    "results.ci_mismatch",
                    f"{key}: 95% interval [{claim.ci_low!r}, {claim.ci_high!r}] but re-scoring gives "
                    f"[{mv.ci_low!r}, {mv.ci_high!r}] (rtol {CI_RTOL:g})",
                    where,
                )
            )
    return out
