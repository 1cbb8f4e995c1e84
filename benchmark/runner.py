"""The evaluation runner: one path from input folders to a results document, for every kind of protocol.

``mace-bench evaluate`` (2D motion, appearance), ``mace-bench evaluate-3d`` and any later command (reproducing
a paper row, re-scoring a leaderboard submission) go through the same steps:

1. **collect** the inputs: list each side's folder with the protocol's :class:`~benchmark.inputs.InputRule`
   and one collision rule (a stem with several candidate files is ambiguous, never silently resolved), pair
   them by stem (:class:`~benchmark.inputs.PairedInputs`); nothing is read yet;
2. **read** every item inside a per-item boundary (a bad file skips its stem, with its reason);
3. **score** under the typed protocol (the family's scorer returns a
   :class:`~benchmark.report.MetricReport` and never prints);
4. **record**: an :class:`Evaluation` holds the reports, the ``inputs`` block of each dimension (sha256 of
   every file scored), the bootstrap settings and the loaded samples; ``Evaluation.results()`` is the
   results document (:mod:`benchmark.results`). Plots and tables are consumers of it.

Library API (nothing here prints; ``progress=True`` draws bars on a terminal, ``log`` receives status lines)::

    from benchmark.runner import evaluate_motion2d, evaluate_motion3d, evaluate_appearance, combine
    from benchmark.results import write_results

    ev = evaluate_motion2d(pred_keypoints=P, gt_keypoints=G, audio=A, protocol="mace2d-official")
    ev = evaluate_motion2d(pred_videos=P, gt_videos=G, pose="mediapipe")       # keypoints extracted here
    ev = evaluate_motion3d(gt=G, pred=P, music_beats=B, protocol="finedance3d")
    ev = evaluate_appearance(pred_videos=P, gt_videos=G, dims=["temporal_flickering", "ssim"])
    ev = evaluate_appearance(inputs=collect_appearance(P, G))                  # listed first (for a cache key)
    ev.report.metrics["fid_k"].value, ev.inputs["motion"]["files"]             # values and input hashes
    write_results("results.json", combine([ev_motion, ev_appearance]).results(argv))

Re-scoring (the leaderboard validator): call ``evaluate_motion2d`` on the submitted tracks with the recorded
``n_boot``/``seed`` and compare ``ev.report`` with the claimed values, or call the scorer
(:func:`benchmark.motion.mace2d.score_mace2d`) on arrays directly. Caching by input hashes (``reproduce``):
``collect_*`` lists the inputs without reading them, :func:`cache_key` digests those inputs with the protocol
and the settings, and the same ``PairedInputs`` is passed on as ``inputs=`` so nothing is listed twice.

A run with nothing usable left raises a one-line :class:`~ma_data.core.errors.MaceError` naming the first
reasons; anything else that goes wrong with one item is that item's skip reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.inputs import (
    AUDIO_SUFFIXES,
    VIDEO_SUFFIXES,
    InputRule,
    PairedInputs,
    explain_unread,
    list_by_stem,
    pair_by_stem,
)
from benchmark.protocol_base import Protocol
from benchmark.protocols import get_protocol
from benchmark.report import MetricReport
from ma_data.core.errors import MaceError

__all__ = [
    "Evaluation",
    "cache_key",
    "collect_appearance",
    "collect_motion2d",
    "combine",
    "evaluate_appearance",
    "evaluate_motion2d",
    "evaluate_motion3d",
]

Log = Callable[[str], None] | None

# Side names: the keys of ``inputs.<dimension>.files[stem]`` in results and the words of skip reasons.
GT_KEYPOINTS, PRED_KEYPOINTS, GT_AUDIO = "GT keypoints", "generated keypoints", "GT audio"
GT_VIDEO, PRED_VIDEO = "GT video", "generated video"
GT_MOTION, PRED_MOTION, MUSIC_BEATS, MUSIC = "GT motion", "generated motion", "music beats", "music"


@dataclass
class Evaluation:
    """What one evaluation produced: the protocol reports, the ``inputs`` block of each dimension (by
    dimension name: ``motion``, ``motion3d``, ``appearance``), the bootstrap settings, and the loaded samples
    (by dimension; for consumers such as the beat-alignment plots, never serialised)."""

    reports: list[MetricReport]
    inputs: dict[str, dict[str, Any]]
    n_boot: int
    seed: int
    samples: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def report(self) -> MetricReport:
        """The one report of a single-protocol evaluation."""
        if len(self.reports) != 1:
            raise ValueError(f"this evaluation has {len(self.reports)} reports; use .reports")
        return self.reports[0]

    def results(self, argv: list[str] | None = None) -> dict[str, Any]:
        """The results document (:func:`benchmark.results.build_results`)."""
        from benchmark.results import build_results

        return build_results(
            self.reports, self.inputs, argv=argv, uncertainty={"n_boot": self.n_boot, "seed": self.seed}
        )


def combine(evaluations: list[Evaluation]) -> Evaluation:
    """One evaluation of several dimensions (e.g. motion + appearance of the same videos)."""
    if not evaluations:
        raise ValueError("nothing to combine")
    first = evaluations[0]
    if any((e.n_boot, e.seed) != (first.n_boot, first.seed) for e in evaluations):
        raise ValueError("evaluations with different bootstrap settings cannot share a results file")
    out = Evaluation([], {}, first.n_boot, first.seed)
    for e in evaluations:
        out.reports += e.reports
        out.inputs.update(e.inputs)
        out.samples.update(e.samples)
    return out


def cache_key(inputs: dict[str, Any], protocol: Protocol, **settings: Any) -> str:
    """A digest of everything that determines an evaluation's numbers: the ``inputs`` block (its files'
    sha256), the protocol (name, version, parameters) and the settings (``n_boot``, ``seed``, ``pose``...)."""
    doc = {
        "inputs": inputs.get("sha256"),
        "protocol": protocol.to_dict(),
        "settings": {k: settings[k] for k in sorted(settings)},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _require_samples(report: MetricReport, what: str) -> None:
    if report.n_samples:
        return
    reasons = "; ".join(f"{k}: {' '.join(v.split())}" for k, v in list(report.skipped.items())[:3])
    more = f" (and {len(report.skipped) - 3} more)" if len(report.skipped) > 3 else ""
    raise MaceError(f"no usable {what} samples" + (f" — {reasons}{more}" if reasons else ""))


# ------------------------------------------------------------------------------------------ 2D motion


def collect_motion2d(
    protocol: str | Protocol = "mace2d-official",
    *,
    pred_keypoints: Path | None = None,
    gt_keypoints: Path | None = None,
    audio: Path | None = None,
    pred_videos: Path | None = None,
    gt_videos: Path | None = None,
) -> PairedInputs:
    """List and pair the inputs of a 2D evaluation without reading them.

    Keypoints (``pred_keypoints`` + ``gt_keypoints`` + ``audio``, the GT music) are matched with the
    protocol's input rule (``mace2d-official``: the official script's glob). Videos (``pred_videos`` +
    ``gt_videos``) are matched with the forgiving rule; the GT music is ``audio`` or the GT videos' own.
    """
    proto = get_protocol(protocol, kind="motion2d")
    if gt_keypoints is not None or pred_keypoints is not None:
        if gt_keypoints is None or pred_keypoints is None:
            raise MaceError("--pred-keypoints and --gt-keypoints go together")
        if audio is None and gt_videos is None:
            raise MaceError(
                "--gt-keypoints needs --audio DIR (GT music: .mp4 or .wav) to compute music beats"
            )
        folders = {GT_KEYPOINTS: Path(gt_keypoints), PRED_KEYPOINTS: Path(pred_keypoints)}
        folders[GT_AUDIO] = Path(audio if audio is not None else gt_videos)
        rules = {
            GT_KEYPOINTS: proto.input_rule("keypoints"),
            PRED_KEYPOINTS: proto.input_rule("keypoints"),
            GT_AUDIO: proto.input_rule("audio"),
        }
        what = {GT_KEYPOINTS: "GT keypoints", PRED_KEYPOINTS: "generated keypoints", GT_AUDIO: "audio"}
        paired = _pair(folders, rules, what)
        explain_unread(
            paired,
            rules,
            proto.name,
            alternatives=_other_readers(
                proto, {GT_KEYPOINTS: "keypoints", PRED_KEYPOINTS: "keypoints", GT_AUDIO: "audio"}
            ),
            wrap_hint={GT_AUDIO: "or wrap it in an .mp4 (ffmpeg -i {file} -c:a aac {stem}.mp4)"},
        )
        return paired
    if pred_videos is None:
        raise MaceError("give --pred DIR (videos) or --pred-keypoints DIR (keypoints)")
    if gt_videos is None:
        raise MaceError("motion scoring of videos needs --gt DIR (ground-truth videos)")
    video = InputRule(VIDEO_SUFFIXES)
    folders = {GT_VIDEO: Path(gt_videos), PRED_VIDEO: Path(pred_videos)}
    rules = {GT_VIDEO: video, PRED_VIDEO: video}
    if audio is not None:
        folders[GT_AUDIO], rules[GT_AUDIO] = Path(audio), InputRule(AUDIO_SUFFIXES)
    paired = _pair(folders, rules, {GT_VIDEO: GT_VIDEO, PRED_VIDEO: PRED_VIDEO, GT_AUDIO: "audio"})
    if audio is None:  # the GT video's own audio; its problems are reported once, on the GT video side
        paired.sides[GT_AUDIO] = dict(paired.sides[GT_VIDEO])
        paired.folders[GT_AUDIO] = paired.folders[GT_VIDEO]
    return paired


def _other_readers(proto: Protocol, roles: dict[str, str]) -> dict[str, dict[str, InputRule]]:
    """For each side, the other registered 2D protocols and the rule each reads that side's role with."""
    from benchmark.protocols import list_protocols

    others = [p for p in list_protocols("motion2d") if p.name != proto.name and hasattr(p, "input_rule")]
    return {side: {p.name: p.input_rule(role) for p in others} for side, role in roles.items()}


def _pair(folders: dict[str, Path], rules: dict[str, InputRule], what: dict[str, str]) -> PairedInputs:
    problems: dict[str, dict[str, str]] = {side: {} for side in folders}
    sides = {
        side: list_by_stem(folders[side], rules[side], what[side], problems=problems[side])
        for side in folders
    }
    return pair_by_stem(sides, problems, folders)


def evaluate_motion2d(
    protocol: str | Protocol = "mace2d-official",
    *,
    inputs: PairedInputs | None = None,
    pred_keypoints: Path | None = None,
    gt_keypoints: Path | None = None,
    audio: Path | None = None,
    pred_videos: Path | None = None,
    gt_videos: Path | None = None,
    pose: str = "mediapipe",
    detector: str = "auto",
    n_boot: int = 1000,
    seed: int = 0,
    cache: bool = True,
    progress: bool = False,
    log: Log = None,
    pose_options: dict | None = None,
    executor: str = "serial",
    workers: int | None = None,
    address: str | None = None,
) -> Evaluation:
    """Score generated dances against GT under a 2D protocol, from keypoint files or from videos.

    Folders as in :func:`collect_motion2d` (or ``inputs``, what it returned). ``pose`` is the keypoint
    extractor for videos (tracks cached by video hash unless ``cache=False``; with ``vitpose`` the protocol's
    invisible-joint rule and ``detector``, plus ``pose_options`` such as ``batch_size``/``dtype``, recorded as
    ``inputs.motion.keypoint_extraction``); ``executor`` (``serial`` | ``process`` | ``ray``, ``workers``,
    ``address``) spreads the videos' extraction, one video per task, with the serial run's tracks;
    ``n_boot``/``seed``: the bootstrap over stems. Raises :class:`MaceError` when no stem can be scored.
    """
    from benchmark.motion.inputs2d import (
        extract_keypoints,
        music_beats,
        pose_backend_options,
        read_keypoints,
    )
    from benchmark.motion.mace2d import score_mace2d

    proto = get_protocol(protocol, kind="motion2d")
    paired = inputs or collect_motion2d(
        proto,
        pred_keypoints=pred_keypoints,
        gt_keypoints=gt_keypoints,
        audio=audio,
        pred_videos=pred_videos,
        gt_videos=gt_videos,
    )
    if GT_KEYPOINTS in paired.sides:
        samples = read_keypoints(paired, GT_KEYPOINTS, PRED_KEYPOINTS)
    else:
        options = {**pose_backend_options(pose, detector, proto), **(pose_options or {})}
        samples = extract_keypoints(
            paired,
            GT_VIDEO,
            PRED_VIDEO,
            pose,
            backend_options=options,
            cache=cache,
            progress=progress,
            log=log,
            executor=executor,
            workers=workers,
            address=address,
        )
    music_beats(paired, GT_AUDIO, proto, samples)
    stems = list(paired.stems)
    report = score_mace2d(
        {s: samples.gt[s] for s in stems},
        {s: samples.pred[s] for s in stems},
        {s: samples.beats[s] for s in stems},
        proto,
        n_boot=n_boot,
        seed=seed,
        fps={s: samples.fps[s] for s in stems},  # read by protocols that window by seconds
        audio_seconds={s: samples.audio_seconds[s] for s in stems},
    )
    report.skipped = {**paired.skipped, **report.skipped}
    _require_samples(report, "motion")
    scored = [s for s in stems if s in report.per_sample]
    block = paired.block(scored)
    if samples.extraction is not None:
        block["keypoint_extraction"] = samples.extraction
    return Evaluation([report], {"motion": block}, n_boot, seed, {"motion": samples})


# ------------------------------------------------------------------------------------------ 3D motion


def evaluate_motion3d(
    gt: Path,
    pred: Path,
    protocol: str | Protocol = "bailando3d",
    *,
    music_beats: Path | None = None,
    music: Path | None = None,
    fps: float | None = None,
    n_boot: int = 100,
    seed: int = 0,
    progress: bool = False,
) -> Evaluation:
    """Score generated 3D dances (``pred`` folder) against GT (``gt`` folder) under a 3D protocol.

    As in the references, the two folders are *sets*: FID/Div compare the GT set with the generated set,
    which need not hold the same stems. Music beats are looked up by each motion's stem, from ``music_beats``
    (``<stem>.npy`` 0/1 vectors at the motion frame rate) or extracted from ``music`` audio with the
    protocol's recipe. ``fps`` overrides the files' frame rate. Raises :class:`MaceError` when a side has
    no readable motion.
    """
    from benchmark.motion.inputs3d import (
        BEATS_RULE,
        MOTION_RULE,
        MUSIC_RULE,
        beats_from_files,
        beats_from_music,
        load_motions,
    )
    from benchmark.motion.protocols3d import score_3d

    if music_beats is not None and music is not None:
        raise MaceError("give either --music-beats or --music, not both")
    proto = get_protocol(protocol, kind="motion3d")
    skipped: dict[str, str] = {}
    folders = {GT_MOTION: Path(gt), PRED_MOTION: Path(pred)}
    files: dict[str, dict[str, Path]] = {}
    motions: dict[str, dict] = {}
    for side, key in ((GT_MOTION, "gt"), (PRED_MOTION, "pred")):
        # 3D sets are not paired: a skip names its side, "gt:<stem>" / "pred:<stem>"
        problems: dict[str, str] = {}
        files[side] = list_by_stem(folders[side], MOTION_RULE, side, problems=problems)
        skipped.update({f"{key}:{stem}": reason for stem, reason in problems.items()})
        motions[side] = load_motions(files[side], key, skipped, fps=fps, progress=progress)
        if not motions[side]:
            reasons = [r for k, r in skipped.items() if k.startswith(f"{key}:")]
            shown = "; ".join(reasons[:2]) + (f" (and {len(reasons) - 2} more)" if len(reasons) > 2 else "")
            what = "ground-truth" if key == "gt" else "generated"
            raise MaceError(
                f"{folders[side]}: no readable {what} motion files" + (f" — {shown}" if shown else "")
            )

    warns: list[str] = []
    beats = None
    stems = set(motions[GT_MOTION]) | set(motions[PRED_MOTION])
    if music_beats is not None or music is not None:
        side = MUSIC_BEATS if music_beats is not None else MUSIC
        folders[side] = Path(music_beats if music_beats is not None else music)
        problems = {}
        rule = BEATS_RULE if side == MUSIC_BEATS else MUSIC_RULE
        files[side] = list_by_stem(folders[side], rule, side, problems=problems)
        if side == MUSIC_BEATS:
            beats = beats_from_files(files[side], stems, warns)
        else:
            motion_fps = float(next(iter(motions[PRED_MOTION].values())).fps)
            beats = beats_from_music(
                files[side], stems, proto.music_recipe.value, motion_fps, warns, progress
            )
        warns += [f"music beats: {reason}" for stem, reason in sorted(problems.items()) if stem in stems]
    report = score_3d(
        motions[GT_MOTION], motions[PRED_MOTION], beats, proto, n_boot=n_boot, seed=seed, skipped=skipped
    )
    report.warnings[:0] = warns
    report.extra["bootstrap"] = {
        "n_boot": int(n_boot),
        "seed": int(seed),
        "method": "resample generated samples with replacement (GT samples with them when both sets hold the "
        "same stems); percentile intervals",
    }
    scored = {GT_MOTION: report.extra.get("gt_stems", []), PRED_MOTION: report.extra.get("pred_stems", [])}
    used = {side: {s: files[side][s] for s in stems_ if s in files[side]} for side, stems_ in scored.items()}
    if beats is not None:
        side = MUSIC_BEATS if music_beats is not None else MUSIC
        used[side] = {s: files[side][s] for s in beats}
    block = PairedInputs(sorted(set().union(*map(set, used.values()))), used, folders=folders).block()
    if music is not None:
        block["music_recipe"] = proto.music_recipe.value
    samples = {"gt": motions[GT_MOTION], "pred": motions[PRED_MOTION], "beats": beats or {}}
    return Evaluation([report], {"motion3d": block}, n_boot, seed, {"motion3d": samples})


# ------------------------------------------------------------------------------------------ appearance


def collect_appearance(pred_videos: Path, gt_videos: Path | None = None) -> PairedInputs:
    """List the videos of an appearance evaluation without reading them, selecting files as VBench's
    ``custom_input`` does: every generated video is a stem to score (``sides[PRED_VIDEO]``), the GT videos
    (``sides[GT_VIDEO]``) are matched by stem. Generated files of other video types and entries that are not
    regular files are skipped with their reason; so is a GT stem nobody generated ("missing generated
    video"); an unusable GT entry is a warning (the generated video is still scored)."""
    from benchmark.appearance.decode import VBENCH_SUFFIXES, collect_videos

    if pred_videos is None:
        raise MaceError("appearance scoring needs --pred DIR (generated videos)")
    folders = {PRED_VIDEO: Path(pred_videos)}
    pred_problems: dict[str, str] = {}
    gt_problems: dict[str, str] = {}
    pred = collect_videos(pred_videos, pred_problems, what=PRED_VIDEO)
    sides = {PRED_VIDEO: pred}
    if gt_videos is not None:
        folders[GT_VIDEO] = Path(gt_videos)
        sides[GT_VIDEO] = collect_videos(gt_videos, gt_problems, what=GT_VIDEO)
    skipped: dict[str, str] = {}
    others = set(list_by_stem(pred_videos, VIDEO_SUFFIXES, PRED_VIDEO)) - set(pred)
    for stem in sorted(others):
        skipped.setdefault(stem, f"not a VBench input type ({'/'.join(VBENCH_SUFFIXES)})")
    # Entries VBench's selection would pick by name but that are not regular files (folders, FIFOs, symlink
    # loops) are never opened; they are reported, not dropped.
    for stem, reason in pred_problems.items():
        skipped.setdefault(stem, reason)
    if (
        gt_videos is not None
    ):  # a GT stem nobody generated is skipped with its reason, as the motion side does
        for stem in sorted(set(sides[GT_VIDEO]) - set(pred) - set(skipped)):
            skipped[stem] = f"missing {PRED_VIDEO}"
    warnings = [
        f"{reason}; full-reference metrics not computed for {stem}" for stem, reason in gt_problems.items()
    ]
    return PairedInputs(sorted(pred), sides, skipped, folders, warnings)


def evaluate_appearance(
    pred_videos: Path | None = None,
    gt_videos: Path | None = None,
    protocol: str | Protocol = "vbench-appearance",
    *,
    inputs: PairedInputs | None = None,
    dims: list[str] | None = None,
    device: str = "cpu",
    batch_size: int = 16,
    fvd_clips: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> Evaluation:
    """Score generated videos on the appearance dimensions (and, with ``gt_videos``, the full-reference
    metrics) under the appearance protocol, selecting files as VBench's ``custom_input`` does
    (:func:`collect_appearance`, or ``inputs``, what it returned).

    ``dims`` defaults to the six VBench dimensions plus ``fvd, ssim, lpips, psnr`` with GT; ``fvd_clips``
    is the FVD clip policy (recorded in the protocol's parameters when not the default). Files of other
    video types and entries that are not regular files are reported, not silently dropped.
    """
    from benchmark.appearance import score_appearance

    proto = get_protocol(protocol, kind="appearance")
    paired = inputs or collect_appearance(pred_videos, gt_videos)
    pred = {s: paired.sides[PRED_VIDEO][s] for s in paired.stems}
    gt = paired.sides.get(GT_VIDEO)
    settings = {"dims": dims, "device": device, "batch_size": batch_size, "n_boot": n_boot, "seed": seed}
    settings["fvd_clips"] = fvd_clips
    report = score_appearance(pred, gt, progress=progress, protocol=proto, **settings)
    for stem, reason in paired.skipped.items():
        report.skipped.setdefault(stem, reason)
    report.warnings.extend(paired.warnings)
    _require_samples(report, "appearance")
    used = {PRED_VIDEO: {s: pred[s] for s in report.per_sample}}
    if gt is not None:
        used[GT_VIDEO] = {s: gt[s] for s in report.per_sample if s in gt}
    block = PairedInputs(sorted(report.per_sample), used, folders=paired.folders).block()
    return Evaluation([report], {"appearance": block}, n_boot, seed)
