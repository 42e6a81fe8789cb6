"""The Textual console: `tui-dj play`. It talks only to a `tui_dj.session.Session`."""

from __future__ import annotations

from tui_dj.tui import terminal_probe

terminal_probe.start()  # the terminal answers while the modules below load
from tui_dj.tui.app import DJApp  # noqa: E402
from tui_dj.tui.console import run_console  # noqa: E402

__all__ = ["DJApp", "run_console"]
