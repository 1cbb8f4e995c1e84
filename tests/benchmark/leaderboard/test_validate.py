"""The validator accepts honest bundles and rejects every tampered one with a reason that names the problem."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from benchmark.leaderboard.testset import load_testset
from benchmark.leaderboard.validate import validate_bundle
from tests.benchmark.leaderboard.lb_helpers import (
    META,
    SAMPLE,
    bundle,
    codes,
    evaluate_appearance,
    evaluate_motion,
    load,
    sample_dir,
    save,
)


@pytest.fixture(scope="module")
def testset():
    return load_testset(SAMPLE)


def _validate(path, testset, **kw):
    return validate_bundle(path, testset, **kw)


def _edited(scored, tmp_path, edit, key="on-beat/motion"):
    doc = load(scored[key])
    edit(doc)
    return save(doc, tmp_path / "edited.json")


# -- honest bundles --------------------------------------------------------------------------------------


def test_honest_bundle_with_keypoints_is_accepted_and_rescored(scored, testset, tmp_path):
    path = bundle(
        tmp_path / "b.zip",
        [scored["on-beat/motion"], scored["on-beat/appearance"]],
        keypoints=scored["on-beat/keypoints"],
    )
    report = _validate(path, testset)
    assert report.accepted, report.lines()
    assert [e.protocol for e in report.entries] == ["mace2d-official", "vbench-appearance"]
    motion, appearance = report.entries
    assert motion.rescored and not appearance.rescored
    assert motion.n_scored == appearance.n_scored == 8
    assert motion.metrics["bas"]["value"] == load(scored["on-beat/motion"])["metrics"]["bas"]["value"]
    assert any("re-scored" in c for c in report.checks)
    assert any("recomputed bas, bas_gt" in c for c in report.checks)
    assert any("recomputed temporal_flickering" in c for c in report.checks)
    assert report.warnings == ["unsigned bundle"]


def test_honest_bundle_without_keypoints_is_accepted_with_a_warning(scored, testset, tmp_path):
    report = _validate(bundle(tmp_path / "b.zip", [scored["off-beat/motion"]]), testset)
    assert report.accepted, report.lines()
    assert not report.entries[0].rescored
    assert any("not re-scored" in w for w in report.warnings)


def test_honest_partial_results_are_accepted_and_a_removed_skip_reason_is_not(scored, testset, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(scored["on-beat/keypoints"], pred)
    (pred / "sample_005.json").unlink()
    results = evaluate_motion(pred, tmp_path / "partial.json")
    report = _validate(bundle(tmp_path / "ok.zip", [results], keypoints=pred), testset)
    assert report.accepted, report.lines()
    assert report.entries[0].skipped == {"sample_005": "missing generated keypoints"}
    assert report.entries[0].rescored
    assert any("7/8 stems scored" in w for w in report.warnings)

    doc = load(results)
    doc["skipped"] = []  # hide the gap
    report = _validate(
        bundle(tmp_path / "bad.zip", [save(doc, tmp_path / "r.json")], keypoints=pred), testset
    )
    assert "results.stem_missing" in codes(report)
    assert "sample_005" in " ".join(report.lines())


def test_appearance_results_name_gt_stems_nobody_generated(scored, testset, tmp_path):
    pred = tmp_path / "videos"
    shutil.copytree(scored["on-beat/videos"], pred)
    (pred / "sample_002.mp4").unlink()
    results = evaluate_appearance(pred, tmp_path / "appearance.json", gt=sample_dir())
    assert {"stem": "sample_002", "reason": "missing generated video"} in load(results)["skipped"]
    report = _validate(bundle(tmp_path / "a.zip", [scored["on-beat/motion"], results]), testset)
    assert report.accepted, report.lines()
    assert report.entries[1].skipped == {"sample_002": "missing generated video"}


# -- edited numbers --------------------------------------------------------------------------------------


def test_edited_aggregate(scored, testset, tmp_path):
    def edit(doc):
        doc["metrics"]["bas"]["value"] += 0.01

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.aggregate_edited"}, report.lines()
    assert "bas =" in report.problems[0].message and "aggregate was edited" in report.problems[0].message


def test_edited_per_sample_value(scored, testset, tmp_path):
    def edit(doc):
        doc["per_sample"]["sample_003"]["bas"] = 0.99

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.per_sample_edited"}, report.lines()
    assert "per-sample values" in report.problems[0].message


def test_edited_per_sample_value_with_consistent_mean_is_caught_by_rescoring(scored, testset, tmp_path):
    """An attacker who also fixes the mean is still caught by the interval, and by re-scoring the stem."""
    import numpy as np

    def edit(doc):
        doc["per_sample"]["sample_003"]["bas"] = 0.99
        stems = sorted(doc["per_sample"])
        doc["metrics"]["bas"]["value"] = float(np.mean([doc["per_sample"][s]["bas"] for s in stems]))

    path = bundle(
        tmp_path / "b.zip", [_edited(scored, tmp_path, edit)], keypoints=scored["on-beat/keypoints"]
    )
    report = _validate(path, testset)
    assert {"results.ci_mismatch", "results.per_sample_mismatch"} <= codes(report), report.lines()
    assert any("per_sample[sample_003].bas = 0.99" in p.message for p in report.problems)


def test_edited_set_level_metric_is_caught_by_rescoring(scored, testset, tmp_path):
    def edit(doc):
        doc["metrics"]["fid_k"]["value"] *= 0.5

    path = bundle(
        tmp_path / "b.zip", [_edited(scored, tmp_path, edit)], keypoints=scored["on-beat/keypoints"]
    )
    report = _validate(path, testset)
    assert codes(report) == {"results.rescore_mismatch"}, report.lines()
    assert "fid_k" in report.problems[0].message


def test_edited_interval(scored, testset, tmp_path):
    def edit(doc):
        doc["metrics"]["bas"]["ci95"][0] -= 0.1

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.ci_mismatch"}, report.lines()


def test_edited_appearance_mean(scored, testset, tmp_path):
    def edit(doc):
        doc["metrics"]["temporal_flickering"]["value"] = 0.9999

    report = _validate(
        bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit, "on-beat/appearance")]), testset
    )
    assert codes(report) == {"results.aggregate_edited"}, report.lines()


def test_weighted_mean_outside_its_samples(scored, testset, tmp_path):
    def edit(doc):
        for i, stem in enumerate(sorted(doc["per_sample"])):
            doc["per_sample"][stem]["subject_consistency"] = 0.9 + i / 1000
        doc["metrics"]["subject_consistency"] = {
            "value": 0.95,
            "ci95": [None, None],
            "higher_is_better": True,
            "protocol": "vbench-appearance",
        }

    report = _validate(
        bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit, "on-beat/appearance")]), testset
    )
    assert codes(report) == {"results.aggregate_out_of_range"}, report.lines()


def test_flipped_direction_and_unknown_metric(scored, testset, tmp_path):
    def edit(doc):
        doc["metrics"]["fid_k"]["higher_is_better"] = True
        doc["metrics"]["elo"] = {
            "value": 1.0,
            "ci95": [None, None],
            "higher_is_better": True,
            "protocol": "mace2d-official",
        }

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.metric_direction", "results.metric_unknown"}, report.lines()


# -- test set and protocol -------------------------------------------------------------------------------


def test_results_scored_on_a_different_test_set(scored, testset, tmp_path):
    other = tmp_path / "other-gt"
    shutil.copytree(sample_dir(), other)
    for path in other.glob("*.json"):  # same dances, other files: another test set
        path.write_text(path.read_text() + "\n")
    results = evaluate_motion(scored["on-beat/keypoints"], tmp_path / "other.json", gt=other)
    report = _validate(bundle(tmp_path / "b.zip", [results]), testset)
    assert codes(report) == {"results.gt_hash_mismatch"}, report.lines()
    assert "scored on a different test set" in report.problems[0].message
    assert "none of the 8 GT keypoints hashes" in report.problems[0].message


def test_one_gt_file_swapped(scored, testset, tmp_path):
    def edit(doc):
        files = doc["inputs"]["motion"]["files"]
        files["sample_002"]["GT keypoints"] = files["sample_001"]["GT keypoints"]

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert {"results.gt_hash_mismatch", "results.inputs_digest"} <= codes(report), report.lines()
    assert any("sample_002" in p.message for p in report.problems)


def test_protocol_version_change(scored, testset, tmp_path):
    def edit(doc):
        doc["protocols"][0]["version"] = "1.1"
        doc["protocol"]["version"] = "1.1"

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.protocol_version"}, report.lines()
    assert "v1.1" in report.problems[0].message and "v1.0" in report.problems[0].message


def test_protocol_parameter_change(scored, testset, tmp_path):
    def edit(doc):
        for p in (doc["protocols"][0], doc["protocol"]):
            p["params"]["n_frames"] = 48

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.protocol_params"}, report.lines()
    assert "n_frames" in report.problems[0].message


def test_protocol_not_on_the_board(scored, testset, tmp_path):
    def edit(doc):
        for p in (doc["protocols"][0], doc["protocol"]):
            p["name"] = "mace2d-lenient"
        doc["n_samples_by_protocol"] = {"mace2d-lenient": 8}
        doc["extra"] = {"mace2d-lenient": doc["extra"]["mace2d-official"]}
        for m in doc["metrics"].values():
            m["protocol"] = "mace2d-lenient"

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.protocol_not_on_board"}, report.lines()


def test_same_protocol_in_two_results_files(scored, testset, tmp_path):
    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"], scored["off-beat/motion"]])
    assert "results.protocol_duplicate" in codes(_validate(path, testset))


def test_submission_for_another_test_set_or_changed_manifest(scored, testset, tmp_path):
    def other_version(members):
        doc = json.loads(members["submission.json"])
        doc["testset"]["version"] = "2"
        members["submission.json"] = json.dumps(doc).encode()

    def other_fingerprint(members):
        doc = json.loads(members["submission.json"])
        doc["testset"]["fingerprint"] = "0" * 64
        members["submission.json"] = json.dumps(doc).encode()

    r1 = _validate(bundle(tmp_path / "a.zip", [scored["on-beat/motion"]], mutate=other_version), testset)
    r2 = _validate(bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], mutate=other_fingerprint), testset)
    assert codes(r1) == {"submission.testset_unknown"} and "sample v2" in r1.problems[0].message
    assert codes(r2) == {"submission.testset_changed"}


# -- stems -----------------------------------------------------------------------------------------------


def test_missing_stem(scored, testset, tmp_path):
    def edit(doc):
        del doc["per_sample"]["sample_004"]
        del doc["inputs"]["motion"]["files"]["sample_004"]

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert "results.stem_missing" in codes(report), report.lines()
    assert any("sample_004" in p.message for p in report.problems if p.code == "results.stem_missing")


def test_duplicated_stem_in_the_json(scored, testset, tmp_path):
    text = scored["on-beat/motion"].read_text()
    head, sep, tail = text.partition('"per_sample": {')
    first = json.dumps(load(scored["on-beat/motion"])["per_sample"]["sample_000"])
    dup = (head + sep + f'"sample_000": {first},' + tail).encode()

    def put(members):  # `submission pack` refuses such a file: the attacker zips it by hand
        members["results/1.json"] = dup

    report = _validate(bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], mutate=put), testset)
    assert codes(report) == {"json.duplicate_key"}, report.lines()
    assert "sample_000" in report.problems[0].message


def test_duplicated_stem_scored_and_skipped_or_skipped_twice(scored, testset, tmp_path):
    def edit(doc):
        doc["skipped"] = [{"stem": "sample_001", "reason": "x"}, {"stem": "sample_001", "reason": "y"}]

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.stem_duplicate"}, report.lines()
    assert len(report.problems) == 2  # listed twice, and both scored and skipped


def test_same_gt_clip_scored_under_two_names(scored, testset, tmp_path):
    def edit(doc):
        files = doc["inputs"]["motion"]["files"]
        files["sample_001"] = dict(files["sample_000"])

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert "results.stem_duplicate" in codes(report), report.lines()


def test_matching_hashes_but_extra_per_sample_stems(scored, testset, tmp_path):
    def edit(doc):
        doc["per_sample"]["sample_999"] = dict(doc["per_sample"]["sample_000"])

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert {"results.stem_unknown", "results.inputs_mismatch", "results.n_samples"} <= codes(report), (
        report.lines()
    )


def test_appearance_without_gt_is_not_tied_to_the_test_set(scored, testset, tmp_path):
    from tests.benchmark.leaderboard.lb_helpers import evaluate_appearance

    results = evaluate_appearance(scored["on-beat/videos"], tmp_path / "nogt.json", gt=None)
    report = _validate(bundle(tmp_path / "b.zip", [results]), testset)
    assert codes(report) == {"results.gt_hash_missing"}, report.lines()
    assert "--gt" in report.problems[0].message


# -- keypoints -------------------------------------------------------------------------------------------


def test_keypoints_that_do_not_hash_match(scored, testset, tmp_path):
    def swap(members):
        members["keypoints/sample_003.json"] = members["keypoints/sample_003.json"].replace(b"0.9", b"0.8", 1)

    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], scored["on-beat/keypoints"], mutate=swap)
    report = _validate(path, testset)
    assert codes(report) == {"keypoints.hash_mismatch"}, report.lines()
    assert "keypoints/sample_003.json" in report.problems[0].where


def test_keypoints_extra_missing_or_unscored(scored, testset, tmp_path):
    def extra(members):
        members["keypoints/sample_999.json"] = members["keypoints/sample_000.json"]
        del members["keypoints/sample_001.json"]

    path = bundle(tmp_path / "a.zip", [scored["on-beat/motion"]], scored["on-beat/keypoints"], mutate=extra)
    assert {"keypoints.unexpected", "keypoints.missing", "submission.listing"} == codes(
        _validate(path, testset)
    )

    def onto_appearance(members):
        members["keypoints/sample_000.json"] = b"{}"

    path = bundle(tmp_path / "b.zip", [scored["on-beat/appearance"]], mutate=onto_appearance)
    assert "keypoints.unexpected" in codes(_validate(path, testset))


def test_hostile_npz_track(scored, testset, tmp_path):
    import io
    import zipfile

    import numpy as np

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 25, 3)}
    )
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("data.npy", header.getvalue() + b"\0" * 64)

    def add(members):
        members["keypoints/sample_000.npz"] = npz.getvalue()

    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], scored["on-beat/keypoints"], mutate=add)
    report = _validate(path, testset)
    assert "keypoints.malformed" in codes(report) and "keypoints.duplicate" in codes(report), report.lines()


# -- integrity and signature -----------------------------------------------------------------------------


def test_integrity_list_omits_repeats_or_invents_a_file(scored, testset, tmp_path):
    def rewrite(members, edit):
        doc = json.loads(members["integrity.json"])
        edit(doc["files"])
        members["integrity.json"] = json.dumps(doc).encode()

    cases = {
        "integrity.missing_entry": lambda f: f.pop(),
        "integrity.duplicate_entry": lambda f: f.append(dict(f[0])),
        "integrity.extra_entry": lambda f: f.append({"path": "results/9.json", "sha256": "0" * 64}),
        "integrity.mismatch": lambda f: f[0].update(sha256="0" * 64),
    }
    for code, edit in cases.items():
        path = bundle(
            tmp_path / f"{code}.zip",
            [scored["on-beat/motion"]],
            mutate=lambda m, e=edit: rewrite(m, e),
            reintegrate=False,
        )
        assert codes(_validate(path, testset)) == {code}, code


def test_member_modified_after_packing(scored, testset, tmp_path):
    def edit(members):
        doc = json.loads(members["results/1.json"])
        doc["metrics"]["bas"]["value"] = 0.99
        members["results/1.json"] = json.dumps(doc).encode()

    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], mutate=edit, reintegrate=False)
    report = _validate(path, testset)
    assert "integrity.mismatch" in codes(report) and report.problems[0].where.endswith("results/1.json")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    from benchmark.leaderboard.signing import generate_keypair, load_public_key

    root = tmp_path_factory.mktemp("keys")
    a, a_pub = generate_keypair(root / "a")
    b, b_pub = generate_keypair(root / "b")
    return {"a": a, "a_pub": load_public_key(a_pub), "b_pub": load_public_key(b_pub)}


def test_signed_bundle_verified_with_the_trusted_key(scored, testset, tmp_path, keys):
    path = bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], sign_key=keys["a"])
    report = _validate(path, testset, public_keys=[keys["a_pub"]])
    assert report.accepted, report.lines()
    assert report.signature["status"] == "verified" and report.signature["key"].startswith("ed25519:")
    unverified = _validate(path, testset)
    assert unverified.accepted and unverified.signature["status"] == "self-consistent"


def test_bad_signatures(scored, testset, tmp_path, keys):
    signed = bundle(tmp_path / "s.zip", [scored["on-beat/motion"]], sign_key=keys["a"])
    assert codes(_validate(signed, testset, public_keys=[keys["b_pub"]])) == {"signature.untrusted_key"}

    unsigned = bundle(tmp_path / "u.zip", [scored["on-beat/motion"]])
    assert codes(_validate(unsigned, testset, public_keys=[keys["a_pub"]])) == {"signature.missing"}

    def corrupt(members):
        doc = json.loads(members["signature.json"])
        sig = bytearray(__import__("base64").b64decode(doc["signature"]))
        sig[0] ^= 1
        doc["signature"] = __import__("base64").b64encode(bytes(sig)).decode()
        members["signature.json"] = json.dumps(doc).encode()

    from tests.benchmark.leaderboard.lb_helpers import members_of, raw_zip

    members = dict(members_of(signed))
    corrupt(members)
    bad = raw_zip(tmp_path / "bad.zip", list(members.items()))
    report = _validate(bad, testset)  # invalid even without a trusted key
    assert codes(report) == {"signature.invalid"}, report.lines()

    def retouch(members):  # results edited, integrity list rewritten, old signature kept
        doc = json.loads(members["results/1.json"])
        doc["warnings"] = []
        members["results/1.json"] = json.dumps(doc).encode()

    members = dict(members_of(signed))
    retouch(members)
    from benchmark.leaderboard.bundle import integrity_bytes

    members["integrity.json"] = integrity_bytes(
        {k: v for k, v in members.items() if k not in ("integrity.json", "signature.json")}
    )
    report = _validate(
        raw_zip(tmp_path / "re.zip", list(members.items())), testset, public_keys=[keys["a_pub"]]
    )
    assert codes(report) == {"signature.invalid"}, report.lines()


# -- metadata --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value,needle",
    [
        ("method", "Evil\u202egnp.exe", "U+202E"),
        ("method", " padded", "leading/trailing"),
        ("code_url", "javascript:alert(1)", "http(s) URL"),
        ("paper_url", 'https://x.org/"><script>', "plain ASCII"),
        ("sampling", {"seed": float("nan")}, "finite"),
        ("license", None, "text"),
        ("extra_field", "x", "unknown field"),
    ],
)
def test_metadata_rules(scored, testset, tmp_path, field, value, needle):
    def edit(members):
        doc = json.loads(members["submission.json"])
        doc[field] = value
        members["submission.json"] = json.dumps(doc).encode()

    report = _validate(bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], mutate=edit), testset)
    expected = {"json.non_finite"} if needle == "finite" else {"submission.schema"}
    assert codes(report) == expected, report.lines()
    if needle != "finite":
        assert needle in report.problems[0].message


def test_html_in_the_method_name_is_accepted_as_text(scored, testset, tmp_path):
    meta = copy.deepcopy(META)
    meta["method"] = '<img src=x onerror="alert(1)">'
    report = _validate(bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], meta=meta), testset)
    assert report.accepted and report.submission["method"] == meta["method"]


def test_non_finite_numbers_and_unknown_schema(scored, testset, tmp_path):
    text = scored["on-beat/motion"].read_text()
    nan = tmp_path / "nan.json"
    nan.write_text(text.replace('"bas_gt": {\n      "value": ', '"bas_gt": {\n      "value": NaN, "x": ', 1))
    from benchmark.results import SCHEMA_VERSION

    current = f'"schema_version": "{SCHEMA_VERSION}"'
    huge = tmp_path / "huge.json"
    huge.write_text(text.replace(current, current + ', "big": 1e999', 1))
    future = tmp_path / "future.json"
    future.write_text(text.replace(current, '"schema_version": "9.0"', 1))
    for path, code in (
        (nan, "json.non_finite"),
        (huge, "json.non_finite"),
        (future, "results.schema_version"),
    ):

        def put(members, p=path):
            members["results/1.json"] = p.read_bytes()

        report = _validate(bundle(tmp_path / f"{code}.zip", [scored["on-beat/motion"]], mutate=put), testset)
        assert codes(report) == {code}, (path.name, report.lines())


def test_one_results_file_with_motion_and_appearance(scored, testset, tmp_path):
    """`evaluate --dims motion,appearance` merges both protocols' per-sample values into one file."""
    from benchmark.evaluate import EvaluateOptions, run_evaluate
    from benchmark.results import write_results

    gt = sample_dir()
    out = tmp_path / "both.json"
    evaluation = run_evaluate(
        EvaluateOptions(
            pred_dir=scored["on-beat/videos"],
            gt_dir=gt,
            pred_keypoints=scored["on-beat/keypoints"],
            gt_keypoints=gt,
            audio_dir=gt,
            dims="motion,appearance",
            appearance_dims="temporal_flickering",
            out=out,
            n_boot=50,
        )
    )
    write_results(out, evaluation.results(argv=["test"]))
    report = _validate(bundle(tmp_path / "b.zip", [out], keypoints=scored["on-beat/keypoints"]), testset)
    assert report.accepted, report.lines()
    assert [(e.protocol, e.rescored) for e in report.entries] == [
        ("mace2d-official", True),
        ("vbench-appearance", False),
    ]


def test_3d_results_are_reported_as_unsupported(scored, testset, tmp_path):
    def edit(doc):
        doc["protocols"][0]["kind"] = doc["protocol"]["kind"] = "motion3d"

    report = _validate(
        bundle(
            tmp_path / "b.zip",
            [scored["on-beat/motion"]],
            mutate=lambda m: m.update({"results/1.json": _edited(scored, tmp_path, edit).read_bytes()}),
        ),
        testset,
    )
    assert codes(report) == {"results.unsupported"}, report.lines()


def test_edited_div_without_keypoints_is_off_its_interval(scored, testset, tmp_path):
    """FID/Div intervals are centred on the estimate by the scorer: a value edited alone no longer is.
    (An interval cut at zero only implies value <= high / 2: there, only re-scoring catches an edit.)"""

    def edit(doc):
        doc["metrics"]["div_k"]["value"] *= 1.3
        doc["metrics"]["fid_g"]["value"] = doc["metrics"]["fid_g"]["ci95"][1]  # cut at zero, but too high

    report = _validate(bundle(tmp_path / "b.zip", [_edited(scored, tmp_path, edit)]), testset)
    assert codes(report) == {"results.set_value_edited"}, report.lines()
    assert sorted(p.message.split(" ")[0] for p in report.problems) == ["div_k", "fid_g"]


def test_board_policy_requires_keypoints_and_records_how_each_value_was_checked(scored, testset, tmp_path):
    plain = bundle(tmp_path / "plain.zip", [scored["on-beat/motion"], scored["on-beat/appearance"]])
    report = _validate(plain, testset, require_keypoints=True)
    assert codes(report) == {"keypoints.required"}, report.lines()
    report = _validate(plain, testset)
    motion, appearance = report.entries
    assert motion.verified["bas"] == "recomputed" and motion.verified["fid_k"] == "interval-consistent"
    assert appearance.verified == {"temporal_flickering": "recomputed"}
    full = bundle(tmp_path / "full.zip", [scored["on-beat/motion"]], keypoints=scored["on-beat/keypoints"])
    report = _validate(full, testset, require_keypoints=True)
    assert report.accepted and set(report.entries[0].verified.values()) == {"re-scored"}


def test_hostile_strings_cannot_drive_the_terminal(scored, testset, tmp_path):
    def edit(doc):
        doc["per_sample"]["\x1b[2J\x1b[31mpwned\u202e"] = dict(doc["per_sample"]["sample_000"])
        doc["n_samples_by_protocol"]["mace2d-official"] = 10**400

    data = _edited(scored, tmp_path, edit).read_bytes()

    def put(members):  # pack refuses the 400-digit integer; the attacker zips by hand
        members["results/1.json"] = data

    report = _validate(bundle(tmp_path / "b.zip", [scored["on-beat/motion"]], mutate=put), testset)
    assert codes(report) == {"json.non_finite"}, report.lines()
    doc = load(scored["on-beat/motion"])
    doc["per_sample"]["\x1b[2J\x1b[31mpwned\u202e"] = dict(doc["per_sample"]["sample_000"])
    report = _validate(bundle(tmp_path / "c.zip", [save(doc, tmp_path / "c.json")]), testset)
    assert "results.stem_unknown" in codes(report) and "validator.error" not in codes(report)
    text = "\n".join(report.lines())
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b[2J" in text
