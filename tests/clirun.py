"""Running `tui-dj` in-process for tests, with colour and terminal codes stripped."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tui_dj.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_cli(*args: str | Path, columns: int = 160) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tui-dj ARGS`, on a terminal this wide (wide by default),
    without colour."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)
