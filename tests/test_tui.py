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
from tui_dj.tui.widgets import QTable, QueueTable, sources_line


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


def title_column(table: Any) -> int:
    """Where a table's song titles are (the Q-table's first column is its ▶ mark)."""
    return [key.value for key in table.columns].index("title")


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


async def test_the_head_of_up_next_on_screen_is_the_song_that_plays(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        moved = 0
        for step in ["n", "l", "finish", "n", "l", "n", "finish", "n"]:
            shown_next = str(app.screen.query_one(QueueTable).get_row_at(0)[0])
            before = app.view.play_number
            if step == "finish":
                app.submit_action("finish", play_number=before)
            else:
                await pilot.press(step)
            await settle(pilot, app)
            if app.view.play_number == before:  # a like: the song plays on, and so does the head
                assert str(app.screen.query_one(QueueTable).get_row_at(0)[0]) == shown_next
                continue
            title = str(app.screen.query_one("#np-title").render())
            assert title.startswith(shown_next.rstrip("…")), (step, shown_next, title)
            moved += 1
        assert moved == 6


async def test_like_moves_the_taste_toward_the_song(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        song = np.asarray(session.catalog.features[session.current.row])
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
        assert str(table.get_row_at(0)[title_column(table)]) == row.track.name
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
        # Whole keys, each row's keys split apart: "l" must not be found inside "ctrl+l".
        keys = {key for r in rows for key in str(r[0]).split(" ")}
        for key in ("l", "n", "d", "u", "space", "/", "enter", "h", "?", "q"):
            assert key in keys, key
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
    app = DJApp(session, autoplay=False, keymap={"dj.like": "f", "dj.skip": "j"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "f", "l", "n")  # the old keys no longer act
        await settle(pilot, app)
        assert (session.stats.likes, session.stats.skips) == (1, 1)
        keys = {binding_id: k for k, _, binding_id in app.screen.key_list()}  # type: ignore[attr-defined]
        # The arrow is its own binding (dj.skip_arrow), so remapping dj.skip leaves it in place.
        assert (keys["dj.like"], keys["dj.skip"], keys["dj.skip_arrow"]) == ("f", "j", "→")


async def test_a_song_that_reaches_its_end_counts_as_finished(session: Any) -> None:
    app = DJApp(session, speed=1.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        # Waited for in the history, not by watching the song playing: on a busy machine the
        # first 1.5 s song can end before a test that reads it has settled.
        deadline = time.monotonic() + 10
        while not any(e.kind == "finish" for e in session.history(100)):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.press("space")  # pause: the clock stops
        await settle(pilot, app)
        assert app.paused
        events = list(reversed(session.history(100)))
        first = next(e for e in events if e.kind == "play")
        finish = [e for e in events if e.kind == "finish"]
        assert finish and finish[0].track_id == first.track_id  # the first song, heard to its end
        assert [e.kind for e in events[:2]] == ["play", "finish"]
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
        assert counting.calls[0] == "song_finished" and set(counting.calls) == {"song_finished"}


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


class TellingApp(DJApp):
    """The console, keeping every notification with its title and severity."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.told: list[tuple[str, str, str]] = []

    def notify(self, message: str, *, title: str = "", severity: Any = "information", **kwargs: Any) -> None:  # type: ignore[override]
        self.told.append((str(message), title, str(severity)))
        super().notify(message, title=title, severity=severity, **kwargs)


async def test_a_catalog_that_runs_out_says_so_once_and_recovers(tmp_path: Path) -> None:
    session = open_session(catalog=builtin_catalog(2, seed=1), data_dir=tmp_path, seed=1)
    app = TellingApp(session, speed=0.5)  # the song clock runs: half a second a song
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("d")
            await settle(pilot, app)
            await pilot.press("d")
            await settle(pilot, app)
            assert app.view is not None and app.view.out_of_songs and app.view.now_playing is None
            events_then = len(session.history(100))
            await pilot.pause(1.5)  # three songs' worth of clock: nothing may start, end or fail
            assert app.pending == 0 and app.progress == 0.0
            assert len(session.history(100)) == events_then
            out = [m for m, _, _ in app.told if "nothing can play" in m]
            assert len(out) == 1, app.told
            assert not [t for t in app.told if t[2] == "error"], app.told
            # Undo brings the last disliked song back; pause at once so that it does not end.
            await pilot.press("u", "space")
            await settle(pilot, app)
            assert app.view is not None and app.view.now_playing is not None and not app.view.out_of_songs
            assert any(m.startswith("Took back the dislike") for m, _, _ in app.told)
            # Still a console: the song can be liked, the history opens, q quits.
            await pilot.press("l")
            await settle(pilot, app)
            assert session.stats.likes == 1
            await pilot.press("h")
            assert isinstance(app.screen, HistoryScreen)
            await pilot.press("escape", "q")
            deadline = time.monotonic() + 20
            while not app.closed:
                assert time.monotonic() < deadline
                await pilot.pause(0.05)
        assert app.return_value is None
        assert len([m for m, _, _ in app.told if "nothing can play" in m]) == 1
    finally:
        session.close()


async def test_the_console_says_which_model_plays(tmp_path: Path) -> None:
    session = _open(tmp_path, profile="ana")
    app = TellingApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert ("Playing with the bundled model.", "tui-dj", "information") in app.told
        assert str(app.screen.query_one("#stats-model").render()) == "model: the bundled model"
        await pilot.press("l", "q")
        while not app.closed:
            await pilot.pause(0.05)
    reopened = _open(tmp_path, profile="ana")  # now the profile has a model of its own
    app = TellingApp(reopened, autoplay=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert "Playing with profile ana's own (from the bundled model)." in [m for m, _, _ in app.told]
        await pilot.press("question_mark")
        assert "profile ana's own" in str(app.screen.query_one("#help-box").border_subtitle)
    reopened.close()


@pytest.mark.parametrize("where", ["main", "search", "help", "history"])
async def test_ctrl_c_quits_from_any_screen_and_saves(tmp_path: Path, where: str) -> None:
    session = _open(tmp_path, profile="ana")
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("l")
        await settle(pilot, app)
        if where != "main":
            await pilot.press({"search": "slash", "help": "question_mark", "history": "h"}[where])
            assert not isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+c")
        deadline = time.monotonic() + 20
        while not app.closed:
            assert time.monotonic() < deadline, "ctrl+c did not quit"
            await pilot.pause(0.05)
    assert app.return_value is None
    assert app.what_was_kept(tmp_path) == f"Saved profile 'ana' (its model and listening history) in {tmp_path}."
    reopened = _open(tmp_path, profile="ana")
    try:
        assert [e.kind for e in reopened.history(10)].count("like") == 1
        assert reopened.model_description.startswith("profile ana's own")
    finally:
        reopened.close()


async def test_a_read_only_console_says_nothing_was_saved_when_it_closes(tmp_path: Path) -> None:
    first = _open(tmp_path, profile="ana")
    second = _open(tmp_path, profile="ana")
    try:
        app = DJApp(second, autoplay=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("q")
            while not app.closed:
                await pilot.pause(0.05)
        assert app.what_was_kept(tmp_path) == ("Profile 'ana' was open in another tui-dj, so nothing was "
                                               "saved (read-only).")
    finally:
        second.close()
        first.close()


async def test_what_was_kept_when_nothing_was_learned_or_nothing_opened(tmp_path: Path) -> None:
    session = _open(tmp_path)
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        while not app.closed:
            await pilot.pause(0.05)
    assert app.what_was_kept(tmp_path) == (f"Saved profile 'default' (its listening history; no reactions, "
                                           f"so its model is as it was) in {tmp_path}.")

    import threading

    never = threading.Event()
    opening = DJApp(lambda: never.wait(30) or _open(tmp_path), autoplay=False)  # type: ignore[arg-type, func-returns-value]
    async with opening.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("ctrl+c")  # while the catalog and the model are still loading
        await pilot.pause(0.1)
        assert not opening.session_open
        assert opening.what_was_kept(tmp_path) == "Quit before the DJ had opened; nothing was saved."
        never.set()  # the session opens after all, and the quit already asked for closes it
        deadline = time.monotonic() + 30
        while not opening.closed:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)


def _shown(app: DJApp) -> set[str]:
    """The ids of the main screen's panels that are on screen (displayed, with some size)."""
    return {w.id for w in app.screen.query("#now, #queue, #taste, #qtable, #stats, #too-small")
            if w.id and w.display and w.region.width > 0 and w.region.height > 0
            and all(a.display for a in w.ancestors_with_self if hasattr(a, "display"))}


@pytest.mark.parametrize(("size", "panels"), [
    ((40, 12), {"now", "queue"}),
    ((80, 15), {"now", "queue"}),
    ((80, 20), {"now", "queue", "taste"}),
    ((60, 24), {"now", "queue", "qtable"}),
    ((60, 40), {"now", "queue", "taste", "qtable"}),  # narrow: Up next keeps its rows first
    ((60, 46), {"now", "queue", "taste", "qtable", "stats"}),
    ((80, 24), {"now", "queue", "taste", "qtable", "stats"}),
    ((200, 50), {"now", "queue", "taste", "qtable", "stats"}),
    ((39, 24), {"too-small"}),
    ((80, 11), {"too-small"}),
])
async def test_panels_fold_as_the_terminal_shrinks(session: Any, size: tuple[int, int], panels: set[str]) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        assert _shown(app) == panels
        for panel in panels - {"too-small"}:  # nothing shown is squeezed below a usable size
            region = app.screen.query_one(f"#{panel}").region
            assert region.width >= 30 and region.height >= 4, (panel, region)
        if panels == {"too-small"}:
            said = str(app.screen.query_one("#too-small").render())
            assert f"Make the terminal at least 40×12 (it is {size[0]}×{size[1]} now)" in said
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.2)
            assert _shown(app) == {"now", "queue", "taste", "qtable", "stats"}


@pytest.mark.parametrize("width", [40, 50, 60, 70, 80, 120])
async def test_the_footer_leaves_out_whole_keys_the_least_used_first(session: Any, width: int) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot, app)
        await pilot.pause(0.1)
        keys = [k for k in app.screen.query("FooterKey") if k.display]
        shown = [k.key for k in keys]  # type: ignore[attr-defined]
        assert sum(k.region.width + k.styles.margin.width for k in keys) <= width
        assert all(k.region.width == k.render().cell_len for k in keys)  # type: ignore[attr-defined]
        must = ["q", "question_mark", "l", "n", "d"] + (["u"] if width >= 50 else []) + (["space"] if width >= 60 else [])
        assert set(must) <= set(shown), shown
        if width >= 80:
            assert set(shown) == {"l", "n", "d", "u", "space", "slash", "h", "question_mark", "q"}


async def test_table_cells_use_the_free_width_and_end_with_an_ellipsis_when_cut(tmp_path: Path) -> None:
    session = _open(tmp_path)
    app = DJApp(session, autoplay=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            for table in (app.screen.query_one(QueueTable), app.screen.query_one(QTable)):
                widths = [c.get_render_width(table) for c in table.columns.values()]
                assert sum(widths) + 1 == table.size.width  # every cell but the scrollbar's
                at = title_column(table)
                names = [str(table.get_row_at(r)[at]) for r in range(table.row_count)]
                title = list(table.columns.values())[at]
                cut = [n for n in names if len(n) > title.width]
                assert cut, "this seeded queue has titles too long for 80 columns"
                start = sum(widths[:at]) + 1  # the columns before it, then the title's own padding
                for row, name in enumerate(names):
                    line = table.render_line(row + 1).text  # the header is line 0
                    shown = line[start:start + title.width].rstrip()
                    assert shown == name or (name in cut and shown.endswith("…") and name.startswith(shown[:-1]))
    finally:
        session.close()


async def test_help_lists_every_binding_id_the_keymap_can_name(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        table = app.screen.query_one("#help-keys", DataTable)
        listed = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert DJApp.binding_ids() <= listed
        assert {"dj.like", "dj.quit", "dj.quit_ctrl_c", "dj.history.forgive"} <= DJApp.binding_ids()


def test_a_misspelled_keymap_id_is_one_sentence_naming_the_nearest(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tui_dj.cli import app as cli

    (tmp_path / "keymap.toml").write_text('[keys]\n"dj.dislke" = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["play", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "'dj.dislke'" in lines[0] and "did you mean 'dj.dislike'?" in lines[0]


def test_a_keymap_that_gives_one_key_to_two_bindings_is_one_sentence(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tui_dj.cli import app as cli
    from tui_dj.tui.keymap import EXAMPLE, check_clashes

    (tmp_path / "keymap.toml").write_text('[keys]\n"dj.like" = "plus"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["play", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "'plus'" in lines[0] and "'dj.volume_up'" in lines[0] and "'dj.like'" in lines[0]
    # The example the README and the error messages show clashes with nothing.
    example = {"dj.like": "l,f", "dj.skip": "n,j"}
    assert all(f'"{k}" = "{v}"' in EXAMPLE for k, v in example.items())
    check_clashes(tmp_path / "keymap.toml", example, DJApp.binding_keys())


def test_where_a_files_features_came_from_fits_one_80_column_line() -> None:
    assert sources_line("") == ""
    assert sources_line("b" * 9) == "features borrowed: all nine"
    analysed = "emmeememe"  # acoustic e, dance m, energy m, instrum e, live e, loudness m, …
    line = sources_line(analysed)
    assert line == "features measured: dance, energy, loudness, tempo · estimated: the other 5"
    assert len(line) <= 76
