"""The validator: one function, run identically by submitters and maintainers, that trusts nothing.

:func:`validate_bundle` reads a bundle (in memory, :mod:`.archive`), then checks, collecting every problem:

1. layout: only the members :mod:`.bundle` writes; every JSON member strict (:mod:`.safejson`);
2. integrity: every member listed once with its sha256, nothing listed that is absent; the signature (when
   present, or required by a trusted key) verifies over the integrity list;
3. metadata: ``submission.json`` schema, text and URL rules (:mod:`.meta`); the test set it names is the
   board's, with the same fingerprint; its listings match the members;
4. each results file (:mod:`.results_reader`): schema version and toolkit version recorded; every protocol
   on the test set with the same version and parameters, none scored by two files; the GT hashes recorded
   for every scored stem equal the manifest; every test stem scored or skipped with a reason, none unknown,
   none twice; ``n_samples`` right; the input digest consistent; metric keys and directions the protocol's;
5. recomputation (:mod:`.aggregates`): every set value that is a mean of per-sample values, and its
   bootstrap interval, recomputed; weighted means within the per-sample range;
6. keypoints: each track hashes to what the results recorded, one per scored stem, nothing extra; when the
   test set's GT is at hand the motion metrics are re-scored from them (:mod:`.rescore`).

It never raises on a hostile bundle: anything unexpected becomes a ``validator.error`` problem.
"""

from __future__ import annotations

import hashlib
import json
import math
import traceback
from pathlib import Path
from typing import Any

from benchmark.leaderboard import aggregates
from benchmark.leaderboard.archive import Limits, check_npz, read_archive
from benchmark.leaderboard.bundle import (
    INTEGRITY,
    KEYPOINTS_RE,
    RESULTS_RE,
    SIGNATURE,
    SUBMISSION,
    SUBMISSION_EXTRA_FIELDS,
    sha256_hex,
)
from benchmark.leaderboard.meta import (
    SUBMISSION_SCHEMA,
    SUBMISSION_SCHEMA_VERSION,
    meta_problems,
    public_meta,
    text_problem,
)
from benchmark.leaderboard.report import Entry, Report
from benchmark.leaderboard.rescore import gt_available, rescore_motion
from benchmark.leaderboard.results_reader import (
    AUX_PER_SAMPLE,
    GT_SIDES,
    ProtocolScore,
    ResultsFormatError,
    ResultsView,
    read_results_doc,
)
from benchmark.leaderboard.safejson import JsonError, loads_strict
from benchmark.leaderboard.testset import BoardError, TestSet, params_sha256
from ma_data.core.errors import MaceError

PRED_SIDES = {"generated keypoints", "generated video"}
MOTION2D_METRICS = ("fid_k", "fid_g", "div_k", "div_g", "bas", "div_k_gt", "div_g_gt", "bas_gt")


def _appearance_metrics() -> tuple[str, ...]:
    from benchmark.appearance.api import ALL_DIMS

    return ALL_DIMS


def _shown(items, n: int = 5) -> str:
    items = sorted(str(i)[:60] for i in items)
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


class _Context:
    """State shared by the checks of one bundle."""

    def __init__(self, report: Report, testset: TestSet, trusted: list, gt_dir: Path | None) -> None:
        self.report = report
        self.testset = testset
        self.trusted = trusted
        self.gt_dir = gt_dir
        self.docs: dict[str, Any] = {}
        self.require_keypoints = False

    def bad(self, code: str, message: str, where: str = "") -> None:
        self.report.add(code, message, where)


def validate_bundle(
    path: str | Path,
    testsets: TestSet | list[TestSet],
    public_keys: list | None = None,
    gt_dirs: dict[tuple[str, str], Path | None] | None = None,
    limits: Limits | None = None,
    rescore: bool = True,
    require_keypoints: bool = False,
) -> Report:
    """Validate the bundle at ``path`` against the board's test set(s); see the module docstring.

    ``public_keys``: trusted ed25519 keys (a signature is then required); ``gt_dirs``: (name, version) ->
    folder of the test set's GT files for re-scoring (default: next to the manifest); ``require_keypoints``:
    a board policy rejecting 2D motion results that cannot be re-scored (their FID/Div are otherwise trusted).
    """
    from benchmark.results import toolkit_version

    path = Path(path)
    report = Report(bundle=path.name, validator=f"mace-dance {toolkit_version()}")
    sets = [testsets] if isinstance(testsets, TestSet) else list(testsets)
    try:
        report.sha256 = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        _validate(
            path,
            report,
            sets,
            list(public_keys or []),
            gt_dirs or {},
            limits or Limits(),
            rescore,
            require_keypoints,
        )
    except BoardError:
        raise  # the board's own configuration is wrong (e.g. its GT files): not the submission's fault
    except Exception as exc:  # never crash on hostile input: report it
        report.add(
            "validator.error", f"unexpected {exc.__class__.__name__} while validating: {str(exc)[:200]}"
        )
        report.warnings.append(
            "validator traceback: " + traceback.format_exc(limit=3).replace("\n", " | ")[-800:]
        )
    if not report.accepted:
        report.entries = []
    return report


def _validate(path, report, sets, trusted, gt_dirs, limits, rescore, require_keypoints) -> None:
    archive = read_archive(path, limits)
    report.problems.extend(archive.problems)
    members = archive.members
    if not members and archive.problems:
        return
    docs = _parse_members(members, report)
    _check_integrity(members, docs, report)
    _check_signature(members, docs, report, trusted)
    testset = _check_submission(members, docs, report, sets)
    if testset is None:
        return
    ctx = _Context(report, testset, trusted, gt_dirs.get(testset.key, testset.default_gt_dir()))
    ctx.require_keypoints = require_keypoints
    views = {}
    for name in sorted(n for n in members if RESULTS_RE.match(n)):
        if name not in docs:
            continue  # its JSON problem is already reported
        try:
            view = read_results_doc(docs[name])
        except ResultsFormatError as exc:
            ctx.bad(exc.code, str(exc), name)
            continue
        for p in view.problems:
            ctx.bad(p.code, p.message, name)
        views[name] = view
    if not views and not any(RESULTS_RE.match(n) for n in members):
        ctx.bad("submission.no_results", "the bundle holds no results file")
    seen: dict[str, str] = {}
    clean: dict[tuple[str, str], bool] = {}
    for name, view in views.items():
        for score in view.protocols:
            if score.name in seen:
                ctx.bad(
                    "results.protocol_duplicate",
                    f"protocol {score.name} is also scored by {seen[score.name]}: one results file per protocol",
                    name,
                )
            seen.setdefault(score.name, name)
            before = len(report.problems)
            _check_score(ctx, name, view, score)
            clean[(name, score.name)] = len(report.problems) == before
            _check_aggregates(ctx, name, score)
    tracks = _check_keypoints(ctx, members, views)
    rescored = _rescore(ctx, views, tracks, clean) if rescore else set()
    if require_keypoints:
        for name, view in views.items():
            for score in view.protocols:
                if score.kind == "motion2d" and (name, score.name) not in rescored:
                    ctx.bad(
                        "keypoints.required",
                        "this board re-scores 2D motion: include the generated keypoint tracks (pack --keypoints) "
                        "of results scored with evaluate --pred-keypoints",
                        f"{name} ({score.name})",
                    )
    for name, view in views.items():
        for score in view.protocols:
            report.entries.append(_entry(ctx, view, score, (name, score.name) in rescored))
    if report.accepted:
        _warn_coverage(ctx)


def _parse_members(members: dict[str, bytes], report: Report) -> dict[str, Any]:
    docs = {}
    for name, data in sorted(members.items()):
        if name in (SUBMISSION, INTEGRITY, SIGNATURE) or RESULTS_RE.match(name):
            pass
        elif KEYPOINTS_RE.match(name):
            if name.endswith(".npz"):
                why = check_npz(data)
                if why:
                    report.add("keypoints.malformed", why, name)
                continue
        else:
            report.add(
                "archive.unexpected_member",
                "not part of the bundle layout (see `submission pack --help`)",
                name,
            )
            continue
        try:
            docs[name] = loads_strict(data)
        except JsonError as exc:
            report.add(exc.code, str(exc), name)
    for required in (SUBMISSION, INTEGRITY):
        if required not in members:
            report.add("archive.missing_member", f"{required} is missing")
    return docs


def _check_integrity(members: dict[str, bytes], docs: dict[str, Any], report: Report) -> None:
    doc = docs.get(INTEGRITY)
    if doc is None:
        return
    entries = doc.get("files") if isinstance(doc, dict) and doc.get("algorithm") == "sha256" else None
    if not isinstance(entries, list):
        report.add(
            "integrity.malformed",
            "must be {'algorithm': 'sha256', 'files': [{path, sha256}, ...]}",
            INTEGRITY,
        )
        return
    listed: dict[str, str] = {}
    for item in entries:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("path"), str)
            or not isinstance(item.get("sha256"), str)
        ):
            report.add("integrity.malformed", "each entry must be {path, sha256}", INTEGRITY)
            return
        p = item["path"]
        if p in listed:
            report.add("integrity.duplicate_entry", f"{p[:80]!r} is listed twice", INTEGRITY)
            continue
        if p in (INTEGRITY, SIGNATURE):
            report.add("integrity.malformed", f"{p} cannot list itself or the signature", INTEGRITY)
            continue
        listed[p] = item["sha256"]
    covered = {n for n in members if n not in (INTEGRITY, SIGNATURE)}
    for name in sorted(covered - set(listed)):
        report.add("integrity.missing_entry", "member not in the integrity list", name)
    for name in sorted(set(listed) - set(members)):
        report.add("integrity.extra_entry", f"listed file {name[:80]!r} is not in the bundle", INTEGRITY)
    for name in sorted(covered & set(listed)):
        if sha256_hex(members[name]) != listed[name]:
            report.add(
                "integrity.mismatch", "sha256 differs from the integrity list (modified after packing)", name
            )
    if not report.problems or all(not p.code.startswith("integrity.") for p in report.problems):
        report.checks.append(f"integrity: {len(listed)} files listed once each, sha256 verified")


def _check_signature(members, docs, report: Report, trusted: list) -> None:
    from benchmark.leaderboard.signing import verify

    if SIGNATURE not in members:
        if trusted:
            report.add("signature.missing", "a public key was given but the bundle is not signed")
        else:
            report.warnings.append("unsigned bundle")
        return
    if SIGNATURE not in docs or INTEGRITY not in members:
        return
    status, fp, problem = verify(docs[SIGNATURE], members[INTEGRITY], trusted)
    report.signature = {"status": status, "key": fp}
    if status == "invalid":
        report.add("signature.invalid", problem or "invalid signature", SIGNATURE)
    elif status == "untrusted":
        report.add("signature.untrusted_key", problem or "untrusted key", SIGNATURE)
    elif status == "self-consistent":
        report.warnings.append(f"signed by {fp}; not checked against a trusted key (give --public-key)")
    else:
        report.checks.append(f"signature: ed25519 by trusted key {fp}")


def _check_submission(members, docs, report: Report, sets: list[TestSet]) -> TestSet | None:
    doc = docs.get(SUBMISSION)
    if doc is None:
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SUBMISSION_SCHEMA:
        report.add(
            "submission.schema", f"not a submission (schema must be {SUBMISSION_SCHEMA!r})", SUBMISSION
        )
        return None
    if doc.get("schema_version") != SUBMISSION_SCHEMA_VERSION:
        report.add(
            "submission.schema_version",
            f"unsupported schema_version {str(doc.get('schema_version'))[:20]!r} (supported: {SUBMISSION_SCHEMA_VERSION})",
            SUBMISSION,
        )
        return None
    meta_bad = meta_problems(doc, extra_allowed=SUBMISSION_EXTRA_FIELDS)
    for problem in meta_bad:
        report.add("submission.schema", problem, SUBMISSION)
    packed = doc.get("packed_with")
    if not isinstance(packed, dict) or text_problem(packed.get("version"), 40):
        report.add("submission.schema", "packed_with.version must record the toolkit version", SUBMISSION)
    for key, pattern in (("results", RESULTS_RE), ("keypoints", KEYPOINTS_RE)):
        listing = doc.get(key)
        actual = sorted(n for n in members if pattern.match(n))
        if (
            not isinstance(listing, list)
            or sorted(map(str, listing)) != actual
            or len(set(map(str, listing))) != len(listing)
        ):
            report.add(
                "submission.listing", f"'{key}' must list exactly the {key} members of the bundle", SUBMISSION
            )
    if not meta_bad:
        report.submission = public_meta(doc)
    ref = doc.get("testset")
    if not isinstance(ref, dict) or not all(
        isinstance(ref.get(k), str) for k in ("name", "version", "fingerprint")
    ):
        report.add("submission.schema", "testset must be {name, version, fingerprint}", SUBMISSION)
        return None
    testset = next((t for t in sets if t.key == (ref["name"], ref["version"])), None)
    if testset is None:
        board = ", ".join(t.label for t in sets)
        report.add(
            "submission.testset_unknown",
            f"scored on test set {ref['name'][:60]} v{ref['version'][:20]}, not on this board ({board})",
            SUBMISSION,
        )
        return None
    report.testset = {"name": testset.name, "version": testset.version, "fingerprint": testset.fingerprint()}
    if not testset.hashes_published:
        report.add(
            "submission.testset_unpublished",
            f"test set {testset.label} publishes no hashes to verify against",
        )
        return None
    if ref["fingerprint"] != testset.fingerprint():
        report.add(
            "submission.testset_changed",
            f"packed against another definition of {testset.label} (fingerprint {ref['fingerprint'][:12]}… "
            f"vs the board's {testset.fingerprint()[:12]}…)",
            SUBMISSION,
        )
    return testset


# -- results ---------------------------------------------------------------------------------------------


def _allowed_metrics(kind: str) -> tuple[str, ...]:
    return MOTION2D_METRICS if kind == "motion2d" else _appearance_metrics()


def _check_score(ctx: _Context, name: str, view: ResultsView, score: ProtocolScore) -> None:
    """Protocol identity, stems, GT hashes, counts and metric keys of one protocol in one results file."""
    from benchmark.protocols import get_protocol

    where = f"{name} ({score.name})"
    ts = ctx.testset
    ref = ts.protocol(score.name)
    if ref is None:
        ctx.bad(
            "results.protocol_not_on_board",
            f"protocol {score.name[:60]} is not scored on test set {ts.label} "
            f"(board protocols: {', '.join(p.name for p in ts.protocols)})",
            where,
        )
        return
    if score.version != ref.version:
        ctx.bad(
            "results.protocol_version",
            f"protocol {score.name} v{score.version[:20]} but the board scores v{ref.version}",
            where,
        )
    elif params_sha256(score.params) != ref.params_sha256:
        board = json.loads(json.dumps(get_protocol(score.name).params))  # tuples as the results hold them
        changed = sorted(k for k in set(board) | set(score.params) if board.get(k) != score.params.get(k))
        ctx.bad(
            "results.protocol_params",
            f"protocol {score.name} v{score.version} with modified parameters ({_shown(changed)})",
            where,
        )
    if score.kind != get_protocol(score.name).kind:
        ctx.bad("results.protocol_kind", f"kind {score.kind[:20]} differs from the board's", where)

    test_stems = set(ts.stems)
    scored = set(score.per_sample)
    unknown = scored - test_stems
    if unknown:
        ctx.bad("results.stem_unknown", f"scores stems that are not in {ts.label}: {_shown(unknown)}", where)
    missing = test_stems - scored - set(view.skipped)
    if missing:
        ctx.bad(
            "results.stem_missing",
            f"{len(missing)} test stem(s) neither scored nor skipped with a reason: {_shown(missing)}",
            where,
        )
    if len(view.protocols) == 1:
        both = scored & set(view.skipped)
        if both:
            ctx.bad("results.stem_duplicate", f"stem(s) both scored and skipped: {_shown(both)}", where)
    if score.n_samples != len(scored):
        ctx.bad(
            "results.n_samples",
            f"n_samples says {score.n_samples} but {len(scored)} stems have values",
            where,
        )
    _check_inputs(ctx, where, score, scored)
    _check_metrics(ctx, where, score, {m.key: m for m in get_protocol(score.name).metrics})


def _check_inputs(ctx: _Context, where: str, score: ProtocolScore, scored: set[str]) -> None:
    ts = ctx.testset
    recorded = set(score.inputs)
    if score.kind == "motion2d" and recorded != scored:
        ctx.bad(
            "results.inputs_mismatch",
            f"input hashes are recorded for other stems than the scored ones ({_shown(recorded ^ scored)})",
            where,
        )
    odd_sides = [s for s in score.input_sides if s not in GT_SIDES and s not in PRED_SIDES]
    if odd_sides:
        ctx.bad("results.schema", f"unknown input side(s) {_shown(odd_sides)}", where)
    digest = hashlib.sha256()
    for stem, sides in score.inputs.items():
        for side, sha in sides.items():
            digest.update(f"{stem}:{side}:{sha}\n".encode())
    if score.inputs_digest != digest.hexdigest():
        ctx.bad(
            "results.inputs_digest", "the combined input sha256 does not match the per-file hashes", where
        )
    wrong: dict[str, list[str]] = {}
    no_gt: list[str] = []
    by_gt: dict[str, list[str]] = {}
    for stem in sorted(scored & set(ts.stems)):
        sides = score.inputs.get(stem, {})
        gt_sides = [s for s in sides if s in GT_SIDES]
        if score.kind == "appearance":
            tied = "GT video" in sides
        else:  # music, and the GT motion as keypoints or as the video they are extracted from
            tied = "GT audio" in sides and ("GT keypoints" in sides or "GT video" in sides)
        if not tied:
            no_gt.append(stem)
        for side in gt_sides:
            accepted = ts.stems[stem].accepted_sha(side)
            if sides[side] not in accepted.values():
                wrong.setdefault(side, []).append(stem)
            if side != "GT audio":  # music may be shared; a GT clip may not
                by_gt.setdefault(sides[side], []).append(stem)
    if no_gt:
        ctx.bad(
            "results.gt_hash_missing",
            f"{len(no_gt)} scored stem(s) record no GT hash ({_shown(no_gt)}): nothing ties them to {ts.label}"
            + (" (evaluate the appearance with --gt)" if score.kind == "appearance" else ""),
            where,
        )
    n_checked = len(scored & set(ts.stems))
    for side, stems in sorted(wrong.items()):
        if len(stems) == n_checked and n_checked:
            msg = f"scored on a different test set: none of the {n_checked} {side} hashes match {ts.label}"
        else:
            msg = f"{side} sha256 differs from {ts.label} for {len(stems)} stem(s): {_shown(stems)}"
        ctx.bad("results.gt_hash_mismatch", msg, where)
    for _, stems in sorted(by_gt.items()):
        if len(stems) > 1:
            ctx.bad(
                "results.stem_duplicate", f"one GT file scored under several stems: {_shown(stems)}", where
            )
    if not wrong and not no_gt and n_checked:
        ctx.report.checks.append(f"{where}: GT hashes of {n_checked} stems match {ts.label}")


def _check_metrics(ctx: _Context, where: str, score: ProtocolScore, info: dict) -> None:
    allowed = _allowed_metrics(score.kind)
    for key, metric in score.metrics.items():
        if key not in allowed:
            ctx.bad("results.metric_unknown", f"metric {key[:60]!r} is not a {score.name} metric", where)
            continue
        if metric.higher_is_better != info[key].higher_is_better:
            ctx.bad(
                "results.metric_direction",
                f"{key}: higher_is_better is {metric.higher_is_better} but the metric's is {info[key].higher_is_better}",
                where,
            )
    if score.kind == "motion2d":
        absent = [k for k in MOTION2D_METRICS if k not in score.metrics]
        if absent:
            ctx.bad("results.metric_missing", f"missing metric(s) {', '.join(absent)}", where)
    elif not score.metrics:
        ctx.bad("results.metric_missing", "no appearance metric", where)
    per_sample_keys = set(score.metrics) | set(AUX_PER_SAMPLE[score.kind])
    for stem, values in score.per_sample.items():
        if set(values) - per_sample_keys:
            ctx.bad("results.schema", f"per_sample[{stem[:60]}] has keys of no metric", where)
            break


def _check_aggregates(ctx: _Context, name: str, score: ProtocolScore) -> None:
    """Recompute every mean-of-samples set value and its interval; bound weighted means."""
    where = f"{name} ({score.name})"
    keys = [k for k in aggregates.MEAN_OF_SAMPLES.get(score.kind, ()) if k in score.metrics]
    columns: dict[str, list[float]] = {}
    for key in keys:
        stems = sorted(s for s in score.per_sample if key in score.per_sample[s])
        if score.kind == "motion2d" and len(stems) != len(score.per_sample):
            ctx.bad(
                "results.per_sample_missing", f"{key}: per-sample values missing for some scored stems", where
            )
            return
        columns[key] = [_as_float(score.per_sample[s][key]) for s in stems]
    cis: dict[str, tuple[float, float]] = {}
    n_boot = score.n_boot
    verifiable_ci = n_boot is not None and n_boot <= aggregates.MAX_VERIFY_BOOT
    if n_boot is None:
        ctx.bad("results.bootstrap_unrecorded", "bootstrap settings (n_boot, seed) are not recorded", where)
    elif not verifiable_ci:
        ctx.bad(
            "results.bootstrap_unverifiable",
            f"n_boot {n_boot} > {aggregates.MAX_VERIFY_BOOT}: too costly to verify",
            where,
        )
    elif columns:
        cis = aggregates.recompute_intervals(score.kind, columns, n_boot, int(score.seed or 0))
    for key, values in columns.items():
        claim = score.metrics[key]
        if not values:
            continue
        point = aggregates.point_mean(values)
        value_ok = aggregates.close(claim.value, point)
        lo, hi = cis.get(key, (None, None))
        ci_ok = aggregates.close(claim.ci_low, lo) and aggregates.close(claim.ci_high, hi)
        if not verifiable_ci:
            ci_ok = None
        mean_txt = f"the mean of its {len(values)} per-sample values is {point!r}"
        if value_ok and ci_ok is not False:
            continue
        if not value_ok and ci_ok:
            ctx.bad(
                "results.aggregate_edited",
                f"{key} = {claim.value!r} but {mean_txt} and the 95% interval still matches them: "
                "the aggregate was edited",
                where,
            )
        elif not value_ok and ci_ok is False:
            ctx.bad(
                "results.per_sample_edited",
                f"{key} = {claim.value!r} [{claim.ci_low!r}, {claim.ci_high!r}] but the per-sample values give "
                f"{point!r} [{lo!r}, {hi!r}]: per-sample values (or both) were edited",
                where,
            )
        elif not value_ok:
            ctx.bad("results.aggregate_mismatch", f"{key} = {claim.value!r} but {mean_txt}", where)
        else:
            ctx.bad(
                "results.ci_mismatch",
                f"{key}: 95% interval [{claim.ci_low!r}, {claim.ci_high!r}] but bootstrapping the per-sample "
                f"values (n_boot {n_boot}, seed {score.seed}) gives [{lo!r}, {hi!r}]",
                where,
            )
    for key in aggregates.WEIGHTED_MEAN.get(score.kind, ()):
        claim = score.metrics.get(key)
        values = [v for s in score.per_sample.values() if (v := s.get(key)) is not None]
        if claim is None or claim.value is None or not values:
            continue
        lo, hi = min(values), max(values)
        if not (lo - 1e-9 * abs(lo) <= claim.value <= hi + 1e-9 * abs(hi)):
            ctx.bad(
                "results.aggregate_out_of_range",
                f"{key} = {claim.value!r} lies outside its per-sample values [{lo!r}, {hi!r}] (a weighted mean cannot)",
                where,
            )
    for key in aggregates.CENTRED_INTERVAL.get(score.kind, ()):
        claim = score.metrics.get(key)
        if claim is not None and not aggregates.centred(claim.value, claim.ci_low, claim.ci_high):
            ctx.bad(
                "results.set_value_edited",
                f"{key} = {claim.value!r} is not the centre of its 95% interval [{claim.ci_low!r}, "
                f"{claim.ci_high!r}] (the scorer centres it on the estimate): the value or interval was edited",
                where,
            )
    if columns:
        ctx.report.checks.append(f"{where}: recomputed {', '.join(columns)} from per-sample values")


def _as_float(v: float | None) -> float:
    return math.nan if v is None else float(v)


# -- keypoints and re-scoring ----------------------------------------------------------------------------


def _check_keypoints(ctx: _Context, members: dict[str, bytes], views: dict[str, ResultsView]):
    """stem -> (suffix, bytes) of the included tracks, after checking them against the recorded hashes."""
    tracks: dict[str, tuple[str, bytes]] = {}
    for name in sorted(members):
        m = KEYPOINTS_RE.match(name)
        if not m:
            continue
        stem, suffix = m.group(1), m.group(2)
        if stem in tracks:
            ctx.bad("keypoints.duplicate", f"two tracks for stem {stem}", name)
            continue
        tracks[stem] = (suffix, members[name])
    if not tracks:
        return tracks
    expected: dict[str, str] = {}
    for view in views.values():
        for score in view.protocols:
            for stem, sides in score.inputs.items():
                if "generated keypoints" in sides:
                    expected.setdefault(stem, sides["generated keypoints"])
    if not expected:
        ctx.bad(
            "keypoints.unexpected",
            "keypoint tracks included but no results file was scored from keypoints: nothing ties them to the results",
        )
        return {}
    for stem in sorted(set(tracks) - set(expected)):
        ctx.bad(
            "keypoints.unexpected",
            f"no results file scored stem {stem[:60]} from keypoints",
            f"keypoints/{stem}",
        )
    for stem in sorted(set(expected) - set(tracks)):
        ctx.bad("keypoints.missing", f"the track of scored stem {stem[:60]} is not included", "keypoints/")
    for stem in sorted(set(expected) & set(tracks)):
        if sha256_hex(tracks[stem][1]) != expected[stem]:
            ctx.bad(
                "keypoints.hash_mismatch",
                "its sha256 is not the one the results recorded for this stem (not the scored file)",
                f"keypoints/{stem}{tracks[stem][0]}",
            )
    return tracks


def _rescore(ctx: _Context, views, tracks, clean) -> set[tuple[str, str]]:
    done: set[tuple[str, str]] = set()
    motion = [(n, s) for n, v in views.items() for s in v.protocols if s.kind == "motion2d"]
    if not motion:
        return done
    if not tracks:
        ctx.report.warnings.append(
            "no keypoint tracks included: FID/Div are not re-scored (BAS is recomputed)"
        )
        return done
    if any(p.code.startswith("keypoints.") for p in ctx.report.problems):
        return done
    why = gt_available(ctx.testset, ctx.gt_dir)
    if why:
        if ctx.require_keypoints:
            raise BoardError(f"re-scoring is required but impossible: {why}")
        ctx.report.warnings.append(f"motion metrics not re-scored: {why}")
        return done
    for name, score in motion:
        if not clean.get((name, score.name)):
            continue  # identity/stem/hash problems already reject it; re-scoring would add noise
        if "generated keypoints" not in score.input_sides:
            continue
        if score.n_boot is None or score.n_boot > aggregates.MAX_VERIFY_BOOT:
            continue
        own = {s: tracks[s] for s in score.inputs if s in tracks}
        try:
            problems = rescore_motion(score, own, ctx.testset, ctx.gt_dir)
        except BoardError:
            raise
        except MaceError as exc:
            ctx.bad(
                "results.rescore_failed", f"re-scoring failed: {str(exc)[:200]}", f"{name} ({score.name})"
            )
            continue
        for p in problems:
            ctx.bad(p.code, p.message, f"{name} ({score.name})")
        if not problems:
            done.add((name, score.name))
            ctx.report.checks.append(
                f"{name} ({score.name}): re-scored from the included keypoints; all values match"
            )
    return done


def verification(score: ProtocolScore, rescored: bool) -> dict[str, str]:
    """How the board checked each metric: re-scored, recomputed, bounded, interval-consistent, unverified."""
    out = {}
    for key, m in score.metrics.items():
        if rescored:
            out[key] = "re-scored"
        elif key in aggregates.MEAN_OF_SAMPLES.get(score.kind, ()):
            out[key] = "recomputed"
        elif key in aggregates.WEIGHTED_MEAN.get(score.kind, ()):
            out[key] = "bounded"
        elif key in aggregates.CENTRED_INTERVAL.get(score.kind, ()) and m.ci_low is not None:
            out[key] = "interval-consistent"
        else:
            out[key] = "unverified"
    return out


def _entry(ctx: _Context, view: ResultsView, score: ProtocolScore, rescored: bool) -> Entry:
    metrics = {
        k: {"value": m.value, "ci95": [m.ci_low, m.ci_high], "higher_is_better": m.higher_is_better}
        for k, m in score.metrics.items()
    }
    skipped = {
        s: r for s, r in sorted(view.skipped.items()) if s in ctx.testset.stems and s not in score.per_sample
    }
    return Entry(
        protocol=score.name,
        protocol_version=score.version,
        kind=score.kind,
        metrics=metrics,
        n_scored=len(score.per_sample),
        skipped=skipped,
        rescored=rescored,
        toolkit_version=view.toolkit_version,
        created_utc=view.created_utc,
        verified=verification(score, rescored),
    )


def _warn_coverage(ctx: _Context) -> None:
    n = len(ctx.testset.stems)
    for e in ctx.report.entries:
        if e.n_scored < n:
            ctx.report.warnings.append(
                f"{e.protocol}: {e.n_scored}/{n} stems scored; skipped with the results' reasons: {_shown(e.skipped)}"
            )
