"""The Session panel's chart: the reward of each recent reaction, newest on the right, on a fixed
axis from -1 (a dislike) to +1 (a like), so that a bar's height means the same from key to key."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
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
        self.tooltip = f"The reward of each reaction: {LEGEND}."

    @property
    def rewards(self) -> tuple[float, ...]:
        return self._rewards

    def show(self, rewards: tuple[float, ...]) -> None:
        if rewards != self._rewards:
            self._rewards = tuple(rewards)
            self.refresh()

    def render(self) -> Text:
        width, height = self.content_size.width or 34, self.content_size.height or 1
        axis, gain, loss = (self.get_component_rich_style(f"chart--{name}") for name in ("axis", "gain", "loss"))
        out = Text(no_wrap=True, overflow="crop")
        if height == 1:
            out.append("-1▁…█+1 ", axis)
            for reward in self._rewards[-max(0, width - 8):]:
                out.append("▁▂▃▄▅▆▇█"[_level((reward + 1) / 2, 7)], gain if reward > 0 else loss)
            return out
        if height >= 3:
            out.append("reward of each reaction, newest →\n", axis)
        shown = self._rewards[-max(0, width - 3):]
        out.append("+1┤", axis)
        for reward in shown:
            out.append(RISING[_level(reward, 8)], gain)
        out.append("\n-1┤", axis)
        for reward in shown:
            out.append(HANGING[_level(-reward, 7)], loss)
        return out
