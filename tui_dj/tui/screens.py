"""The screens over the console: help (every key), listening history, and catalog search.

They know nothing of the app or the session: the history and search screens get a function that
loads their rows, run it on a worker of the app (so a failure reaches the app's one handler, which
calls `load_failed`), and ask for actions with `Requested` messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label
from textual.worker import get_current_worker

from tui_dj.catalog.model import Track
from tui_dj.session.view import HistoryRow
from tui_dj.tui.fast_table import LiveTable
from tui_dj.tui.messages import Requested
from tui_dj.tui.widgets import Column, cell, columns, order


class KeyTable(LiveTable):
    """The help's rows: the keys, what they do, and the binding id that keymap.toml remaps."""

    def layout_for(self, width: int) -> tuple[Column, ...]:
        if width < 64:  # what a key does matters more than its id
            return columns(width, (("keys", "Key", 8),), (("does", "Does", 1),))
        return order(columns(width, (("keys", "Key", 8), ("id", "Id (keymap.toml)", 18)), (("does", "Does", 1),)),
                     ("keys", "does", "id"))

    def cells(self, item: tuple[str, str, str], index: int) -> dict[str, Any]:
        keys, does, binding_id = item
        return {"keys": cell(keys), "does": cell(does), "id": cell(binding_id)}


class HelpScreen(ModalScreen[None]):
    """Every key of the console, as the user's keymap has them, with their ids."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="dj.help.close", tooltip="close this list"),
    ]

    def __init__(self, keys: list[tuple[str, str, str]], model: str | None = None) -> None:
        super().__init__()
        self._keys = keys
        self._model = model

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            table = KeyTable(id="help-keys")
            table.show_cursor = False
            table.show(self._keys)
            yield table
            yield Label("Remap a key by its id in keymap.toml, in the data folder; esc closes.",
                        id="help-hint")

    def on_mount(self) -> None:
        box = self.query_one("#help-box")
        box.border_title = "Keys"
        if self._model:
            box.border_subtitle = f"playing with {self._model}"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M:%S")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).strftime("%m-%d %H:%M:%S")
    return str(value)[:19]


class _Loading(ModalScreen[Any]):
    """A screen whose rows come from a function run on an app worker."""

    group = "load"

    def reload(self) -> None:
        """Load the rows again (the app calls it when what they show has changed)."""

    def load(self, fn: Callable[[], Any]) -> None:
        self.app.run_worker(partial(self._run, fn), thread=True, group=self.group, exclusive=True,
                            exit_on_error=False, name=self.group)

    def _run(self, fn: Callable[[], Any]) -> None:
        rows = fn()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.loaded, rows)

    def loaded(self, rows: Any) -> None:
        raise NotImplementedError

    def load_failed(self, error: str) -> None:
        """Called by the app's worker handler: stop waiting and say why."""


# The history's events as the What column says them: a reaction by its own word, the others in
# words a person would use ("choose" is the store's name for a song the person picked).
EVENT_WORDS = {"play": "played", "choose": "picked", "undo": "undone"}


class HistoryTable(LiveTable):
    """The history's rows: when, what happened, the song, its artist and the reward."""

    def layout_for(self, width: int) -> tuple[Column, ...]:
        fixed = (("when", "When", 14), ("kind", "What", 7), ("reward", "Reward", 6))
        return order(columns(width, fixed, (("name", "Song", 3), ("artist", "Artist", 2))),
                     ("when", "kind", "name", "artist", "reward"))

    def cells(self, event: HistoryRow, index: int) -> dict[str, Any]:
        reward = "" if event.reward is None else f"{event.reward:+.2f}"
        return {"when": cell(_when(event.time)), "kind": cell(EVENT_WORDS.get(event.kind, event.kind)),
                "name": cell(event.name),
                "artist": cell(event.artist), "reward": cell(reward, justify="right")}


class HistoryScreen(_Loading):
    """The latest plays and reactions of this profile, newest first; `f` forgives a dislike."""

    group = "history"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,h", "dismiss", "Close", id="dj.history.close", tooltip="close it"),
        Binding("f", "forgive", "Forgive dislike", id="dj.history.forgive",
                tooltip="forgive the highlighted dislike"),
    ]

    def __init__(self, events: Callable[[], list[HistoryRow]]) -> None:
        super().__init__()
        self._events_fn = events
        self._events: list[HistoryRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box", classes="dialog"):
            table = HistoryTable(id="history-table")
            table.loading = True
            yield table
            yield Label("", id="history-note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-box").border_title = "History"
        self.load(self._events_fn)

    def loaded(self, rows: Any) -> None:
        self._events = list(rows)
        table = self.query_one("#history-table", HistoryTable)
        table.show(self._events)
        table.loading = False
        if not self._events:
            self.query_one("#history-note", Label).update("Nothing played yet for this profile.")

    def load_failed(self, error: str) -> None:
        self.query_one("#history-table", DataTable).loading = False
        self.query_one("#history-note", Label).update(f"The history could not be read: {error}")

    def action_forgive(self) -> None:
        row = self.query_one("#history-table", DataTable).cursor_row
        if not 0 <= row < len(self._events):
            return
        event = self._events[row]
        if event.kind != "dislike":
            self.notify("Highlight a dislike to forgive it.", timeout=4)
            return
        self.app.post_message(Requested("forgive", event.track_id))

    def reload(self) -> None:
        self.load(self._events_fn)


class SearchTable(LiveTable):
    """Search results: title, artist, album and genre."""

    def layout_for(self, width: int) -> tuple[Column, ...]:
        return columns(width, (), (("title", "Title", 4), ("artist", "Artist", 3), ("album", "Album", 3),
                                   ("genre", "Genre", 2)))

    def cells(self, track: Track, index: int) -> dict[str, Any]:
        return {"title": cell(track.name), "artist": cell(track.artist), "album": cell(track.album),
                "genre": cell(track.genre)}


class SearchScreen(_Loading):
    """Search the catalog; enter plays the highlighted song now, ctrl+n puts it next in the queue."""

    group = "search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="dj.search.close", tooltip="close it"),
        # Before the query box's own enter (which would only submit it), so the footer names it.
        Binding("enter", "choose(True)", "Play", id="dj.search.play", priority=True,
                tooltip="play the highlighted song now"),
        Binding("ctrl+n", "choose(False)", "Queue next", id="dj.search.enqueue", priority=True,
                tooltip="queue the highlighted song next"),
        Binding("down", "focus_results", "Results", show=False, id="dj.search.results",
                tooltip="from the query to the results"),
    ]

    def __init__(self, search: Callable[[str], list[Track]]) -> None:
        super().__init__()
        self._search_fn = search
        self._results: tuple[Track, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box", classes="dialog"):
            yield Input(placeholder="title, artist or album", id="search-input")
            yield SearchTable(id="search-results")
            yield Label("", id="search-note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search-box").border_title = "Search the catalog"
        self.query_one("#search-input", Input).focus()

    @on(Input.Changed, "#search-input")
    def _query_changed(self, event: Input.Changed) -> None:
        query = event.value
        self.load(lambda: tuple(self._search_fn(query)) if query.strip() else ())

    def loaded(self, rows: Any) -> None:
        self._results = tuple(rows)
        table = self.query_one("#search-results", SearchTable)
        table.show(self._results)
        if table.row_count:
            table.move_cursor(row=0, animate=False)  # a new query is a new list: the cursor goes to the top
        self.query_one("#search-note", Label).update("")

    def load_failed(self, error: str) -> None:
        self.query_one("#search-note", Label).update(f"The search failed: {error}")

    def _highlighted(self) -> Track | None:
        row = self.query_one("#search-results", DataTable).cursor_row
        return self._results[row] if 0 <= row < len(self._results) else None

    def action_focus_results(self) -> None:
        self.query_one("#search-results", DataTable).focus()

    def action_choose(self, now: bool) -> None:
        track = self._highlighted()
        if track is not None:
            self.app.post_message(Requested("play" if now else "enqueue", track.row))
            self.dismiss(None)

    @on(DataTable.RowSelected, "#search-results")
    def _row_selected(self) -> None:  # a click on the highlighted row (enter is the binding)
        self.action_choose(True)
