"""What the console looks like: the main screen from the smallest terminal it works in (40x12) to
200x50, the request for a bigger terminal below that, and the help screen.

The session is seeded, the song clock is still (`autoplay=False`), the notifications are cleared
and nothing on screen is a clock, so the pictures are the same on every run; each is taken once
the screen shows what it pictures (the first view, and the footer's keys, which Textual composes a
refresh or two later: on a busy machine that came after the picture). Regenerate with
`pytest tests/test_tui_snapshots.py --snapshot-update` after a deliberate change, and look at them
before committing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from tui_dj.catalog import builtin_catalog
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.widgets import KeyFooter


@pytest.fixture
def app(tmp_path: Path) -> Iterator[DJApp]:
    session = open_session(catalog=builtin_catalog(500), data_dir=tmp_path, seed=7)
    yield DJApp(session, autoplay=False)
    session.close()


async def _settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, DJApp)
    deadline = time.monotonic() + 120
    while app.pending or app.view is None or not _footer_keys(app):
        assert time.monotonic() < deadline, "the console never showed its first view and keys"
        await pilot.pause(0.01)
    app.clear_notifications()  # "Playing with the bundled model." would cover a panel
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def _footer_keys(app: DJApp) -> bool:
    """True once the footer holds its keys (fitted to the width): before, its line is blank."""
    return bool(app.screen.query_one(KeyFooter).query_children(FooterKey))


async def _help(pilot: Pilot[Any]) -> None:
    await _settled(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


@pytest.mark.parametrize("size", [(40, 12), (60, 24), (60, 34), (80, 24), (120, 40), (200, 50), (30, 10)],
                         ids=lambda size: f"{size[0]}x{size[1]}")
def test_main_screen(snap_compare: Any, app: DJApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=_settled)


def test_help_screen(snap_compare: Any, app: DJApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_help)
