"""The console's main screen: now playing, the queue, the taste bars, the Q-table and the stats."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from tui_dj.tui.fast_table import LiveTable
from tui_dj.tui.messages import Requested
from tui_dj.tui.screens import HelpScreen
from tui_dj.tui.widgets import NowPlaying, QTable, QueueTable, StatsPanel, TasteBars

if TYPE_CHECKING:
    from tui_dj.session import SessionView


_KEY_NAMES = {"enter": "enter", "right": "→", "left": "←", "space": "space", "escape": "esc",
              "tab": "tab"}


class MainScreen(Screen[None]):
    """Shows the latest `SessionView`; each key becomes one `Requested` message to the app."""

    # `right` and `space` would be taken by the focused table first, so these keys come first.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "react('like')", "Like", id="dj.like",
                tooltip="Like this song (it plays on; n then moves on, still liked)"),
        Binding("n", "react('skip')", "Skip", id="dj.skip", priority=True,
                tooltip="Skip to the next song (after a like: just move on)"),
        # Its own id, hidden from the footer, so the footer names the skip key the README does.
        Binding("right", "react('skip')", "Skip", id="dj.skip_arrow", priority=True, show=False,
                tooltip="Skip to the next song (after a like: just move on)"),
        Binding("d", "react('dislike')", "Dislike", id="dj.dislike",
                tooltip="Dislike: never play it again (this profile); move on"),
        Binding("u", "undo", "Undo", id="dj.undo", tooltip="Undo the last reaction (history, taste and network)"),
        Binding("space", "pause", "Pause", id="dj.pause", priority=True,
                tooltip="Pause or resume the song"),
        Binding("slash", "search", "Search", id="dj.search",
                tooltip="Search: enter plays a song now, ctrl+n queues it next"),
        Binding("h", "history", "History", id="dj.history", tooltip="This profile's listening history"),
        Binding("question_mark", "help", "Help", id="dj.help", tooltip="Help: this list of keys"),
        Binding("q", "app.quit", "Quit", id="dj.quit", tooltip="Save what was learned and quit"),
    ]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def compose(self) -> ComposeResult:
        yield NowPlaying(id="now")
        with Horizontal(id="top"):
            yield QueueTable(id="queue")
            yield TasteBars(id="taste")
        with Horizontal(id="bottom"):
            yield QTable(id="qtable")
            yield StatsPanel(id="stats")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        titles = {"now": "Now playing", "queue": "Up next", "taste": "Taste",
                  "qtable": "Q-values", "stats": "Session"}
        for widget_id, title in titles.items():
            self.query_one(f"#{widget_id}").border_title = title
        self.query_one("#queue", QueueTable).focus()

    def show_view(self, view: SessionView) -> None:
        with self.app.batch_update():
            now = self.query_one(NowPlaying)
            title = "Now playing · read-only: reactions are not saved" if view.read_only else "Now playing"
            if now.border_title != title:  # setting it repaints the panel, even to the same text
                now.border_title = title
            now.show_track(view.now_playing, view.reaction, view.read_only)
            self.query_one(QueueTable).show(view.queue)
            self.query_one(QTable).show(view.q_rows)
            self.query_one(TasteBars).show(view.taste)
            self.query_one(StatsPanel).show(view)

    def show_progress(self, fraction: float, duration_s: float, paused: bool) -> None:
        self.query_one(NowPlaying).show_progress(fraction, duration_s, paused)

    def key_list(self) -> list[tuple[str, str]]:
        """Every console key, as remapped by the user's keymap, for the help screen."""
        by_id: dict[str, tuple[list[str], str]] = {}
        for key, active in self.active_bindings.items():
            binding = active.binding
            if binding.id and binding.id.startswith("dj."):
                group = "dj.skip" if binding.id == "dj.skip_arrow" else binding.id  # one help row
                keys, _ = by_id.setdefault(group, ([], binding.description))
                keys.append(_KEY_NAMES.get(key) or self.app.get_key_display(Binding(key, binding.action)))
        by_id.setdefault("dj.play_row", (["enter"], ""))
        rows = []
        for binding in (b for b in self.BINDINGS if isinstance(b, Binding)):
            if binding.id in by_id and binding.id != "dj.skip_arrow":
                rows.append((" ".join(by_id[binding.id][0]), binding.tooltip or binding.description))
            if binding.id == "dj.skip":
                rows.append((" ".join(by_id["dj.play_row"][0]),
                             "Play the highlighted row now (or click it twice)"))
        rows.append(("tab", "Move between the queue and the Q-table"))
        return rows

    def action_react(self, reaction: str) -> None:
        self.post_message(Requested(reaction))

    def action_undo(self) -> None:
        self.post_message(Requested("undo"))

    def action_pause(self) -> None:
        self.post_message(Requested("pause"))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.key_list()))

    def action_history(self) -> None:
        self.post_message(Requested("history"))

    def action_search(self) -> None:
        self.post_message(Requested("search"))

    @on(DataTable.RowSelected, "#queue, #qtable")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        assert isinstance(table, LiveTable)
        item = table.item_at(event.cursor_row)
        if item is not None:
            self.post_message(Requested("play", item.track.index))
