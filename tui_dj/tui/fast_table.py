"""A DataTable that updates rows in place and reuses rendered cells: the one file that touches
DataTable's internals (`_render_cell`, `_row_locations`, its render caches).

The Q-table and the queue change with every key; rebuilding them throws the cursor to the top, and
DataTable's own caches re-render every cell after any update. Textual is pinned to one major
version in pyproject.toml because of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable


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
        # Rendered cells by what they show (not where): see `_render_cell`.
        self._cells_by_content: LRUCache[tuple[Any, ...], tuple[Any, int, int]] = LRUCache(1024)

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
                # Only the cells that changed: any update makes the whole table render afresh.
                before = shown[i] if i < len(shown) else {}
                for key in keys:
                    value = cells.get(key, "")
                    if before.get(key) != value:
                        self.update_cell(row_key, key, value)
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
            self._drop_stale_renders()

    @property
    def rich_style(self) -> Style:
        # DataTable asks for it once or twice a line, and each ask walks every ancestor's CSS.
        return self._painting_style if self._painting_style is not None else super().rich_style

    def render_lines(self, crop: Region) -> list[Strip]:
        # Within one paint the style cannot change: work it out once.
        self._painting_style = super().rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._painting_style = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cells_by_content.clear()  # a new theme or focus colour: every cell looks different

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> Any:
        """DataTable's cell render, looked up by the cell's text and style rather than its place.

        DataTable keys its cell cache on its update count, so one `update_cell` re-renders every
        cell through Rich. But after a key most cells show what some cell showed before (the
        queue moves up a row, the Q-table reorders the same songs): those are reused, with the
        mouse metadata (row, column) of their new place.
        """
        key = self._content_key(row_index, column_index)
        if key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key += (base_style, width, cursor, hover, self.show_cursor, self._show_hover_cursor,
                self._pseudo_class_state)
        cached = self._cells_by_content.get(key)
        if cached is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells_by_content[key] = (lines, row_index, column_index)
            return lines
        lines, row, column = cached
        if (row, column) == (row_index, column_index):
            return lines
        meta = Style.from_meta({"row": row_index, "column": column_index})
        return [[Segment(text, style + meta if style else meta, control)
                 for text, style, control in line] for line in lines]

    def _content_key(self, row_index: int, column_index: int) -> tuple[Any, ...] | None:
        """What a one-line text cell shows, as a hashable key; None for anything else."""
        if column_index < 0 or row_index < -1 or row_index >= self.row_count:
            return None
        if row_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            row = None if row_key is None else self.rows.get(row_key)
            if row is None or row.height != 1:
                return None
        elif self.header_height != 1:
            return None
        cells = self._get_row_renderables(row_index).cells
        if column_index >= len(cells):
            return None
        cell = cells[column_index]
        if not isinstance(cell, Text) or "\n" in cell.plain:
            return None
        return (row_index == -1, cell.plain, cell.style, cell.justify, cell.overflow,
                cell.no_wrap, cell.end, tuple(cell.spans))

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
