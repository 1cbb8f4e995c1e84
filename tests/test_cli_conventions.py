"""Every command-line entry point behaves the same way: -h/--help/--version, one-line errors, exit codes."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from benchmark.cli import main as mace_bench
from ma_data.cli import main as ma_data
from ma_data.core.cli import ToolkitCommand, ToolkitGroup, command, group, toolkit_group
from ma_data.core.errors import ConfigError, FormatError
from models.appearance_expert.cli import appearance
from models.cli import main as mace_dance

ENTRY_POINTS = {
    "mace-bench": mace_bench,
    "ma-data": ma_data,
    "mace-dance": mace_dance,
    "appearance": appearance,
}


def _walk(cmd: click.Command, path: tuple[str, ...] = ()):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, (*path, name))


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_help_short_long_and_version(name):
    cli = ENTRY_POINTS[name]
    runner = CliRunner()
    for flag in ("-h", "--help"):
        res = runner.invoke(cli, [flag])
        assert res.exit_code == 0 and "Usage:" in res.output, (name, flag, res.output)
    res = runner.invoke(cli, ["--version"])
    assert res.exit_code == 0 and "version" in res.output


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_every_subcommand_is_a_toolkit_command_with_help(name):
    runner = CliRunner()
    for path, cmd in _walk(ENTRY_POINTS[name]):
        assert isinstance(cmd, ToolkitCommand | ToolkitGroup), f"{name} {' '.join(path)}: {type(cmd)}"
        if path:
            res = runner.invoke(ENTRY_POINTS[name], [*path, "-h"])
            assert res.exit_code == 0 and "Usage:" in res.output, (path, res.output)


def _toy_cli():
    @toolkit_group("toy")
    def toy() -> None:
        """A toy CLI."""

    @toy.command()
    @click.argument("what")
    def boom(what: str) -> None:
        if what == "config":
            raise ConfigError("--steps must be positive,\n  got -3")
        if what == "format":
            raise FormatError("x.json: not JSON")
        raise KeyError("oops")

    @group("nested")
    def nested() -> None:
        """A nested group."""

    @command("deep")
    def deep() -> None:
        raise FormatError("deep.npz: bad")

    nested.add_command(deep)
    toy.add_command(nested)
    return toy


def test_project_errors_are_one_line_exit_2_and_bugs_exit_1(monkeypatch):
    monkeypatch.delenv("MACE_DANCE_DEBUG", raising=False)
    runner = CliRunner()
    toy = _toy_cli()
    res = runner.invoke(toy, ["boom", "config"])
    assert res.exit_code == 2
    assert res.output.strip() == "error: --steps must be positive, got -3"
    res = runner.invoke(toy, ["nested", "deep"])
    assert res.exit_code == 2 and res.output.strip() == "error: deep.npz: bad"
    res = runner.invoke(toy, ["boom", "bug"])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("internal error: KeyError") and "Traceback" not in res.output
    )
    monkeypatch.setenv("MACE_DANCE_DEBUG", "1")
    res = runner.invoke(toy, ["boom", "bug"])
    assert res.exit_code == 1 and "Traceback" in res.output


def test_usage_errors_exit_2():
    res = CliRunner().invoke(mace_bench, ["evaluate", "--n-boot", "notanumber"])
    assert res.exit_code == 2


def test_model_input_errors_are_bad_input(tmp_path):
    """Model code raises the project's error types: a bad option value is exit 2 with one line."""
    music = tmp_path / "m.wav"
    res = CliRunner().invoke(
        mace_dance,
        ["sample-motion", "--ckpt", str(tmp_path / "x.pt"), "--music", str(music), "--genre", "Pop",
         "--out", str(tmp_path / "o.npz")],
    )  # fmt: skip
    assert res.exit_code == 2 and res.output.strip().startswith("error:") and str(music) in res.output
