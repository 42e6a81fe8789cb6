"""The Textual console: `tui-dj play`. It talks only to a `tui_dj.session.Session`."""

from __future__ import annotations

from tui_dj.tui.app import DJApp
from tui_dj.tui.console import run_console

__all__ = ["DJApp", "run_console"]
