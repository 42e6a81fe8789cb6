"""The console, driven by key presses against a real seeded session: what each key does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tui_dj.catalog import builtin_catalog
from tui_dj.session import Session, open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.main_screen import MainScreen
from tui_dj.tui.screens import HelpScreen, HistoryScreen, SearchScreen
from tui_dj.tui.widgets import QTable, QueueTable


class RecordingApp(DJApp):
    """The console, keeping the text of every notification it shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.said: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.said.append(str(message))
        super().notify(message, **kwargs)


def _open(data_dir: Path, seed: int = 7, profile: str = "default") -> Session:
    return open_session(catalog=builtin_catalog(500), data_dir=data_dir, seed=seed, profile=profile)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Any]:
    s = _open(tmp_path)
    yield s
    s.close()


async def settle(pilot: Pilot[Any], app: DJApp, timeout: float = 30.0) -> None:
    """Wait until every key pressed so far has been handled and its result is on screen."""
    deadline = time.monotonic() + timeout
    while app.pending or app.view is None:
        assert time.monotonic() < deadline, f"{app.pending} actions still pending"
        await pilot.pause(0.01)
    await pilot.pause()


def queue_ids(app: DJApp) -> list[str]:
    assert app.view is not None
    return [e.track.track_id for e in app.view.queue]


def kinds(session: Any) -> list[str]:
    return [e.kind for e in reversed(session.history(100))]


async def test_first_screen_shows_a_song_queue_and_q_table(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, MainScreen)
        assert session.current is not None
        assert app.view is not None and app.view.now_playing == session.current
        queue = app.screen.query_one(QueueTable)
        qtable = app.screen.query_one(QTable)
        assert queue.row_count == len(app.view.queue) > 0
        assert qtable.row_count == len(app.view.q_rows) > 0
        first = queue.get_row_at(0)
        assert str(first[0]) == app.view.queue[0].track.name


async def test_dislike_moves_on_and_changes_the_queue(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        disliked = session.current
        before = queue_ids(app)
        await pilot.press("d")
        await settle(pilot, app)
        assert session.current.track_id != disliked.track_id
        after = queue_ids(app)
        assert after != before
        assert disliked.track_id not in after
        shown = [str(app.screen.query_one(QueueTable).get_row_at(i)[0]) for i in range(3)]
        assert shown == [e.track.name for e in app.view.queue[:3]]
        assert session.stats.dislikes == 1


async def test_like_moves_the_taste_toward_the_song(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        song = np.asarray(session.catalog.features[session.current.index])
        before = np.asarray([row.scaled for row in session.view().taste])
        liked = session.current
        await pilot.press("l")
        await settle(pilot, app)
        after = np.asarray([row.scaled for row in session.view().taste])
        assert np.abs(after - song).sum() < np.abs(before - song).sum()
        assert session.current.track_id == liked.track_id  # a liked song keeps playing
        assert app.view is not None and app.view.reaction == "like"
        shown = tuple(row.scaled for row in app.view.taste)
        assert shown == pytest.approx(tuple(after))


async def test_reactions_land_in_the_history_in_key_order(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        first = session.current
        # A burst: no waiting between keys. Nothing may be lost or reordered.
        # `n` after a like moves on and keeps the like (a skip would replace it).
        await pilot.press("l", "n", "d", "right", "n", "l", "n", "d")
        await settle(pilot, app)
        reactions = [k for k in kinds(session) if k in ("like", "skip", "dislike")]
        assert reactions == ["like", "dislike", "skip", "skip", "like", "dislike"]
        events = list(reversed(session.history(100)))
        first_like = next(e for e in events if e.kind == "like")
        assert first_like.track_id == first.track_id
        assert (session.stats.likes, session.stats.skips, session.stats.dislikes) == (2, 2, 2)
        assert session.stats.plays == 7


async def test_undo_reverts_the_last_reaction(session: Any) -> None:
    app = RecordingApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("l", "n")
        await settle(pilot, app)
        taste_after_like = session.view().taste
        await pilot.press("d")
        await settle(pilot, app)
        assert session.stats.dislikes == 1
        await pilot.press("u")
        await settle(pilot, app)
        assert session.stats.dislikes == 0
        assert session.stats.likes == 1
        assert session.view().taste == taste_after_like
        assert app.view is not None and app.view.stats.dislikes == 0
        await pilot.press("u", "u")  # the like, then nothing left: said so
        await settle(pilot, app)
        assert "Nothing to undo." in app.said


async def test_enter_on_a_queue_row_plays_it(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.view is not None
        wanted = app.view.queue[2].track
        await pilot.press("down", "down", "enter")
        await settle(pilot, app)
        assert session.current.track_id == wanted.track_id


async def test_clicking_a_highlighted_row_plays_it(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.view is not None
        wanted = app.view.queue[1].track
        await pilot.click(QueueTable, offset=(4, 3))  # border, header, then the second row
        await pilot.click(QueueTable, offset=(4, 3))
        await settle(pilot, app)
        assert session.current.track_id == wanted.track_id


async def test_q_table_updates_in_place_and_keeps_the_cursor(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(QTable)
        table.focus()
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        await pilot.press("l")
        await settle(pilot, app)
        assert table.cursor_row == 3
        assert app.view is not None
        row = app.view.q_rows[0]
        assert str(table.get_row_at(0)[0]) == row.track.name
        assert float(str(table.get_row_at(0)[-2])) == pytest.approx(row.q, abs=1e-3)


async def test_search_plays_or_queues_a_song(session: Any) -> None:
    target = session.catalog.track(123)
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        app.screen.query_one(Input).value = f"{target.name} {target.artist}"
        results = app.screen.query_one("#search-results", DataTable)
        deadline = time.monotonic() + 10
        while results.row_count == 0:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, MainScreen)
        assert session.current.name == target.name and session.current.artist == target.artist

        other = session.catalog.track(321)
        await pilot.press("slash")
        app.screen.query_one(Input).value = f"{other.name} {other.artist}"
        results = app.screen.query_one("#search-results", DataTable)
        while results.row_count == 0:
            await pilot.pause(0.02)
        await pilot.press("ctrl+n")
        await settle(pilot, app)
        assert app.view is not None
        assert (app.view.queue[0].track.name, app.view.queue[0].track.artist) == (other.name, other.artist)
        assert app.view.queue[0].why == "chosen"


async def test_help_lists_every_key_and_history_shows_the_plays(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        described = " ".join(str(r[1]) for r in rows).lower()
        for word in ("like", "skip", "dislike", "undo", "pause", "search", "play", "history", "help", "quit"):
            assert word in described
        keys = " ".join(str(r[0]) for r in rows)
        for key in ("l", "n", "d", "u", "space", "/", "enter", "h", "?", "q"):
            assert key in keys.split(" ") or key in keys
        await pilot.press("escape")
        await pilot.press("l")
        await settle(pilot, app)
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        history = app.screen.query_one(DataTable)
        deadline = time.monotonic() + 10
        while history.row_count == 0:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        assert "like" in {str(history.get_row_at(i)[1]) for i in range(history.row_count)}


async def test_a_keymap_remaps_keys(session: Any) -> None:
    app = DJApp(session, autoplay=False, keymap={"dj.like": "plus", "dj.skip": "j"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "plus", "l", "n")  # the old keys no longer act
        await settle(pilot, app)
        assert (session.stats.likes, session.stats.skips) == (1, 1)
        keys = {d.split()[0]: k for k, d in app.screen.key_list()}  # type: ignore[attr-defined]
        # The arrow is its own binding (dj.skip_arrow), so remapping dj.skip leaves it in place.
        assert keys["Like"] == "+" and sorted(keys["Skip"].split()) == ["j", "→"]


async def test_a_song_that_reaches_its_end_counts_as_finished(session: Any) -> None:
    app = DJApp(session, speed=1.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        first = session.current
        deadline = time.monotonic() + 10
        while session.current.track_id == first.track_id:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.press("space")  # pause: the clock stops
        await settle(pilot, app)
        assert app.paused
        events = list(reversed(session.history(100)))
        finish = [e for e in events if e.kind == "finish"]
        assert finish and finish[0].track_id == first.track_id
        progress = app.progress
        await pilot.pause(0.6)
        assert app.progress == progress


async def test_a_failing_call_is_a_notification_not_a_crash(session: Any) -> None:
    class Broken:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def react(self, reaction: str) -> Any:
            raise RuntimeError("the database is locked")

    app = RecordingApp(Broken(session), autoplay=False)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("l")
        await settle(pilot, app)
        assert app.is_running
        assert any("locked" in said for said in app.said)
        await pilot.press("n")  # the worker is still alive and the next key still works
        await settle(pilot, app)
        assert app.is_running


async def test_quit_saves_and_a_reopened_session_continues(tmp_path: Path) -> None:
    session = _open(tmp_path, profile="ana")
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        liked = session.current
        await pilot.press("l", "n", "d")
        await pilot.press("q")
        await pilot.pause(0.2)
        deadline = time.monotonic() + 20
        while not app.closed:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
    assert app.return_value is None
    reopened = _open(tmp_path, profile="ana")
    try:
        events = [e for e in reopened.history(100) if e.kind == "like"]
        assert events and events[-1].track_id == liked.track_id
    finally:
        reopened.close()


async def test_the_first_screen_shows_while_the_session_opens(tmp_path: Path) -> None:
    import threading

    release = threading.Event()

    def slow_open() -> Any:
        release.wait(10)
        return _open(tmp_path)

    app = DJApp(slow_open, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.session_open
        await pilot.press("l", "h")  # a key before the session is open waits its turn
        release.set()
        await settle(pilot, app)
        assert app.session.stats.likes == 1
        await pilot.press("q")
    app.session.close()


async def test_a_session_that_cannot_open_ends_with_one_sentence(tmp_path: Path) -> None:
    from tui_dj.errors import TuiDjError

    def broken_open() -> Any:
        raise TuiDjError("Profile name '../x' is not allowed.")

    app = DJApp(broken_open, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 10
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.02)
    assert app.return_value == "Profile name '../x' is not allowed."


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--profile", "../x"], "is not allowed"),
        (["--catalog", "."], "is not a tui-dj catalog"),
        (["--model", "missing.pt"], "no model file"),
        (["--theme", "no-such-theme"], "There is no theme"),
    ],
)
def test_play_refuses_bad_options_in_one_sentence(tmp_path: Path, args: list[str], says: str) -> None:
    from typer.testing import CliRunner

    from tui_dj.cli import app as cli

    result = CliRunner().invoke(cli, ["play", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 1
    assert says in result.output
    assert "Traceback" not in result.output


class Counting:
    """Stands in for the session and counts the calls the console makes into it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if callable(value):
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return value(*args, **kwargs)
            return counted
        self.calls.append(name)
        return value


@pytest.mark.parametrize(("key", "call"), [("l", "react"), ("n", "react"), ("right", "react"), ("d", "react"),
                                           ("u", "undo"), ("enter", "play")])
async def test_a_key_is_one_call_into_the_session(session: Any, key: str, call: str) -> None:
    counting = Counting(session)
    app = DJApp(counting, autoplay=False)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        counting.calls.clear()
        await pilot.press(key)
        await settle(pilot, app)
        assert counting.calls == [call]


async def test_the_end_of_a_song_is_one_call(session: Any) -> None:
    counting = Counting(session)
    app = DJApp(counting, speed=0.5)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        counting.calls.clear()
        first = app.view.now_playing if app.view else None
        deadline = time.monotonic() + 10
        while app.view is None or app.view.now_playing == first:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.press("space")
        await settle(pilot, app)
        assert counting.calls[0] == "song_ended" and set(counting.calls) == {"song_ended"}


async def test_a_failing_history_load_reaches_the_one_handler(session: Any) -> None:
    class Broken:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def history(self, limit: int) -> Any:
            raise RuntimeError("the history database is damaged")

    app = RecordingApp(Broken(session), autoplay=False)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("h")
        deadline = time.monotonic() + 10
        table = app.screen.query_one("#history-table", DataTable)
        while table.loading:
            assert time.monotonic() < deadline, "the history screen is still loading"
            await pilot.pause(0.02)
        assert any("damaged" in said for said in app.said)
        note = app.screen.query_one("#history-note")
        assert "could not be read" in str(note.render())


async def test_a_read_only_console_says_reactions_are_not_saved(tmp_path: Path) -> None:
    first = _open(tmp_path, profile="ana")
    second = _open(tmp_path, profile="ana")
    try:
        assert second.read_only
        app = DJApp(second, autoplay=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("l")
            await settle(pilot, app)
            now = app.screen.query_one("#now")
            assert "not saved" in str(now.border_title)
            assert "not saved" in str(app.screen.query_one("#np-title").render())
    finally:
        second.close()
        first.close()


async def test_forgiving_a_dislike_in_the_history(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        disliked = session.current
        await pilot.press("d")
        await settle(pilot, app)
        await pilot.press("h")
        table = app.screen.query_one("#history-table", DataTable)
        deadline = time.monotonic() + 10
        while table.row_count == 0:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[1]) == "dislike")
        table.move_cursor(row=row)
        await pilot.press("f")
        await settle(pilot, app)
        deadline = time.monotonic() + 10
        while any(str(table.get_row_at(i)[1]) == "dislike" for i in range(table.row_count)):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        assert disliked.track_id not in {e.track_id for e in session.history(50) if e.kind == "dislike"}
