"""The panels of the main screen: now playing, the taste bars, the live tables and the stats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Label, ProgressBar, Static

from tui_dj.catalog.model import FEATURES, SOURCE_WORDS, Track
from tui_dj.session import QRow, QueueEntry, SessionView, TasteRow
from tui_dj.tui.cover import Cover
from tui_dj.tui.fast_table import LiveTable
from tui_dj.tui.reward_chart import RewardChart

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


def cell(text: str, justify: Literal["left", "right"] = "left") -> Text:
    """A table cell that ends with "…" when its column is too narrow for it. A plain string would
    be read as Rich markup (a title holding "[/]" would break the table) and cut without a mark."""
    return Text(text, no_wrap=True, overflow="ellipsis", justify=justify, end="")


def sources_line(sources: str) -> str:
    """Where a file's nine features came from, in one line that fits 80 columns: "features measured:
    dance, energy, loudness, tempo · estimated: the other 5" ("" for a song with no file). The
    largest group is the one not spelled out."""
    if not sources:
        return ""
    groups: dict[str, list[str]] = {}
    for code, name in zip(sources, FEATURES, strict=False):
        groups.setdefault(SOURCE_WORDS.get(code, code), []).append(SHORT_LABELS.get(name, name).rstrip("."))
    if len(groups) == 1:
        return f"features {next(iter(groups))}: all nine"
    largest = max(groups, key=lambda word: len(groups[word]))
    parts = [f"{word}: {', '.join(names)}" for word, names in groups.items() if word != largest]
    return "features " + " · ".join([*parts, f"{largest}: the other {len(groups[largest])}"])


class NowPlaying(Vertical):
    """Title, artist and genre of the song playing (and its album and where its features came from,
    for a music file), the player's state and how far through it is."""

    def compose(self) -> ComposeResult:
        yield Cover(id="np-cover")  # docked left, shown only where there is a picture and room
        yield Label("Opening the catalog and the DJ's model…", id="np-title")
        yield Label("", id="np-sources")
        with Horizontal(id="np-line"):
            yield Label("▶", id="np-state")
            yield ProgressBar(total=1.0, show_eta=False, show_percentage=False, id="np-progress")
            yield Label("0:00 / 0:00", id="np-time")

    _showing: tuple[Any, ...] | None = None
    _progress: tuple[Any, ...] | None = None
    _time_text = "0:00 / 0:00"

    def show_track(self, track: Track | None, reaction: str | None, read_only: bool = False) -> None:
        if (track, reaction, read_only) == self._showing:
            return
        self._showing = (track, reaction, read_only)
        self.query_one(Cover).show_song(track.path if track is not None else None)
        title = self.query_one("#np-title", Label)
        # The labels here have fixed sizes in dj.tcss: a new text needs a repaint, not a layout
        # of the whole screen (which re-renders every panel).
        line = sources_line(track.sources) if track is not None else ""
        if self.has_class("-file") != bool(line):
            self.set_class(bool(line), "-file")  # the sources line shows (and the panel grows) for files
        if line:
            self.query_one("#np-sources", Label).update(line, layout=False)
        if track is None:
            title.update("Nothing playing", layout=False)
            return
        album = f"  · {track.album}" if track.path and track.album else ""
        text = Text.assemble(
            (track.name, "bold"), " — ", track.artist, album, (f"  · {track.genre}" if track.genre else "")
        )
        if reaction:
            text.append("  ♥ liked" if reaction == "like" else f"  ({reaction})", style="italic")
            if read_only:
                text.append(" · not saved", style="italic")
        title.update(text, layout=False)

    def show_progress(self, fraction: float, duration_s: float, paused: bool, stopped: bool = False) -> None:
        """How far through the song; `stopped`: nothing plays (■ rather than ▶ or ⏸)."""
        before = self._progress
        if (fraction, duration_s, paused, stopped) == before:
            return
        self._progress = (fraction, duration_s, paused, stopped)
        if before is None or (paused, stopped) != before[2:]:
            state = "■" if stopped else "⏸" if paused else "▶"
            self.query_one("#np-state", Label).update(state, layout=False)
        if before is None or fraction != before[0]:
            self.query_one("#np-progress", ProgressBar).update(progress=min(1.0, fraction))
        time_text = f"{clock(fraction * duration_s)} / {clock(duration_s)}"
        if time_text != self._time_text:
            self._time_text = time_text
            self.query_one("#np-time", Label).update(time_text, layout=False)


class TasteBars(Widget):
    """The nine features of the taste vector as labelled bars, with raw values and their drift.

    Drawn line by line from plain segments: these bars change with every key, and going through a
    Rich `Text` (spans, then Textual's content conversion) cost more than the rest of the panel.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "taste--label", "taste--bar", "taste--empty", "taste--value", "taste--up", "taste--down"
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: tuple[TasteRow, ...] = ()
        self._previous: dict[str, float] = {}
        self._strips: list[Strip] = []
        self._strips_key: tuple[Any, ...] | None = None

    def show(self, rows: tuple[TasteRow, ...]) -> None:
        if rows == self._rows:
            return
        self._previous = {r.name: r.scaled for r in self._rows}
        self._rows = rows
        self._strips_key = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_key = None

    def render_line(self, y: int) -> Strip:
        if self.text_selection is not None:
            return super().render_line(y)  # Textual's path draws the mouse selection (via render)
        width = self.content_size.width
        key = (width, self.styles._cache_key)
        if key != self._strips_key:
            self._strips = self._render_strips(width)
            self._strips_key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def _render_strips(self, width: int) -> list[Strip]:
        base = self.visual_style.rich_style
        styles = {name: base + self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES}
        strips = []
        for row in self._rows_pieces(width):
            segments = [Segment(text, styles[name] if name else base) for text, name in row if text]
            strips.append(Strip(segments).crop(0, width))
        return strips

    def _rows_pieces(self, width: int) -> list[list[tuple[str, str]]]:
        """Each row as (text, component class) pieces, at this width."""
        width = width or 36
        label_w = 16 if width >= 44 else 8
        value_w = 8
        bar_w = max(4, width - label_w - value_w - 4)
        rows = []
        for row in self._rows:
            label = row.name if label_w >= 16 else SHORT_LABELS.get(row.name, row.name[:8])
            filled = round(max(0.0, min(1.0, row.scaled)) * bar_w)
            before = self._previous.get(row.name)
            if before is None or abs(row.scaled - before) < 5e-4:
                arrow, arrow_style = " ", ""
            elif row.scaled > before:
                arrow, arrow_style = "▲", "taste--up"
            else:
                arrow, arrow_style = "▼", "taste--down"
            rows.append([
                (f"{label:<{label_w}} ", "taste--label"),
                ("█" * filled, "taste--bar"),
                ("░" * (bar_w - filled), "taste--empty"),
                (f" {row.raw:>{value_w}.3f} ", "taste--value"),
                (arrow, arrow_style),
            ])
        return rows

    def render(self) -> Text:
        """The same picture as one Rich `Text` (for anything that asks for the content)."""
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="crop")
        pieces = self._rows_pieces(self.content_size.width)
        for i, row in enumerate(pieces):
            for text, name in row:
                out.append(text, style(name) if name else "")
            if i < len(pieces) - 1:
                out.append("\n")
        return out


Column = tuple[str, str, int]  # (key, label, width); for a flexible column, its share instead of a width
SCROLLBAR = 1  # the tables' vertical scrollbar (LiveTable's scrollbar-size-vertical in dj.tcss)
PAD = 2  # DataTable's cell padding: one cell each side of every column


def columns(width: int, fixed: Sequence[Column], flexible: Sequence[Column]) -> tuple[Column, ...]:
    """(key, label, width) of each column of a table `width` cells wide: the `fixed` ones as they
    are, the `flexible` ones sharing every cell left over in proportion to their third field, so
    that the columns fill the table and the text in them is cut (with "…") only when it must be."""
    free = width - SCROLLBAR - sum(w for _, _, w in fixed) - PAD * (len(fixed) + len(flexible))
    total = sum(share for _, _, share in flexible)
    sizes = [max(4, free * share // total) for _, _, share in flexible]
    sizes[0] += max(0, free - sum(sizes))
    return (*fixed, *((key, label, size) for (key, label, _), size in zip(flexible, sizes, strict=True)))


def order(layout: tuple[Column, ...], keys: Sequence[str]) -> tuple[Column, ...]:
    """The columns of `layout` in the order of `keys`."""
    by_key = {column[0]: column for column in layout}
    return tuple(by_key[k] for k in keys if k in by_key)


class QueueTable(LiveTable):
    """The next songs, best first. Enter (or a click on the highlighted row) plays one now."""

    def layout_for(self, width: int) -> tuple[Column, ...]:
        # Wider tables get more columns, never just wider ones.
        flexible: tuple[Column, ...]
        if width >= 90:
            flexible = (("title", "Title", 5), ("artist", "Artist", 4), ("album", "Album", 4), ("genre", "Genre", 2))
        elif width >= 56:
            flexible = (("title", "Title", 5), ("artist", "Artist", 4), ("genre", "Genre", 2))
        else:
            return columns(width, (), (("title", "Title", 3), ("artist", "Artist", 2)))
        return columns(width, (("n", "#", 2),), flexible)

    def cells(self, item: QueueEntry, index: int) -> dict[str, Any]:
        mark = {"chosen": "♪", "explore": "?"}.get(item.why, str(index + 1))
        track = item.track
        return {"n": mark, "title": cell(track.name), "artist": cell(track.artist),
                "album": cell(track.album), "genre": cell(track.genre)}


class QTable(LiveTable):
    """The agent's top candidates with their Q-values and the change since the last key; ▶ marks
    the one that plays next (the head of Up next), which need not be the top row."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"qtable--up", "qtable--down"}
    _next: Track | None = None

    def show_rows(self, rows: tuple[QRow, ...], next_track: Track | None) -> None:
        self._next = next_track
        self.show(rows)

    def layout_for(self, width: int) -> tuple[Column, ...]:
        numbers = (("next", "", 1), ("q", "Q", 7), ("delta", "Δ", 7))
        flexible: tuple[Column, ...]
        if width >= 90:
            flexible = (("title", "Song", 5), ("artist", "Artist", 4), ("genre", "Genre", 2))
        elif width >= 56:
            flexible = (("title", "Song", 4), ("artist", "Artist", 3))
        else:
            flexible = (("title", "Song", 1),)
        return order(columns(width, numbers, flexible), ("next", "title", "artist", "genre", "q", "delta"))

    _delta_styles: dict[str, Style | str] = {}  # replaced by each fill, never mutated

    def _fill(self, items: tuple[Any, ...]) -> None:
        # Each lookup walks the CSS of every ancestor: once a fill, not once a row.
        self._delta_styles = {name: self.get_component_rich_style(name)
                              for name in ("qtable--up", "qtable--down")}
        super()._fill(items)

    def cells(self, item: QRow, index: int) -> dict[str, Any]:
        delta = item.delta
        if delta is None:
            delta_cell = Text("new", justify="right")
        else:
            name = "qtable--up" if delta > 0 else "qtable--down" if delta < 0 else ""
            style = (self._delta_styles.get(name) or self.get_component_rich_style(name)) if name else ""
            delta_cell = Text(signed(delta), style=style, justify="right")
        return {
            "next": "▶" if item.track == self._next else "",
            "title": cell(item.track.name),
            "artist": cell(item.track.artist),
            "genre": cell(item.track.genre),
            "q": Text(f"{item.q:.3f}", justify="right"),
            "delta": delta_cell,
        }


class StatsPanel(Vertical):
    """Likes, skips, reward so far, the last update's time, which model plays (on two lines when
    it needs them), and a chart of the recent reactions' rewards."""

    _text = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="stats-text")
        yield Static("", id="stats-model")
        yield RewardChart(id="stats-rewards")

    def show_model(self, description: str) -> None:
        """Which model the session plays with (said once, when it opens)."""
        self.query_one("#stats-model", Static).update(f"model: {description}")

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
            self.query_one("#stats-text", Static).update(text, layout=False)  # height 3 in dj.tcss
        self.query_one(RewardChart).show(s.recent_rewards)


class KeyFooter(Footer):
    """The footer, which leaves out whole keys, the least used first, rather than cut one off.

    `keep` lists the bindings' actions, most wanted first; keys not in it go first.
    """

    def __init__(self, keep: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keep = {action: rank for rank, action in enumerate(keep)}

    async def recompose(self) -> None:
        await super().recompose()  # the keys are made afresh when the bindings change
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        keys: list[Any] = list(self.query_children("FooterKey"))  # each has its binding's `action`
        free = self.size.width
        for key in sorted(keys, key=lambda k: self._keep.get(k.action, len(self._keep))):
            text = key.render()
            needed = text.cell_len + key.styles.margin.width
            key.display = needed <= free
            if key.display:
                free -= needed
