"""One voice for errors: every failure a user can cause ends in one line on stderr,
``gctune: error: ...``, and an exit status, never a traceback or a boxed panel.

- every :class:`gctune.errors.UserError` (a setting, a workload, a result file, ...,
  and :class:`GctuneError` raised by the commands): exit status 2 (or the error's own);
- an ``OSError`` nobody expected (a file that cannot be read or written): exit status 2,
  the file named;
- click's errors (an unknown option, a value out of its range, an unreadable path
  argument), through the command group :class:`OneVoice`: exit status 2.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional, TypeVar

import typer
from typer.core import TyperGroup

from gctune.errors import UserError

__all__ = [
    "FAILED_POINTS",
    "GctuneError",
    "OneVoice",
    "one_line",
    "user_errors",
    "warn_damaged",
]

# A measurement failed (a sweep's point, a side of a gate): its reasons are printed and
# saved. Distinct from 0 (all measured), 1 (a regression, or gctune itself failed),
# 2 (a user error) and 130 (interrupted), so that CI can tell.
FAILED_POINTS = 3


def one_line(text: str) -> str:
    """``text`` on one line: control characters (a newline or carriage return in a name or
    a value read from a file) are shown escaped, as Python writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _say(kind: str, message: object) -> None:
    typer.echo(f"gctune: {kind}: {one_line(str(message))}", err=True)


def _click_error(name: str) -> type[Exception]:
    """click's exception class ``name``. typer vendors click from 0.2x on and re-exports
    only BadParameter, so the class is found among BadParameter's bases."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


_USAGE_ERROR = _click_error("UsageError")  # unknown option, a value out of its range, ...
_CLICK_ERROR = _click_error("ClickException")


class OneVoice(TyperGroup):
    """gctune's commands: click's own errors become one ``gctune: error:`` line with exit
    status 2, like gctune's, instead of a boxed panel of usage and help."""

    def main(
        self,
        args: Optional[Sequence[str]] = None,
        prog_name: Optional[str] = None,
        complete_var: Optional[str] = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except _CLICK_ERROR as exc:
            # typer has already printed the help for a bare `gctune` (NoArgsIsHelpError)
            if type(exc).__name__ != "NoArgsIsHelpError":
                message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
                _say("error", message)
            code = 2 if isinstance(exc, _USAGE_ERROR) else getattr(exc, "exit_code", 2)
        except typer.Abort:
            _say("error", "aborted")
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


F = TypeVar("F", bound=Callable[..., Any])


class GctuneError(UserError):
    """A user-facing error raised by a command, carrying its exit status."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def user_errors(func: F) -> F:
    """Run a command so that gctune's errors and unexpected ``OSError`` end in one line."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            _say("error", exc)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a file gctune did not expect to fail: still one line
            where = f"{os.fsdecode(exc.filename)}: " if exc.filename else ""
            _say("error", f"{where}{exc.strerror or exc}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def warn_damaged(lines: Sequence[str]) -> None:
    """Name each point file a reader left out because it is damaged, one line each."""
    for line in lines:
        _say("warning", f"{line}; left out")
