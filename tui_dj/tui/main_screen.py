"""The console's main screen: now playing (and its cover), the queue, the taste bars, the Q-table,
the taste map and the stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_dj.tui.fast_table import LiveTable
from tui_dj.tui.messages import Requested
from tui_dj.tui.screens import HelpScreen, HistoryScreen, SearchScreen
from tui_dj.tui.taste_map import TasteMap
from tui_dj.tui.widgets import KeyFooter, NowPlaying, QTable, QueueTable, StatsPanel, TasteBars

if TYPE_CHECKING:
    from tui_dj.catalog import Catalog
    from tui_dj.session import SessionView


_KEY_NAMES = {"enter": "enter", "right": "→", "left": "←", "down": "↓", "space": "space", "escape": "esc",
              "tab": "tab"}

# Below this the console shows only a request for a bigger terminal.
MIN_WIDTH, MIN_HEIGHT = 40, 12
# The cover shows from this size up, the taste map unasked from this one; shorter than
# MAP_MIN_HEIGHT the lower row (and the map in it) folds away.
ART_SIZE, MAP_SIZE, MAP_MIN_HEIGHT = (90, 30), (120, 40), 22
# The footer's keys, most wanted first: when they do not all fit, the last ones are left out.
FOOTER_KEEP = ("app.quit", "help", "react('like')", "react('skip')", "react('dislike')", "undo", "pause",
               "search", "history")


class MainScreen(Screen[None]):
    """Shows the latest `SessionView`; each key becomes one `Requested` message to the app."""

    # `right` and `space` would be taken by the focused table first, so these keys come first.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "react('like')", "Like", id="dj.like",
                tooltip="Like this song (it plays on)"),
        Binding("n", "react('skip')", "Skip", id="dj.skip", priority=True,
                tooltip="Skip to the next song (a like stands)"),
        # Its own id, hidden from the footer, so the footer names the skip key the README does.
        Binding("right", "react('skip')", "Skip", id="dj.skip_arrow", priority=True, show=False,
                tooltip="Skip too (remapped apart from n)"),
        Binding("d", "react('dislike')", "Dislike", id="dj.dislike",
                tooltip="Dislike: never play it again; move on"),
        Binding("u", "undo", "Undo", id="dj.undo", tooltip="Undo the last reaction (taste, network too)"),
        Binding("space", "pause", "Pause", id="dj.pause", priority=True,
                tooltip="Pause or resume the song"),
        Binding("comma", "seek(-10)", "Back", id="dj.seek_back", show=False, tooltip="Seek back 10 seconds"),
        Binding("full_stop", "seek(10)", "Forward", id="dj.seek_forward", show=False,
                tooltip="Seek forward 10 seconds"),
        Binding("minus", "volume(-10)", "Quieter", id="dj.volume_down", show=False, tooltip="Volume down"),
        Binding("plus,equals_sign", "volume(10)", "Louder", id="dj.volume_up", show=False, tooltip="Volume up"),
        Binding("slash", "search", "Search", id="dj.search",
                tooltip="Search: enter plays, ctrl+n queues next"),
        Binding("h", "history", "History", id="dj.history", tooltip="This profile's listening history"),
        Binding("m", "toggle_map", "Map", id="dj.map", show=False,
                tooltip="Show or hide the taste map (shown unasked at 120x40 and up)"),
        Binding("question_mark", "help", "Help", id="dj.help", tooltip="This list of keys"),
        Binding("q", "app.quit", "Quit", id="dj.quit", tooltip="Save what was learned and quit"),
    ]
    # The panels fold as the terminal shrinks (dj.tcss says how), Now playing and Up next last:
    # narrower than 70, the taste and the stats leave the side of their tables (and stack under
    # them when there is height for it: the taste from 34 lines, the stats from 46); lower than
    # 22, the Q-table and the stats go; lower than 16, the taste too; below 40x12 there is only a
    # request for a bigger terminal.
    HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (MIN_WIDTH, "-narrow"), (70, "-medium"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-too-short"), (MIN_HEIGHT, "-short"), (16, "-compact"), (22, "-regular"),
                            (34, "-tall"), (46, "-roomy")]

    def __init__(self, keymap: dict[str, str] | None = None, on_drawn: Callable[[], object] | None = None) -> None:
        super().__init__()
        self._user_keymap = dict(keymap or {})  # for the help's list of the other screens' keys
        self._model: str | None = None
        self._on_drawn = on_drawn  # called once the panels are first on screen

    def compose(self) -> ComposeResult:
        yield Static("", id="too-small")
        yield NowPlaying(id="now")
        with Horizontal(id="top"):
            yield QueueTable(id="queue")
            yield TasteBars(id="taste")
        with Horizontal(id="bottom"):
            yield QTable(id="qtable")
            yield TasteMap(id="map")
            yield StatsPanel(id="stats")
        yield KeyFooter(FOOTER_KEEP, compact=True, show_command_palette=False)

    def on_resize(self) -> None:
        width, height = self.size
        self._size_extras(width, height)
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            self.query_one("#too-small", Static).update(
                f"Make the terminal at least {MIN_WIDTH}×{MIN_HEIGHT} (it is {width}×{height} now)."
            )

    def on_mount(self) -> None:
        titles = {"now": "Now playing", "queue": "Up next", "taste": "Taste",
                  "qtable": "Q-values", "stats": "Session", "map": "Taste map"}
        for widget_id, title in titles.items():
            self.query_one(f"#{widget_id}").border_title = title
        self.query_one(QTable).border_subtitle = "▶ plays next"
        self.query_one("#queue", QueueTable).focus()
        if self._on_drawn is not None:
            # Once for the screen's layout, once more for the frame it makes.
            self.call_after_refresh(self.call_after_refresh, self._on_drawn)

    def show_view(self, view: SessionView) -> None:
        with self.app.batch_update():
            now = self.query_one(NowPlaying)
            title = "Now playing · read-only: reactions are not saved" if view.read_only else "Now playing"
            if now.border_title != title:  # setting it repaints the panel, even to the same text
                now.border_title = title
            now.show_track(view.now_playing, view.reaction, view.read_only)
            self.query_one(QueueTable).show(view.queue)
            # What plays next is the head of Up next (a chosen song, or the DJ's pick).
            self.query_one(QTable).show_rows(view.q_rows, view.queue[0].track if view.queue else None)
            self.query_one(TasteBars).show(view.taste)
            self.query_one(StatsPanel).show(view)
            self.query_one(TasteMap).show(view)

    # -- the cover and the taste map ---------------------------------------------------------------
    # The map is a panel of its own at 120x40 and up; `m` shows or hides it at any size where the
    # lower row shows. The cover needs 90x30: below that Now playing keeps its two lines.
    _map_choice: bool | None = None  # what `m` asked for; None: as the size has it

    def _size_extras(self, width: int, height: int) -> None:
        self.set_class(width >= ART_SIZE[0] and height >= ART_SIZE[1], "-art")
        roomy = width >= MAP_SIZE[0] and height >= MAP_SIZE[1]
        self.set_class(roomy if self._map_choice is None else self._map_choice, "-map")

    def show_catalog(self, catalog: Catalog) -> None:
        """The catalog the session plays from: the taste map's songs."""
        self.query_one(TasteMap).show_catalog(catalog)

    def action_toggle_map(self) -> None:
        self._map_choice = not self.has_class("-map")
        self._size_extras(*self.size)
        if self._map_choice and self.size.height < MAP_MIN_HEIGHT:
            self.notify(f"The taste map needs a terminal at least {MAP_MIN_HEIGHT} rows tall.", timeout=4)

    def show_progress(self, fraction: float, duration_s: float, paused: bool, stopped: bool = False) -> None:
        self.query_one(NowPlaying).show_progress(fraction, duration_s, paused, stopped)

    def show_volume(self, volume: int) -> None:
        """The volume, on Now playing's lower border (it stays there once changed)."""
        self.query_one(NowPlaying).border_subtitle = f"volume {volume}%"

    def show_model(self, description: str) -> None:
        """Which model the session plays with: in the stats panel, and in the help."""
        self._model = description
        self.query_one(StatsPanel).show_model(description)

    def key_list(self) -> list[tuple[str, str, str]]:
        """Every key of the console as (keys, what they do, binding id), as the user's keymap has
        them: this screen's, then the other screens'. The ids are what keymap.toml names."""
        keys_by_id: dict[str, list[str]] = {}
        for key, active in self.active_bindings.items():
            binding_id = active.binding.id
            if binding_id and binding_id.startswith("dj."):
                keys_by_id.setdefault(binding_id, []).append(self._key_name(key))

        def bindings(owner: Any) -> list[Binding]:
            return [b for b in owner.BINDINGS if isinstance(b, Binding) and b.id]

        rows = []
        for binding in bindings(self):
            rows.append(self._row(binding, keys_by_id))
            if binding.id == "dj.skip_arrow":
                rows.extend(self._row(b, keys_by_id, "Play the highlighted row now (or click it)")
                            for b in bindings(LiveTable))
        rows.append(("tab", "Move between the queue and the Q-table", ""))
        rows.extend(self._row(b, keys_by_id) for b in bindings(self.app))
        for where, screen in (("Help", HelpScreen), ("History", HistoryScreen), ("Search", SearchScreen)):
            rows.extend(self._row(b, keys_by_id, f"{where}: {b.tooltip or b.description}") for b in bindings(screen))
        return rows

    def _row(self, binding: Binding, keys_by_id: dict[str, list[str]], does: str = "") -> tuple[str, str, str]:
        """(keys, what they do, id): the keys bound now, else as the keymap or the binding has them."""
        assert binding.id is not None
        keys = keys_by_id.get(binding.id) or [
            self._key_name(k.strip()) for k in self._user_keymap.get(binding.id, binding.key).split(",")
        ]
        return " ".join(dict.fromkeys(keys)), does or binding.tooltip or binding.description, binding.id

    def _key_name(self, key: str) -> str:
        if key.startswith("ctrl+"):
            return key  # as keymap.toml spells it, not ^c
        return _KEY_NAMES.get(key) or self.app.get_key_display(Binding(key, ""))

    def action_react(self, reaction: Literal["like", "skip", "dislike"]) -> None:
        self.post_message(Requested(reaction))

    def action_undo(self) -> None:
        self.post_message(Requested("undo"))

    def action_pause(self) -> None:
        self.post_message(Requested("pause"))

    def action_seek(self, seconds: int) -> None:
        self.post_message(Requested("seek", seconds))

    def action_volume(self, change: int) -> None:
        self.post_message(Requested("volume", change))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.key_list(), self._model))

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
            self.post_message(Requested("play", item.track.row))
