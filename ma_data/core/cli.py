"""What every command-line entry point shares: one click group class, one-line errors and exit codes.

Every CLI of the toolkit (``mace-bench``, ``ma-data``, ``mace-dance``, ``python -m models.appearance_expert``)
is a :func:`toolkit_group`; its subcommands are :class:`ToolkitCommand` s (``@group.command`` creates them, and
:func:`command` makes stand-alone ones for registration elsewhere). That gives each of them:

- ``-h``/``--help`` everywhere and ``--version`` on the entry point;
- the project's errors (:class:`~ma_data.core.errors.MaceError` and its subclasses: bad input, missing
  weights, unreadable files) as one line ``error: ...`` on stderr and exit code 2;
- anything else as one line ``internal error: ...`` and exit code 1 (a bug in our code);
  ``MACE_DANCE_DEBUG=1`` prints its traceback;
- click's own usage errors (bad option values, missing options) as one line ``error: ...`` with exit code 2.

:func:`check_outputs` checks output paths before a command starts its work.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from ma_data.core.errors import MaceError

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

#: Context settings of every toolkit command: -h as --help, wide help, defaults shown.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110, "show_default": True}


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print ``error: message`` on stderr and exit (for checks a command makes itself)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


#: Output folders the running command created (registered by :func:`check_outputs` and
#: :func:`new_output_folder`); a command that fails removes those still empty, so a failed run leaves no
#: empty folder behind.
_NEW_FOLDERS: list[Any] = []


def new_output_folder(path: str | os.PathLike) -> None:
    """Register ``path`` (and its missing parents) as created by this command, before creating it: if the
    command fails, each of them that holds no file is removed."""
    from pathlib import Path

    p = Path(path).absolute()
    missing = []
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    _NEW_FOLDERS.extend(missing)  # deepest first


def _remove_new_empty_folders() -> None:
    import shutil

    for folder in list(_NEW_FOLDERS):
        try:
            if folder.is_dir() and not any(p.is_file() or p.is_symlink() for p in folder.rglob("*")):
                shutil.rmtree(folder)
        except OSError:
            pass
    _NEW_FOLDERS.clear()


def _run_reporting_errors(invoke: Callable[[], Any]) -> Any:
    _NEW_FOLDERS.clear()
    try:
        return invoke()
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 1))
        if not (isinstance(exc, click.exceptions.Exit | SystemExit) and code in (0, None)):
            _remove_new_empty_folders()
        raise
    except MaceError as exc:
        _remove_new_empty_folders()
        click.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:
        _remove_new_empty_folders()
        if os.environ.get("MACE_DANCE_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"internal error: {exc.__class__.__name__}: {_one_line(exc)} "
            "(set MACE_DANCE_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


class ToolkitCommand(click.Command):
    """A command whose errors reach the user as one line (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", dict(CONTEXT_SETTINGS))
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        return _run_reporting_errors(lambda: super(ToolkitCommand, self).invoke(ctx))


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class ToolkitGroup(click.Group):
    """A group whose subcommands and subgroups are toolkit commands and groups."""

    command_class = ToolkitCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", dict(CONTEXT_SETTINGS))
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        # The group's own callback (logging set-up) runs here; subcommands report their own errors.
        return _run_reporting_errors(lambda: super(ToolkitGroup, self).invoke(ctx))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's standalone mode, with usage errors (bad option values, missing options, unknown
        commands) as one line ``error: <problem> (see '<cmd> -h')`` and exit code 2 instead of a
        four-line usage block. A bare group still prints its help."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} -h')" if exc.ctx is not None else ""
            click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


ToolkitGroup.group_class = ToolkitGroup


def command(name: str | None = None, **kwargs: Any) -> Callable[[Callable[..., Any]], ToolkitCommand]:
    """``@click.command`` for a toolkit command defined apart from its group (registered explicitly)."""
    return click.command(name, cls=ToolkitCommand, **kwargs)


def group(name: str | None = None, **kwargs: Any) -> Callable[[Callable[..., Any]], ToolkitGroup]:
    """``@click.group`` for a toolkit subgroup defined apart from its parent (registered explicitly)."""
    return click.group(name, cls=ToolkitGroup, **kwargs)


def toolkit_group(prog_name: str) -> Callable[[Callable[..., Any]], ToolkitGroup]:
    """Decorator for a CLI entry point: a :class:`ToolkitGroup` with ``-h``, ``--help`` and ``--version``."""

    def decorate(fn: Callable[..., Any]) -> ToolkitGroup:
        grp = click.group(prog_name, cls=ToolkitGroup)(fn)
        return click.version_option(package_name="mace-dance", prog_name=prog_name)(grp)

    return decorate


def verbose_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``-v/--verbose`` on an entry point: INFO logging instead of WARNING."""
    import logging

    def set_logging(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        logging.basicConfig(
            level=logging.INFO if value else logging.WARNING, format="%(levelname)s %(message)s"
        )
        return value

    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=set_logging,
        help="Log progress details and per-item failures.",
    )(fn)


def executor_options(*, default: str, where: str, workers: str) -> Callable[[Callable[..., Any]], Any]:
    """``--executor serial|process|ray``, ``--workers`` and ``--address``: the flags of every command that
    spreads its items over a process pool or a Ray cluster (``ma-data build`` and ``crawl``, ``mace-bench
    keypoints`` and ``evaluate``), for :func:`ma_data.core.executors.make_executor`.

    ``default``: the command's executor; ``where``: the help of ``--executor`` (what runs there);
    ``workers``: the help of ``--workers`` (the pool size's default for this command).
    """
    from ma_data.core.executors import EXECUTORS

    def decorate(fn: Callable[..., Any]) -> Any:
        fn = click.option(
            "--address",
            default=None,
            help="Ray cluster address for --executor ray (e.g. auto, ray://host:10001).",
        )(fn)
        fn = click.option("--workers", type=click.IntRange(min=1), default=None, help=workers)(fn)
        return click.option("--executor", type=click.Choice(list(EXECUTORS)), default=default, help=where)(fn)

    return decorate


def check_outputs(
    files: dict[str, str | os.PathLike | None] | None = None,
    folders: dict[str, str | os.PathLike | None] | None = None,
) -> None:
    """Fail fast, before any work, when an output path cannot be written; create nothing.

    An output folder that does not exist yet is registered (:func:`new_output_folder`): if the command then
    fails, it is removed unless it holds a file. ``files`` and ``folders`` map the flag (``"--out"``) to the path given (None = not given). A file's
    folder must already exist and be writable, and the file must not be a folder; an output folder may be
    created, but only inside an existing writable folder (so a typo such as ``--out /nonexistent/dir/x.json``
    fails in a second instead of creating a tree or failing after the work). Raises :class:`MaceError`
    (exit 2) naming the flag, the path and the problem.
    """
    from pathlib import Path

    def writable_dir(flag: str, path: Path, folder: Path) -> None:
        if not folder.exists():
            raise MaceError(f"{flag} {path}: folder {folder} does not exist (create it first)")
        if not folder.is_dir():
            raise MaceError(f"{flag} {path}: {folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise MaceError(f"{flag} {path}: folder {folder} is not writable")

    for flag, value in (files or {}).items():
        if value is None:
            continue
        path = Path(value)
        if path.is_dir():
            raise MaceError(f"{flag} {path}: is a folder; give a file name")
        if path.exists() and not os.access(path, os.W_OK):
            raise MaceError(f"{flag} {path}: file exists and is not writable")
        writable_dir(flag, path, path.parent)
    for flag, value in (folders or {}).items():
        if value is None:
            continue
        path = Path(value)
        if path.exists():
            if not path.is_dir():
                raise MaceError(f"{flag} {path}: exists and is not a folder")
            writable_dir(flag, path, path)
        else:
            writable_dir(flag, path, path.parent)
            new_output_folder(path)  # removed again if the command fails before writing into it
