"""``mace-bench testset | submission | leaderboard``: test sets, verifiable submissions, the static board."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ma_data.core.cli import EXIT_BAD_INPUT, check_outputs, group

_PATH = click.Path(path_type=Path)


def _testset_option(multiple: bool = False):
    return click.option(
        "--testset",
        "testsets" if multiple else "testset",
        required=True,
        multiple=multiple,
        help="Test-set manifest: a YAML path or a packaged name (e.g. sample-v1)"
        + ("; repeat for several test sets." if multiple else "."),
    )


def _gt_dirs(testsets, gt: tuple[Path, ...]) -> dict:
    if gt and len(gt) != len(testsets):
        raise click.UsageError("give one --gt DIR per --testset (in the same order), or none")
    return {t.key: Path(d) for t, d in zip(testsets, gt, strict=False)}


@group("testset")
def testset() -> None:
    """Test sets as data: a versioned manifest with the sha256 of every GT file, per stem."""


@testset.command("create")
@click.option("--gt", "gt_dir", required=True, type=_PATH, help="Folder of GT videos (<stem>.mp4 ...).")
@click.option(
    "--gt-keypoints",
    type=_PATH,
    default=None,
    help="Folder of GT keypoints (<stem>.json/.npz). Default: those in --gt, if any.",
)
@click.option(
    "--audio",
    "audio_dir",
    type=_PATH,
    default=None,
    help="Folder of GT music when it is not the videos' sound.",
)
@click.option("--name", required=True, help="Test-set name (lowercase, digits, . _ -), e.g. ma-data-test.")
@click.option("--version", "version", required=True, help="Test-set version, e.g. 1.")
@click.option(
    "--protocol",
    "protocols",
    multiple=True,
    required=True,
    help="Protocol it is scored under (repeat), e.g. mace2d-official, vbench-appearance.",
)
@click.option("--description", default="", help="One line shown on the board.")
@click.option("--out", required=True, type=_PATH, help="Write the manifest (YAML) here.")
def testset_create(gt_dir, gt_keypoints, audio_dir, name, version, protocols, description, out) -> None:
    """Hash a folder of GT files into a test-set manifest.

    The manifest holds hashes, frame counts and durations, never media: publish it, keep private videos
    private. Submissions are verified against it without the videos; re-scoring needs the GT files.

    \b
      mace-bench testset create --gt gt/ --name ma-data-test --version 1 \\
          --protocol mace2d-official --protocol vbench-appearance --out ma-data-test-v1.yaml
    """
    from benchmark.leaderboard.testset import create_testset, dump_testset
    from ma_data.core.io.atomic import atomic_write

    check_outputs(files={"--out": out})
    ts = create_testset(gt_dir, name, version, list(protocols), audio_dir, gt_keypoints, description)
    with atomic_write(out, "w", encoding="utf-8") as fh:
        fh.write(dump_testset(ts))
    click.echo(f"test set {ts.label}: {len(ts.stems)} stems, fingerprint {ts.fingerprint()[:16]}… -> {out}")


@group("submission")
def submission() -> None:
    """Leaderboard submissions: pack a bundle, validate it exactly as the board will, make a signing key."""


@submission.command("keygen")
@click.option("--out", required=True, type=_PATH, help="Private key path; the public key goes to <out>.pub.")
def submission_keygen(out: Path) -> None:
    """Create an ed25519 key pair for signing bundles (PEM; the private key is written with mode 0600)."""
    from benchmark.leaderboard.signing import fingerprint, generate_keypair, load_public_key, raw_public

    check_outputs(files={"--out": out})
    private, public = generate_keypair(out)
    fp = fingerprint(raw_public(load_public_key(public)))
    click.echo(f"private key {private} (keep it secret), public key {public} ({fp})")


@submission.command("pack")
@click.option(
    "--results",
    "results",
    multiple=True,
    required=True,
    type=_PATH,
    help="Results JSON of `mace-bench evaluate` (repeat: motion, appearance); packed byte for byte.",
)
@click.option(
    "--meta",
    required=True,
    type=_PATH,
    help="META.yaml: method, method_version, generated_by, evaluated_by, paper_url, code_url, license, "
    "sampling (mapping), optional notes.",
)
@_testset_option()
@click.option(
    "--keypoints",
    type=_PATH,
    default=None,
    help="Folder of the generated keypoint tracks the motion results were scored on (lets the board re-score).",
)
@click.option(
    "--sign-key", type=_PATH, default=None, help="ed25519 private key (PEM or OpenSSH) to sign with."
)
@click.option(
    "--gt", "gt_dir", type=_PATH, default=None, help="GT files of the test set, for the re-scoring check."
)
@click.option("--no-check", is_flag=True, help="Do not run the validator on the packed bundle.")
@click.option("--out", required=True, type=_PATH, help="The bundle to write (.zip).")
def submission_pack(results, meta, testset, keypoints, sign_key, gt_dir, no_check, out) -> None:
    """Pack results and metadata into one submission bundle, then validate it as the board will.

    The bundle is written only when the validator accepts it (unless --no-check).
    """
    from benchmark.leaderboard.bundle import pack_members, read_meta, write_zip
    from benchmark.leaderboard.testset import load_testset
    from benchmark.leaderboard.validate import validate_bundle
    from ma_data.core.errors import MaceError
    from ma_data.core.io.atomic import atomic_path

    check_outputs(files={"--out": out})
    ts = load_testset(testset)
    members = pack_members(list(results), read_meta(meta), ts, keypoints, sign_key)
    if no_check:
        write_zip(out, members)
        click.echo(f"packed {len(members)} files -> {out} (not validated)")
        return
    with atomic_path(out) as tmp:
        write_zip(tmp, members)
        report = validate_bundle(tmp, ts, gt_dirs=_gt_dirs([ts], (gt_dir,) if gt_dir else ()))
        report.bundle = out.name
        for line in report.lines()[:-1]:
            click.echo(line, err=True)
        if not report.accepted:
            raise MaceError(
                f"{out}: the validator rejects this bundle ({len(report.problems)} problem(s) above)"
            )
    click.echo(f"packed {len(members)} files -> {out}; validator: accepted")


@submission.command("validate")
@click.argument("bundle", type=_PATH)
@_testset_option()
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=_PATH,
    help="Trusted ed25519 public key (repeat); the bundle must then be signed by one of them.",
)
@click.option("--gt", "gt_dir", type=_PATH, default=None, help="GT files of the test set (for re-scoring).")
@click.option("--report", "report_path", type=_PATH, default=None, help="Write the JSON report here.")
@click.option(
    "--require-keypoints",
    is_flag=True,
    help="Board policy: reject 2D motion results without keypoint tracks to re-score (FID/Div are otherwise "
    "checked only for consistency with their interval).",
)
def submission_validate(bundle, testset, public_keys, gt_dir, report_path, require_keypoints) -> None:
    """Accept or reject a submission bundle, listing every reason (exit 0 accepted, 2 rejected).

    Nothing in the bundle is trusted: archive hygiene, integrity list and signature, metadata, protocol
    name/version/parameters, GT hashes against the test set, stem coverage, every recomputable aggregate, and
    the motion metrics re-scored from the included keypoints when the test set's GT files are at hand.
    """
    from benchmark.leaderboard.signing import load_public_key
    from benchmark.leaderboard.testset import check_protocols_current, load_testset
    from benchmark.leaderboard.validate import validate_bundle

    check_outputs(files={"--report": report_path})
    ts = load_testset(testset)
    check_protocols_current(ts)
    keys = [load_public_key(k) for k in public_keys]
    gt_dirs = _gt_dirs([ts], (gt_dir,) if gt_dir else ())
    report = validate_bundle(bundle, ts, keys, gt_dirs, require_keypoints=require_keypoints)
    if report_path is not None:
        from ma_data.core.io.atomic import atomic_write

        with atomic_write(report_path, "w", encoding="utf-8") as fh:
            json.dump(report.to_dict(), fh, indent=2, sort_keys=True)
            fh.write("\n")
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.accepted else EXIT_BAD_INPUT)


@group("leaderboard")
def leaderboard() -> None:
    """The static leaderboard site: accepted submissions beside the paper's rows."""


@leaderboard.command("build")
@click.option(
    "--submissions", required=True, type=_PATH, help="Folder of submission bundles (*.zip), each validated."
)
@_testset_option(multiple=True)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=_PATH,
    help="Trusted public key(s): rows show 'signed ✓'.",
)
@click.option("--gt", "gt", multiple=True, type=_PATH, help="GT folder per --testset (for re-scoring).")
@click.option("--no-paper", is_flag=True, help="Leave out the rows reported in the paper.")
@click.option(
    "--require-keypoints",
    is_flag=True,
    help="Board policy: reject 2D motion results without keypoint tracks to re-score (FID/Div are otherwise "
    "checked only for consistency with their interval).",
)
@click.option(
    "--out", required=True, type=_PATH, help="Site folder: index.html, leaderboard.json, leaderboard.csv."
)
def leaderboard_build(submissions, testsets, public_keys, gt, no_paper, require_keypoints, out) -> None:
    """Validate every bundle in a folder and write the static site.

    Rejected bundles are left out and listed (with their reasons) in leaderboard.json and here. The default
    rank is the mean of the per-metric ranks over the directional metrics a row has (documented on the page);
    any column header re-sorts. The same inputs give byte-identical files.
    """
    from benchmark.leaderboard.board import build_site
    from benchmark.leaderboard.signing import load_public_key
    from benchmark.leaderboard.testset import check_protocols_current, load_testset

    check_outputs(folders={"--out": out})
    sets = [load_testset(t) for t in testsets]
    if len({t.key for t in sets}) != len(sets):
        raise click.UsageError("the same test set is given twice")
    for ts in sets:
        check_protocols_current(ts)
    keys = [load_public_key(k) for k in public_keys]
    summary = build_site(
        submissions,
        sets,
        out,
        keys,
        _gt_dirs(sets, gt),
        paper=not no_paper,
        require_keypoints=require_keypoints,
    )
    for line in summary:
        click.echo(line)
