"""What every command-line entry point shares: one-line errors and exit codes."""

from __future__ import annotations

import functools
import os
import sys
import traceback

import click

from ma_data.core.errors import MaceError

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print ``error: message`` on stderr and exit (for checks a command makes itself)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def cli_errors(fn=None, *, expected: tuple[type[BaseException], ...] = ()):
    """Turn expected errors into one line on stderr and exit code 2; never show a traceback to users.

    :class:`MaceError` and the ``expected`` types are "bad input" (exit 2). Anything else is reported in one
    line with exit code 1; ``MACE_DANCE_DEBUG=1`` prints its traceback. Use as ``@cli_errors`` or
    ``@cli_errors(expected=(ValueError,))``.
    """
    if fn is None:
        return functools.partial(cli_errors, expected=expected)
    bad_input = (MaceError, *expected)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except bad_input as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except Exception as exc:
            if os.environ.get("MACE_DANCE_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"internal error: {exc.__class__.__name__}: {exc} (set MACE_DANCE_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

    return wrapper
