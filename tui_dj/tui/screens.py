"""The screens over the console: help (every key), listening history, and catalog search."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label
from textual.worker import get_current_worker

from tui_dj.catalog.model import Track

if TYPE_CHECKING:
    from tui_dj.tui.app import DJApp


class HelpScreen(ModalScreen[None]):
    """Every key of the console, as the user's keymap has them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="dj.help.close"),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="none", show_cursor=False)
            table.add_column("Key", key="key", width=6)
            table.add_column("Does", key="does", width=60)
            for keys, description in self._keys:
                table.add_row(keys, description)
            yield table
            yield Label("Remap keys in keymap.toml in the data folder.  esc closes", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M:%S")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).strftime("%m-%d %H:%M:%S")
    return str(value)[:19]


class HistoryScreen(ModalScreen[None]):
    """The latest plays and reactions of this profile, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,h", "dismiss", "Close", id="dj.history.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box", classes="dialog"):
            table: DataTable[Any] = DataTable(id="history-table", cursor_type="row")
            table.add_column("When", key="when")
            table.add_column("What", key="kind", width=7)
            table.add_column("Song", key="name", width=22)
            table.add_column("Artist", key="artist", width=14)
            table.add_column("Reward", key="reward", width=6)
            table.loading = True
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-box").border_title = "History"
        self._load()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load(self) -> None:
        app: DJApp = self.app  # type: ignore[assignment]
        events = app.session.history(200)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, events)

    def _show(self, events: list[Any]) -> None:
        table = self.query_one("#history-table", DataTable)
        for event in events:
            reward = "" if event.reward is None else f"{event.reward:+.2f}"
            table.add_row(
                _when(event.time), event.kind, event.name, event.artist, Text(reward, justify="right")
            )
        table.loading = False


class SearchScreen(ModalScreen[tuple[Track, bool] | None]):
    """Search the catalog; enter plays the highlighted song now, ctrl+n puts it next in the queue."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="dj.search.close"),
        Binding("ctrl+n", "choose(False)", "Queue next", id="dj.search.enqueue", priority=True),
        Binding("down", "focus_results", "Results", show=False, id="dj.search.results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._results: tuple[Track, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box", classes="dialog"):
            yield Input(placeholder="title, artist or album", id="search-input")
            table: DataTable[str] = DataTable(id="search-results", cursor_type="row")
            table.add_column("Title", key="title", width=28)
            table.add_column("Artist", key="artist", width=18)
            table.add_column("Genre", key="genre", width=12)
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search-box").border_title = "Search the catalog"
        self.query_one("#search-input", Input).focus()

    @on(Input.Changed, "#search-input")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: str) -> None:
        app: DJApp = self.app  # type: ignore[assignment]
        tracks = tuple(app.session.search(query, 50)) if query.strip() else ()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, tracks)

    def _show(self, tracks: tuple[Track, ...]) -> None:
        self._results = tracks
        table = self.query_one("#search-results", DataTable)
        table.clear()  # a new query is a new list: the cursor belongs at the top
        for track in tracks:
            table.add_row(track.name, track.artist, track.genre)

    def _highlighted(self) -> Track | None:
        row = self.query_one("#search-results", DataTable).cursor_row
        return self._results[row] if 0 <= row < len(self._results) else None

    def action_focus_results(self) -> None:
        self.query_one("#search-results", DataTable).focus()

    def action_choose(self, now: bool) -> None:
        track = self._highlighted()
        if track is not None:
            self.dismiss((track, now))

    @on(Input.Submitted, "#search-input")
    def _submitted(self) -> None:
        self.action_choose(True)

    @on(DataTable.RowSelected, "#search-results")
    def _row_selected(self) -> None:
        self.action_choose(True)
