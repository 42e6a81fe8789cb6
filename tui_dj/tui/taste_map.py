"""The taste map: every song of the catalog as a braille density on the plane prep fitted, and on
it where the taste, the songs reacted to, the head of Up next and the DJ's exploratory picks lie.

The plane (each song's place) and the density behind the marks are computed once per catalog and
size; a view only moves a dozen marks, so a key costs a few hundred cells of Python, not a pass
over the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tui_dj.catalog.projection import projection_of

if TYPE_CHECKING:
    from tui_dj.catalog.model import Catalog
    from tui_dj.session import SessionView

# A braille cell is 2 dots wide and 4 high; the bit of each dot (column, row).
_DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], np.int32)
# What each mark means, drawn in this order (a later mark covers an earlier one in the same cell).
MARKS: dict[str, tuple[str, str]] = {
    "finish": ("·", "played"),
    "skip": ("-", "skipped"),
    "dislike": ("×", "disliked"),
    "like": ("+", "liked"),
    "explore": ("?", "explore"),
    "next": ("▸", "next"),
    "now": ("●", "now"),
    "taste": ("◆", "taste"),
}
_LEGEND_ORDER = ("taste", "now", "next", "explore", "like", "finish", "skip", "dislike")
# The outermost songs would squeeze the rest into a corner: the plane spans these quantiles (of
# every 8th song: the edges of a big catalog are as sure from an eighth of it, at an eighth the cost).
_EDGE = (0.5, 99.5)
_EDGE_STEP = 8

Mark = tuple[int, int, str]  # (cell column, cell row, kind)


class MapPlane:
    """The songs of one catalog on the unit square, and where a taste vector would sit among them."""

    def __init__(self, catalog: Catalog) -> None:
        self.projection = projection_of(catalog)
        xy = self.projection.project(catalog.features)
        edges = np.percentile(xy[::_EDGE_STEP], _EDGE, axis=0) if len(xy) else np.array([[0.0, 0.0], [1.0, 1.0]])
        self._low, high = edges.astype(np.float32)
        self._span = np.where(high > self._low, high - self._low, 1.0).astype(np.float32)
        self.unit = self._to_unit(xy)  # (n, 2) in [0, 1]

    def _to_unit(self, xy: np.ndarray) -> np.ndarray:
        return np.clip((xy - self._low) / self._span, 0.0, 1.0).astype(np.float32)

    def place(self, scaled: tuple[float, ...] | np.ndarray) -> tuple[float, float]:
        """Where nine scaled features (a taste vector) sit on the unit square."""
        x, y = self._to_unit(self.projection.project(np.asarray(scaled, np.float32)[None, :]))[0]
        return float(x), float(y)

    def dots(self, width: int, height: int) -> np.ndarray:
        """How many songs fall on each braille dot of a `width` x `height` cell grid: (4h, 2w)."""
        cols, rows = 2 * width, 4 * height
        if not len(self.unit) or cols <= 0 or rows <= 0:
            return np.zeros((max(rows, 0), max(cols, 0)), np.int64)
        ix = np.minimum((self.unit[:, 0] * cols).astype(np.int64), cols - 1)
        iy = np.minimum(((1.0 - self.unit[:, 1]) * rows).astype(np.int64), rows - 1)  # up is up
        return np.bincount(iy * cols + ix, minlength=rows * cols).reshape(rows, cols)


def density_cells(counts: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each row of cells as braille text (a dot where songs are), and each cell's tier: 0 empty,
    1 few, 2 more, 3 the densest (by the quantiles of the cells that hold songs)."""
    rows, cols = counts.shape[0] // 4, counts.shape[1] // 2
    if rows == 0 or cols == 0:
        return [], np.zeros((rows, cols), np.int8)
    held = counts[counts > 0]
    # On a big catalog nearly every dot holds a song; leaving out the thinnest keeps the shape.
    floor = max(1.0, float(np.quantile(held, 0.2)) / 2) if len(held) else 1.0
    lit = (counts >= floor).reshape(rows, 4, cols, 2)
    codes = (lit * _DOT_BITS[None, :, None, :]).sum(axis=(1, 3))
    text = ["".join(chr(0x2800 + c) if c else " " for c in row) for row in codes.tolist()]
    per_cell = counts.reshape(rows, 4, cols, 2).sum(axis=(1, 3))
    filled = per_cell[per_cell > 0]
    tiers = np.zeros((rows, cols), np.int8)
    if len(filled):
        low, high = np.quantile(filled, [0.5, 0.85])
        tiers[per_cell > 0] = 1
        tiers[per_cell > low] = 2
        tiers[per_cell > high] = 3
    return text, tiers


def view_marks(view: SessionView, plane: MapPlane, width: int, height: int) -> tuple[Mark, ...]:
    """The marks a view puts on a `width` x `height` map, in drawing order."""
    if width <= 0 or height <= 0:
        return ()

    def cell(x: float, y: float) -> tuple[int, int]:
        return min(int(x * width), width - 1), min(int((1.0 - y) * height), height - 1)

    def song(row: int, kind: str) -> Mark | None:
        if not 0 <= row < len(plane.unit):
            return None
        x, y = plane.unit[row]
        return (*cell(float(x), float(y)), kind)

    marks = [song(row, reaction) for row, reaction in view.reacted if reaction in MARKS]
    marks += [song(entry.track.row, "explore") for entry in view.queue if entry.why == "explore"]
    if view.queue:
        marks.append(song(view.queue[0].track.row, "next"))
    if view.now_playing is not None:
        marks.append(song(view.now_playing.row, "now"))
    if view.taste:
        marks.append((*cell(*plane.place(tuple(row.scaled for row in view.taste))), "taste"))
    order = {kind: i for i, kind in enumerate(MARKS)}
    return tuple(sorted((m for m in marks if m is not None), key=lambda m: order[m[2]]))


def _by_row(marks: tuple[Mark, ...]) -> dict[int, dict[int, str]]:
    """{row: {column: kind}} of the marks as drawn: the last mark drawn in a cell wins."""
    by_row: dict[int, dict[int, str]] = {}
    for x, y, kind in marks:
        by_row.setdefault(y, {})[x] = kind
    return by_row


class TasteMap(Widget):
    """The catalog's songs as a density, and this session's marks on it (`m` shows or hides it)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "taste-map--few", "taste-map--more", "taste-map--most", "taste-map--legend",
        *(f"taste-map--{kind}" for kind in MARKS),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._catalog: Catalog | None = None
        self._plane: MapPlane | None = None
        self._view: SessionView | None = None
        self._density: tuple[tuple[int, int], list[str], np.ndarray] | None = None
        self._strips: list[Strip] = []
        self._strips_key: tuple[Any, ...] | None = None
        self._marks: tuple[tuple[Any, Any, tuple[int, int]], tuple[Mark, ...]] = ((None, None, (0, 0)), ())
        self._styles: dict[str, Any] = {}
        self._plain_rows: dict[int, Strip] = {}  # the rows no mark falls on, at `_styled_for`
        self._styled_for: tuple[Any, ...] | None = None

    @property
    def plane(self) -> MapPlane | None:
        """The catalog on the plane, worked out the first time the map is drawn."""
        if self._plane is None and self._catalog is not None:
            self._plane = MapPlane(self._catalog)
        return self._plane

    def show_catalog(self, catalog: Catalog) -> None:
        if catalog is not self._catalog:
            self._catalog, self._plane, self._density = catalog, None, None
            self._strips_key = self._styled_for = None
            self.refresh()

    def show(self, view: SessionView) -> None:
        if view is self._view:
            return
        drawn = self._strips_key[2] if self._strips_key is not None else None  # the marks on screen
        self._view = view
        if not self.display:
            return  # hidden, nothing is worked out until it shows
        if drawn is None:
            self.refresh()
            return
        # Only the rows whose marks moved are drawn again: the density under them stays.
        before, after = _by_row(drawn), _by_row(self.marks())
        width = self.content_size.width
        for y in sorted(set(before) | set(after)):
            if before.get(y) != after.get(y):
                self.refresh(Region(0, y, width, 1))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_key = self._styled_for = None

    def marks(self) -> tuple[Mark, ...]:
        """The marks at the map's present size (for tests, and the strips)."""
        plane, grid = self.plane, self._grid()
        if plane is None or self._view is None:
            return ()
        (view, for_plane, for_grid), marks = self._marks
        # Asked for once a line, worked out once a view (compared by identity: a view's equality
        # would compare every song in it).
        if view is not self._view or for_plane is not plane or for_grid != grid:
            marks = view_marks(self._view, plane, *grid)
            self._marks = ((self._view, plane, grid), marks)
        return marks

    def _grid(self) -> tuple[int, int]:
        """The cells of the map itself: the content, less a legend line when there is room for one."""
        width, height = self.content_size
        return width, height - 1 if height >= 6 else height

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        marks = self.marks()
        key = (self.content_size, self.styles._cache_key, marks, self.plane is None)
        if key != self._strips_key:
            self._strips = self._render_strips(marks)
            self._strips_key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def _render_strips(self, marks: tuple[Mark, ...]) -> list[Strip]:
        plane, (width, height) = self.plane, self._grid()
        if plane is None or width <= 0 or height <= 0:
            return []
        style_key = (width, height, self.styles._cache_key)
        if self._density is None or self._density[0] != (width, height):
            self._density = ((width, height), *density_cells(plane.dots(width, height)))
        if self._styled_for != style_key:
            # Each style lookup walks the CSS of every ancestor: once a size and theme, not a key;
            # and so are the rows no mark falls on, which are most of them.
            base = self.visual_style.rich_style
            self._styles = {name: base + self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES}
            self._plain_rows = {}
            self._styled_for = style_key
        by_row = _by_row(marks)
        strips = []
        for y in range(height):
            on_row = by_row.get(y)
            if on_row:
                strips.append(self._row(y, width, on_row))
            else:
                if y not in self._plain_rows:
                    self._plain_rows[y] = self._row(y, width, {})
                strips.append(self._plain_rows[y])
        if height < self.content_size.height:
            base = self.visual_style.rich_style
            strips.append(Strip(self._legend(width, self._styles)).adjust_cell_length(width, base))
        return strips

    def _row(self, y: int, width: int, on_row: dict[int, str]) -> Strip:
        """Row `y` of the density, with the marks of `on_row` ({cell column: kind}) over it."""
        assert self._density is not None
        _, text, tiers = self._density
        style = self._styles
        tier_style = (self.visual_style.rich_style, style["taste-map--few"], style["taste-map--more"],
                      style["taste-map--most"])
        row, row_tiers = text[y], tiers[y].tolist()
        segments: list[Segment] = []
        start, run_style = 0, tier_style[0]
        for x in range(width):
            kind = on_row.get(x)
            cell_style = style[f"taste-map--{kind}"] if kind else tier_style[row_tiers[x]]
            if kind or cell_style is not run_style:
                if x > start:
                    segments.append(Segment(row[start:x], run_style))
                start, run_style = x, cell_style
            if kind:
                segments.append(Segment(MARKS[kind][0], cell_style))
                start = x + 1
        if width > start:
            segments.append(Segment(row[start:], run_style))
        return Strip(segments, width)

    def _legend(self, width: int, style: dict[str, Any]) -> list[Segment]:
        """What each mark means, as many as fit."""
        segments: list[Segment] = []
        used = 0
        for kind in _LEGEND_ORDER:
            glyph, word = MARKS[kind]
            needed = len(glyph) + len(word) + (1 if segments else 0)
            if used + needed > width:
                break
            if segments:
                segments.append(Segment(" ", style["taste-map--legend"]))
            segments += [Segment(glyph, style[f"taste-map--{kind}"]), Segment(word, style["taste-map--legend"])]
            used += needed
        return segments

    def render(self) -> Text:
        """The same picture as plain text (for anything that asks for the content)."""
        strips = self._render_strips(self.marks())
        return Text("\n".join(strip.text for strip in strips), no_wrap=True, overflow="crop")
