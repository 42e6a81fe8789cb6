"""The panels of the main screen: now playing, the taste bars, the live tables and the stats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Label, ProgressBar, Sparkline, Static

from tui_dj.catalog.model import Track
from tui_dj.tui.messages import SessionView, TasteRow

SHORT_LABELS = {
    "acousticness": "acoustic",
    "danceability": "dance",
    "energy": "energy",
    "instrumentalness": "instrum.",
    "liveness": "live",
    "loudness": "loudness",
    "speechiness": "speech",
    "tempo": "tempo",
    "valence": "valence",
}


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def signed(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:+.{digits}f}"


class NowPlaying(Vertical):
    """Title, artist and genre of the song playing, and how far through it we are (simulated)."""

    def compose(self) -> ComposeResult:
        yield Label("Opening the catalog and the DJ's model…", id="np-title")
        with Horizontal(id="np-line"):
            yield Label("▶", id="np-state")
            yield ProgressBar(total=1.0, show_eta=False, show_percentage=False, id="np-progress")
            yield Label("0:00 / 0:00", id="np-time")

    _showing: tuple[Any, ...] | None = None
    _progress: tuple[Any, ...] | None = None

    def show_track(self, track: Track | None, rated: str | None) -> None:
        if (track, rated) == self._showing:
            return
        self._showing = (track, rated)
        title = self.query_one("#np-title", Label)
        if track is None:
            title.update("Nothing playing")
            return
        text = Text.assemble(
            (track.name, "bold"), " — ", track.artist, (f"  · {track.genre}" if track.genre else "")
        )
        if rated:
            text.append("  ♥ liked" if rated == "like" else f"  ({rated})", style="italic")
        title.update(text)

    def show_progress(self, fraction: float, duration_s: float, paused: bool) -> None:
        if (fraction, duration_s, paused) == self._progress:
            return
        self._progress = (fraction, duration_s, paused)
        self.query_one("#np-state", Label).update("⏸" if paused else "▶")
        self.query_one("#np-progress", ProgressBar).update(progress=min(1.0, fraction))
        self.query_one("#np-time", Label).update(
            f"{clock(fraction * duration_s)} / {clock(duration_s)}"
        )


class TasteBars(Widget):
    """The nine features of the taste vector as labelled bars, with raw values and their drift."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "taste--label", "taste--bar", "taste--empty", "taste--value", "taste--up", "taste--down"
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: tuple[TasteRow, ...] = ()
        self._previous: dict[str, float] = {}

    def show(self, rows: tuple[TasteRow, ...]) -> None:
        if rows == self._rows:
            return
        self._previous = {r.name: r.scaled for r in self._rows}
        self._rows = rows
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width or 36
        label_w = 16 if width >= 44 else 8
        value_w = 8
        bar_w = max(4, width - label_w - value_w - 4)
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="crop")
        for i, row in enumerate(self._rows):
            label = row.name if label_w >= 16 else SHORT_LABELS.get(row.name, row.name[:8])
            filled = round(max(0.0, min(1.0, row.scaled)) * bar_w)
            before = self._previous.get(row.name)
            if before is None or abs(row.scaled - before) < 5e-4:
                arrow, arrow_style = " ", ""
            elif row.scaled > before:
                arrow, arrow_style = "▲", "taste--up"
            else:
                arrow, arrow_style = "▼", "taste--down"
            out.append(f"{label:<{label_w}} ", style("taste--label"))
            out.append("█" * filled, style("taste--bar"))
            out.append("░" * (bar_w - filled), style("taste--empty"))
            out.append(f" {row.raw:>{value_w}.3f} ", style("taste--value"))
            out.append(arrow, style(arrow_style) if arrow_style else "")
            if i < len(self._rows) - 1:
                out.append("\n")
        return out


class LiveTable(DataTable[Any]):
    """A table whose rows are keyed by position and updated in place, so the cursor stays put."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Play", id="dj.play_row", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._items: tuple[Any, ...] = ()
        self._shown: list[dict[str, Any]] = []  # the cells on screen, row by row
        self._layout: tuple[tuple[str, str, int], ...] = ()

    def layout_for(self, width: int) -> tuple[tuple[str, str, int], ...]:
        """(key, label, width) of each column for a table this wide."""
        raise NotImplementedError

    def cells(self, item: Any, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def item_at(self, row: int) -> Any | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def on_resize(self) -> None:
        layout = self.layout_for(self.size.width)
        if layout != self._layout:
            self._layout = layout
            cursor = self.cursor_row
            self.clear(columns=True)
            self._shown = []
            for key, label, width in layout:
                self.add_column(label, key=key, width=width)
            self._fill(self._items)
            if self.row_count:
                self.move_cursor(row=min(cursor, self.row_count - 1), animate=False)

    def show(self, items: Sequence[Any]) -> None:
        self._items = tuple(items)
        if self._layout:
            with self.app.batch_update():
                self._fill(self._items)

    def _fill(self, items: tuple[Any, ...]) -> None:
        keys = [key for key, _, _ in self._layout]
        shown = self._shown
        for i, item in enumerate(items):
            cells = self.cells(item, i)
            row_key = f"r{i}"
            if i < self.row_count:
                # Only the cells that changed: each update drops that row's render cache.
                before = shown[i] if i < len(shown) else {}
                for key in keys:
                    value = cells.get(key, "")
                    if before.get(key) != value:
                        self.update_cell(row_key, key, value)
            else:
                self.add_row(*(cells.get(key, "") for key in keys), key=row_key)
            if i < len(shown):
                shown[i] = cells
            else:
                shown.append(cells)
        for i in range(self.row_count - 1, len(items) - 1, -1):
            self.remove_row(f"r{i}")
        del shown[len(items):]


def _split(width: int, fixed: int, shares: Sequence[int]) -> list[int]:
    """Share what is left of `width` after `fixed` cells between flexible columns."""
    free = max(len(shares) * 6, width - fixed)
    total = sum(shares)
    sizes = [max(6, free * s // total) for s in shares]
    sizes[0] += max(0, free - sum(sizes))
    return sizes


class QueueTable(LiveTable):
    """The next songs, best first. Enter (or a click on the highlighted row) plays one now."""

    def layout_for(self, width: int) -> tuple[tuple[str, str, int], ...]:
        pad = 2  # one cell of padding each side of a column
        if width >= 60:
            title, artist, genre = _split(width - 4, pad * 4 + 3, (5, 3, 2))
            return (("n", "#", 2), ("title", "Title", title), ("artist", "Artist", artist),
                    ("genre", "Genre", genre))
        title, artist = _split(width - 3, pad * 2, (3, 2))
        return (("title", "Title", title), ("artist", "Artist", artist))

    def cells(self, item: Track, index: int) -> dict[str, Any]:
        return {"n": str(index + 1), "title": item.name, "artist": item.artist, "genre": item.genre}


class QTable(LiveTable):
    """The agent's top candidates with their Q-values and the change since the last key."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"qtable--up", "qtable--down"}

    def layout_for(self, width: int) -> tuple[tuple[str, str, int], ...]:
        pad = 2
        num = 7
        if width >= 60:
            title, artist = _split(width - 4, pad * 4 + num * 2, (3, 2))
            return (("title", "Song", title), ("artist", "Artist", artist),
                    ("q", "Q", num), ("delta", "Δ", num))
        (title,) = _split(width - 3, pad * 3 + num * 2, (1,))
        return (("title", "Song", title), ("q", "Q", num), ("delta", "Δ", num))

    def cells(self, item: Any, index: int) -> dict[str, Any]:
        delta = item.delta
        if delta is None:
            delta_cell = Text("new", justify="right")
        else:
            name = "qtable--up" if delta > 0 else "qtable--down" if delta < 0 else ""
            delta_cell = Text(
                signed(delta), style=self.get_component_rich_style(name) if name else "",
                justify="right",
            )
        return {
            "title": item.track.name,
            "artist": item.track.artist,
            "q": Text(f"{item.q:.3f}", justify="right"),
            "delta": delta_cell,
        }


class StatsPanel(Vertical):
    """Likes, skips, reward so far, a sparkline of recent rewards and the last update's time."""

    _text = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="stats-text")
        yield Sparkline([], id="stats-rewards")

    def show(self, view: SessionView) -> None:
        s = view.stats
        update = "—" if s.last_update_ms is None else f"{s.last_update_ms:.1f} ms"
        text = (
            f"plays {s.plays}  likes {s.likes}  finished {s.finishes}\n"
            f"skips {s.skips}  dislikes {s.dislikes}\n"
            f"reward {s.total_reward:+.2f}  update {update}"
        )
        if text != self._text:
            self._text = text
            self.query_one("#stats-text", Static).update(text)
        sparkline = self.query_one("#stats-rewards", Sparkline)
        if list(s.recent_rewards) != sparkline.data:
            sparkline.data = list(s.recent_rewards)
