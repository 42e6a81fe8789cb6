"""The `tui-dj` command: thin Typer commands that parse options and call one function elsewhere.

Heavy modules (torch, textual, pandas) are imported inside the commands, so `tui-dj --help` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from tui_dj import __version__
from tui_dj.errors import TuiDjError

app = typer.Typer(
    name="tui-dj",
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


@app.command()
def prep(
    files: Annotated[list[Path] | None, typer.Argument(help="Spotify-format CSV files to import (none: the built-in catalog).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the processed catalog to.")] = Path("data/processed"),
    synthetic: Annotated[int | None, typer.Option("--synthetic", help="Generate a built-in catalog of this many songs.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the built-in catalog generator.")] = 0,
    kaggle_csv: Annotated[Path | None, typer.Option("--write-kaggle-csv", help="Also write the generated songs as a Kaggle-format CSV here (for benchmarks).", show_default=False)] = None,
) -> None:
    """Import song catalogs (or build the built-in one), clean and scale their features."""
    from tui_dj.catalog.prep import run_prep

    run_prep(files or [], out=out, synthetic=synthetic, seed=seed, kaggle_csv=kaggle_csv)


def main() -> None:
    try:
        app()
    except TuiDjError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; nothing already saved was changed.", code=130)


if __name__ == "__main__":
    main()
