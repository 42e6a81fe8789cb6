"""The Session panel's chart: the reward of each recent reaction, newest on the right, on a fixed
axis from -1 (a dislike) to +1 (a like), so that a bar's height means the same from key to key."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from tui_dj.session import REWARDS

RISING = " ▁▂▃▄▅▆▇█"  # a gain, in eighths of +1, growing up from the zero line
HANGING = " ▔▔▀▀▀██"  # a loss, hanging down from the zero line (the terminal has fewer top blocks)
# What each bar can be, for the chart's tooltip.
LEGEND = ", ".join(f"{word} {REWARDS[reaction]:+g}" for word, reaction in
                   (("a like", "like"), ("heard to the end", "finish"), ("a skip", "skip"),
                    ("a dislike", "dislike")))


def _level(value: float, steps: int) -> int:
    """`value` in [0, 1] as a whole number of `steps`, at least 1 for anything above zero."""
    return 0 if value <= 0 else max(1, min(steps, round(value * steps)))


class RewardChart(Widget):
    """Bars of the rewards, newest right: with two lines or more, gains above the zero line and
    losses below it (axis labels +1 and -1); with three or more, a caption; with one line, each
    reward a block from ▁ (-1) to █ (+1) after that scale."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"chart--axis", "chart--gain", "chart--loss"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rewards: tuple[float, ...] = ()
        self._strips: list[Strip] = []
        self._strips_key: tuple[object, ...] | None = None
        self.tooltip = f"The reward of each reaction: {LEGEND}."

    @property
    def rewards(self) -> tuple[float, ...]:
        return self._rewards

    def show(self, rewards: tuple[float, ...]) -> None:
        if rewards != self._rewards:
            self._rewards = tuple(rewards)
            self.refresh()

    def render(self) -> Text:
        """The chart as Rich text: what a mouse selection copies (`render_line` draws the same)."""
        out = Text(no_wrap=True, overflow="crop")
        for i, line in enumerate(self._lines(self.content_size.width or 34, self.content_size.height or 1)):
            if i:
                out.append("\n")
            for text, name in line:
                out.append(text, self.get_component_rich_style(f"chart--{name}"))
        return out

    def render_line(self, y: int) -> Strip:
        # Drawn from plain segments, as the taste bars are: the chart changes with every key, and
        # Rich text through Textual's content conversion cost more than the rest of the panel.
        if self.text_selection is not None:
            return super().render_line(y)  # Textual's path draws the mouse selection (via render)
        width, height = self.content_size.width or 34, self.content_size.height or 1
        key = (width, height, self.styles._cache_key, self._rewards)
        if key != self._strips_key:
            base = self.visual_style.rich_style
            styles = {name: base + self.get_component_rich_style(f"chart--{name}") for name in ("axis", "gain", "loss")}
            self._strips = [Strip([Segment(text, styles[name]) for text, name in line if text]).crop(0, width)
                            .adjust_cell_length(width, base) for line in self._lines(width, height)]
            self._strips_key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_key = None

    def _lines(self, width: int, height: int) -> list[list[tuple[str, str]]]:
        """Each line of the chart as (text, part) pieces; a part is axis, gain or loss."""
        if height == 1:
            line = [("-1▁…█+1 ", "axis")]
            for reward in self._rewards[-max(0, width - 8):]:
                line.append(("▁▂▃▄▅▆▇█"[_level((reward + 1) / 2, 7)], "gain" if reward > 0 else "loss"))
            return [line]
        lines = [[("reward of each reaction, newest →", "axis")]] if height >= 3 else []
        shown = self._rewards[-max(0, width - 3):]
        lines.append([("+1┤", "axis"), *((RISING[_level(r, 8)], "gain") for r in shown)])
        lines.append([("-1┤", "axis"), *((HANGING[_level(-r, 7)], "loss") for r in shown)])
        return lines
