"""A DataTable that updates rows in place and draws its one-line cells without Rich: the one file
that touches DataTable's internals (`_data`, `_update_count`, `_render_line_in_row`,
`_render_cell`, `_get_styles_to_render_cell`, `_get_row_renderables`, `_row_locations`, its
render caches).

The Q-table and the queue change with every key; rebuilding them throws the cursor to the top, and
DataTable lays every cell out through Rich's console after any update, which cost more per key than
the session's reaction. Textual is pinned to one major
version in pyproject.toml because of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


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
        self._painting_style: Style | None = None
        self._painting_header: Style | None = None
        self._painting_widths: list[int] = []  # the columns' widths, during a paint

    def layout_for(self, width: int) -> tuple[tuple[str, str, int], ...]:
        """(key, label, width) of each column for a table this wide."""
        raise NotImplementedError

    def cells(self, item: Any, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def item_at(self, row: int) -> Any | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def on_resize(self) -> None:
        self._reveal_rows_above()
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

    def _reveal_rows_above(self) -> None:
        """Scroll back as far as the cursor allows: rows scrolled away while the table was small
        come back when it grows, instead of staying hidden above a half-empty table."""
        visible = self.scrollable_content_region.height - self.header_height
        lowest = max(0, self.cursor_row - max(1, visible) + 1)
        if self.scroll_y > lowest:
            self.scroll_to(y=lowest, animate=False, immediate=True)

    def show(self, items: Sequence[Any]) -> None:
        self._items = tuple(items)
        if self._layout:
            with self.app.batch_update():
                self._fill(self._items)

    def _fill(self, items: tuple[Any, ...]) -> None:
        keys = [key for key, _, _ in self._layout]
        shown = self._shown
        changed = False
        for i, item in enumerate(items):
            cells = self.cells(item, i)
            row_key = f"r{i}"
            if i < self.row_count:
                # Only the cells that changed, written in place and counted as one update:
                # `update_cell` repaints the table once per cell, and any update makes the whole
                # table render afresh anyway.
                before = shown[i] if i < len(shown) else {}
                row = self._data[RowKey(row_key)]
                for key in keys:
                    value = cells.get(key, "")
                    if before.get(key) != value:
                        row[ColumnKey(key)] = value
                        changed = True
            else:
                self.add_row(*(cells.get(key, "") for key in keys), key=row_key)
            if i < len(shown):
                shown[i] = cells
            else:
                shown.append(cells)
        for i in range(self.row_count - 1, len(items) - 1, -1):
            self.remove_row(f"r{i}")
        del shown[len(items):]
        if changed:
            self._update_count += 1
            self._drop_stale_renders()
            self.refresh()

    @property
    def rich_style(self) -> Style:
        # DataTable asks for it once or twice a line, and each ask walks every ancestor's CSS.
        return self._painting_style if self._painting_style is not None else super().rich_style

    def render_lines(self, crop: Region) -> list[Strip]:
        # Within one paint the style and the columns' widths cannot change: work them out once a
        # paint, not once a line or a cell. (DataTable keeps the cells' styles in a cache of its own.)
        self._painting_style = super().rich_style
        self._painting_widths = self._column_widths()
        try:
            return super().render_lines(crop)
        finally:
            self._painting_style = self._painting_header = None
            self._painting_widths = []

    def _column_widths(self) -> list[int]:
        return self._painting_widths or [column.get_render_width(self) for column in self.ordered_columns]

    def _render_line_in_row(self, row_key: Any, line_no: int, base_style: Style, cursor_location: Coordinate,
                            hover_location: Coordinate) -> tuple[list[Any], list[Any]]:
        """One line of a row, as DataTable draws it for a row cursor with no fixed columns and no
        row labels (these tables), less its per-row style lookups: the header's style is worked
        out once a paint, and each cell is a plain line (`_line_cell`)."""
        if self.fixed_columns or self.cursor_type != "row" or (self._labelled_row_exists and self.show_row_labels):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        found = self._row_locations.get(row_key) if row_key in self._row_locations else None
        row_index = -1 if found is None else found
        texts = self._plain_row(row_index)
        widths = self._column_widths()
        if texts is None or len(texts) < len(widths):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        row_style = self._header_style() if row_index == -1 else base_style
        cursor = row_index == cursor_location.row
        hover = row_index == hover_location.row
        component, post = self._cell_styles(row_index == -1, hover, cursor)
        cells: list[Any] = [self._line_cell(texts[i], row_index, i, row_style, width, component, post)
                            for i, width in enumerate(widths)]
        # The row's style carried out to the right edge, as DataTable does.
        extend, _ = self._get_styles_to_render_cell(
            row_index == -1, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor, False, False)
        extend = row_style + extend + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        cells.append([Segment(" " * max(0, self.size.width - sum(widths)), extend)])
        return [], cells

    def _cell_styles(self, header: bool, hover: bool, cursor: bool) -> tuple[Style, Style]:
        """A cell's component style and post style, as DataTable works them out (and caches)."""
        return self._get_styles_to_render_cell(
            header, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")

    def _header_style(self) -> Style:
        if self._painting_header is None:
            self._painting_header = self.get_component_styles("datatable--header").rich_style
        return self._painting_header

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> Any:
        """DataTable's cell render, without Rich where a cell is one line of plain text (`_line_cell`)."""
        texts = self._plain_row(row_index)
        if texts is None or column_index < 0 or column_index >= len(texts):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component, post = self._cell_styles(row_index == -1, hover, cursor)
        return [self._line_cell(texts[column_index], row_index, column_index, base_style, width, component, post)]

    def _line_cell(self, text: Text, row_index: int, column_index: int, base_style: Style, width: int,
                   component: Style, post: Style) -> list[Segment]:
        """One cell's line, laid out by hand.

        Every cell of both tables is one line of plain text, and DataTable lays each one out
        through Rich's console (padding, wrapping, cropping): a key's repaint of two tables cost
        more than the session's whole reaction. Here the line is cut with "…", justified and
        padded by hand, styled as DataTable would (the cell's meta under its component style).
        """
        outer = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        pad = self.cell_padding
        inner = max(0, width - 2 * pad)
        plain = text.plain
        length = cell_len(plain)
        if length > inner:
            plain = set_cell_size(plain, inner - 1) + "…" if text.overflow == "ellipsis" and inner else \
                set_cell_size(plain, inner)
            length = inner
        room = inner - length
        left = room if text.justify == "right" else room // 2 if text.justify == "center" else 0
        line = " " * left + plain + " " * (room - left)  # as Rich justifies: in the text's style
        fill = outer + post if post else outer
        edge = " " * pad
        if not text.style:
            return [Segment(edge + line + edge, fill)]
        inked = outer + self.app.console.get_style(text.style)
        return [Segment(edge, fill), Segment(line, inked + post if post else inked), Segment(edge, fill)]

    def _plain_row(self, row_index: int) -> list[Text] | None:
        """The row's cells, each one line of text with no inner styles; None where any is not
        (DataTable renders that row)."""
        if row_index < -1 or row_index >= self.row_count:
            return None
        if row_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            row = None if row_key is None else self.rows.get(row_key)
            if row is None or row.height != 1:
                return None
        elif self.header_height != 1:
            return None
        cells = self._get_row_renderables(row_index).cells
        if not all(isinstance(c, Text) and not c.spans and "\n" not in c.plain for c in cells):
            return None
        return cells  # type: ignore[return-value]

    def _drop_stale_renders(self) -> None:
        """Empty DataTable's render caches, whose every entry an update has just made stale.

        Their keys carry DataTable's update count, so after `update_cell` no entry is ever read
        again; left alone they fill up to thousands of entries (10,000 cells) of dead segments,
        which the garbage collector then walks, for tens of milliseconds, in the middle of a key.
        """
        for name in ("_cell_render_cache", "_row_render_cache", "_row_renderable_cache",
                     "_line_cache"):
            cache = getattr(self, name, None)
            if cache is not None:
                cache.clear()
