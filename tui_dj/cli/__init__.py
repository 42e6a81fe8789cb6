"""The `tui-dj` command: thin Typer commands that parse options, call one function, print the result.

Heavy modules (torch, textual, pandas) are imported inside the commands, so `tui-dj --help` is
quick. Everything printed is drawn by `tui_dj.cli.render`.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import typer
import typer.core

from tui_dj import __version__
from tui_dj.errors import Interrupted, TuiDjError

# Typer names every option's type in its help (`<int>`, `<path>`); for an on/off flag that reads
# as `--help <bool>`, which is no value anyone can type. Flags show no type.
_display_type = typer.core.TyperOption.display_type_rich


def _no_type_for_flags(self: typer.core.TyperOption, ctx: Any) -> str | None:
    return None if self.is_flag else _display_type(self, ctx)


typer.core.TyperOption.display_type_rich = _no_type_for_flags  # type: ignore[method-assign]


class _OneSentenceErrors(typer.core.TyperGroup):
    """Every command's `TuiDjError` becomes one sentence on stderr and exit 1 (130 when interrupted),
    in one place; so does ctrl-c where a command has nothing more precise to say."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except TuiDjError as exc:
            typer.echo(f"tui-dj: {exc}", err=True)
            raise typer.Exit(130 if isinstance(exc, Interrupted) else 1) from None
        except KeyboardInterrupt:
            typer.echo("tui-dj: interrupted; nothing already saved was changed.", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    name="tui-dj",
    cls=_OneSentenceErrors,
    help="A terminal DJ that learns what you want to hear next.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear sentence on stderr and a non-zero exit, never a traceback."""
    typer.echo(f"tui-dj: {message}", err=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tui-dj {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """A terminal DJ that learns what you want to hear next."""


# The commands register themselves on `app`.
from tui_dj.cli import commands as _commands  # noqa: E402, F401


def main() -> None:
    try:
        app()
    except TuiDjError as exc:
        typer.echo(f"tui-dj: {exc}", err=True)
        sys.exit(130 if isinstance(exc, Interrupted) else 1)
    except KeyboardInterrupt:
        typer.echo("tui-dj: interrupted; nothing already saved was changed.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: one sentence here, the traceback in the log for a report
        where = _log_traceback()
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        typer.echo(f"tui-dj: unexpected error ({type(exc).__name__}{': ' + detail if detail else ''}); "
                   f"nothing already saved was changed{'; the details are in ' + where if where else ''}.",
                   err=True)
        sys.exit(1)


def _log_traceback() -> str:
    """Append the current exception's traceback to the data folder's log; its path, or ''."""
    import traceback
    from datetime import datetime

    from tui_dj.paths import data_dir, logs_dir

    try:
        path = logs_dir(data_dir()) / "errors.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now().isoformat(timespec='seconds')} {' '.join(sys.argv)}\n")
            log.write(traceback.format_exc())
        return str(path)
    except OSError:
        return ""


__all__ = ["app", "fail", "main"]
