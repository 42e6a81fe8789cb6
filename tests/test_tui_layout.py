"""The console's panels at the sizes a person's terminal has: Now playing and Up next before every
other panel, and rows scrolled away on a small terminal back in sight when it grows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_tui import _open, settle
from tui_dj.tui.app import DJApp
from tui_dj.tui.widgets import NowPlaying, QTable, QueueTable


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Any]:
    s = _open(tmp_path)
    yield s
    s.close()


def rows_in_sight(table: Any) -> int:
    """How many of a table's rows fit on screen now (0 when it is folded away)."""
    if not table.display or not table.region.height:
        return 0
    return max(0, min(table.row_count, table.scrollable_content_region.height - table.header_height))


@pytest.mark.parametrize("size", [(60, 34), (69, 34), (60, 36), (60, 46), (80, 24), (120, 40)],
                         ids=lambda size: f"{size[0]}x{size[1]}")
async def test_up_next_keeps_its_rows_before_the_q_table(session: Any, size: tuple[int, int]) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        screen = app.screen
        queue, qtable = screen.query_one(QueueTable), screen.query_one(QTable)
        assert screen.query_one(NowPlaying).region.height >= 4
        assert rows_in_sight(queue) >= 7, f"Up next shows {rows_in_sight(queue)} rows at {size}"
        if rows_in_sight(qtable) > 0:
            assert rows_in_sight(qtable) >= 3  # a Q-table that shows, shows something


async def test_rows_scrolled_away_come_back_when_the_terminal_grows(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(60, 12)) as pilot:
        await settle(pilot, app)
        queue = app.screen.query_one(QueueTable)
        for _ in range(6):
            await pilot.press("down")
        await pilot.pause()
        assert queue.cursor_row == 6 and queue.scroll_y > 0  # small: the first rows scrolled away
        await pilot.resize_terminal(60, 22)  # 8 rows: not all 15, so no clamp brings them back
        await pilot.pause(0.1)
        assert queue.cursor_row == 6 and queue.scroll_y == 0  # grown: they come back
        await pilot.resize_terminal(100, 60)
        await pilot.pause(0.1)
        assert queue.scroll_y == 0
