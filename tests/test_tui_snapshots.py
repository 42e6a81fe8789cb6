"""What the console looks like: the main screen from the smallest terminal it works in (40x12) to
200x50, the request for a bigger terminal below that, and the help screen.

The session is seeded, the song clock is still (`autoplay=False`), the notifications are cleared
and nothing on screen is a clock, so the pictures are the same on every run. Regenerate with
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

from tui_dj.catalog import builtin_catalog
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp


@pytest.fixture
def app(tmp_path: Path) -> Iterator[DJApp]:
    session = open_session(catalog=builtin_catalog(500), data_dir=tmp_path, seed=7)
    yield DJApp(session, autoplay=False)
    session.close()


async def _settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, DJApp)
    deadline = time.monotonic() + 30
    while app.pending or app.view is None:
        assert time.monotonic() < deadline
        await pilot.pause(0.01)
    app.clear_notifications()  # "Playing with the bundled model." would cover a panel
    await pilot.pause()


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
