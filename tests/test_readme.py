"""The README against the code: every command it shows exists with every option it uses, every make target
and every path it names exist, so the README cannot drift from the toolkit again unnoticed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from benchmark.cli import main as mace_bench
from ma_data.cli import main as ma_data
from models.appearance_expert.cli import appearance
from models.cli import main as mace_dance

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLIS = {
    "mace-bench": mace_bench,
    "ma-data": ma_data,
    "mace-dance": mace_dance,
    "models.appearance_expert": appearance,
}


def _commands() -> list[str]:
    """Command lines of the README's bash blocks (continuations joined, comments and prompts dropped)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def _resolve(tokens: list[str]) -> tuple[click.Command, list[str]] | None:
    if tokens[:2] == ["python", "-m"] and tokens[2] in CLIS:
        cli, rest = CLIS[tokens[2]], tokens[3:]
    elif tokens[0] in CLIS or (tokens[0].startswith(".venv/bin/") and tokens[0][10:] in CLIS):
        cli, rest = CLIS[tokens[0].removeprefix(".venv/bin/")], tokens[1:]
    else:
        return None
    while isinstance(cli, click.Group) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        assert name in cli.commands, (
            f"README: `{name}` is not a subcommand of {cli.name} ({' '.join(tokens)})"
        )
        cli = cli.commands[name]
    return cli, rest


@pytest.mark.parametrize("line", [c for c in _commands() if _resolve(shlex.split(c)) is not None])
def test_every_cli_line_uses_existing_options(line):
    cli, rest = _resolve(shlex.split(line))
    known = {opt for p in cli.params for opt in (*p.opts, *p.secondary_opts)} | {"-h", "--help", "--version"}
    for token in rest:
        if token.startswith("--"):
            assert token.split("=")[0] in known, f"README: {cli.name} has no option {token} ({line})"


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.M))
    used = {t for c in _commands() if c.startswith("make ") for t in c.split()[1:2]}
    assert used and used <= targets, used - targets


def test_named_modules_and_files_exist():
    for module in re.findall(r"python -m ((?:tools|benchmark|models|ma_data)\.[a-z_.]+)", README):
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file() or (
            ROOT / module.replace(".", "/")
        ).is_dir(), module
    for path in re.findall(
        r"`((?:benchmark|models|ma_data|tools|manifests|tests)/[A-Za-z0-9_./-]+)`", README
    ):
        assert (ROOT / path.rstrip("/")).exists(), path
