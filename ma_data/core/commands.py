"""Commands every toolkit CLI carries: ``weights list|fetch|verify`` and ``doctor``.

They are views of the base layer (the weights registry in ``manifests/weights.yaml`` and the installation
checks), so ``mace-bench``, ``ma-data`` and ``mace-dance`` all register the same objects. Nothing is downloaded
unless ``weights fetch`` is run.
"""

from __future__ import annotations

import json
import sys

import click

from ma_data.core.cli import command, group
from ma_data.core.errors import MaceError


@group("weights")
def weights() -> None:
    """List, download (only when asked) and checksum the model weights the toolkit uses.

    The cache is $MACE_DANCE_CACHE/weights (default ~/.cache/mace-dance/weights).
    """


@weights.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def weights_list(as_json: bool) -> None:
    """Every registered weight: present or missing, cache path, licence, and who uses it."""
    from ma_data.core.weights import registry, weight_path

    rows = []
    for name, spec in sorted(registry().items()):
        path = weight_path(name)
        rows.append(
            {
                "name": name,
                "present": path.exists(),
                "path": str(path),
                "sha256": spec.sha256,
                "sha256_prefix": spec.sha256_prefix,
                "files": dict(spec.files),
                "hash_source": spec.hash_source,
                "license": spec.license,
                "url": spec.url,
                "used_by": list(spec.used_by),
                "description": spec.description,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = "present" if r["present"] else "missing"
        click.echo(f"{r['name']:<28} {state:<8} {r['path']}")
        click.echo(f"    {r['description']}")
        if r["sha256"]:
            digest = r["sha256"]
        elif r["sha256_prefix"]:
            digest = f"{r['sha256_prefix']}... (published prefix)"
        elif r["files"]:
            digest = ", ".join(f"{k} {v}" for k, v in r["files"].items())
        else:
            digest = "not published"
        click.echo(f"    licence: {r['license'] or 'unknown'}; sha256: {digest}")
        if r["hash_source"]:
            click.echo(f"    hash: {r['hash_source']}")


@weights.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Fetch every registered weight that has a URL.")
@click.option("--force", is_flag=True, help="Download again even if the file is already cached.")
def weights_fetch(names: tuple[str, ...], fetch_all: bool, force: bool) -> None:
    """Download NAMES into the cache and check their sha256 (when the registry records one)."""
    from ma_data.core.weights import fetch_weight, get_spec, registry

    if fetch_all:
        names = tuple(n for n, s in sorted(registry().items()) if s.url and not s.is_dir)
    if not names:
        raise MaceError("name at least one weight (see `weights list`) or pass --all")
    failed = 0
    for name in names:
        get_spec(name)
        try:
            path = fetch_weight(name, force=force)
        except MaceError as exc:
            click.echo(f"FAIL {name}: {exc}", err=True)
            failed += 1
            continue
        except OSError as exc:  # network errors
            click.echo(f"FAIL {name}: download failed ({exc})", err=True)
            failed += 1
            continue
        click.echo(f"ok   {name}: {path}")
    if failed:
        sys.exit(1)


@weights.command("verify")
@click.argument("names", nargs=-1)
def weights_verify(names: tuple[str, ...]) -> None:
    """Check the sha256 of cached weights (default: every weight present in the cache)."""
    from ma_data.core.errors import MissingWeightError
    from ma_data.core.weights import registry, verify_weight, weight_path

    if not names:
        names = tuple(n for n in sorted(registry()) if weight_path(n).exists())
        if not names:
            click.echo("no weights in the cache; see `weights list`")
            return
    bad = 0
    for name in names:
        try:
            ok, message = verify_weight(name)
        except MissingWeightError as exc:
            ok, message = False, str(exc)
        click.echo(("ok   " if ok else "FAIL ") + message)
        bad += not ok
    if bad:
        sys.exit(1)


@command("doctor")
def doctor() -> None:
    """Check the installation: Python packages, decoders, EGL rendering, the weights cache."""
    from ma_data.core.doctor import run_doctor

    sys.exit(run_doctor())


#: Register these on every entry point: ``for cmd in TOOLKIT_COMMANDS: main.add_command(cmd)``.
TOOLKIT_COMMANDS = (weights, doctor)
