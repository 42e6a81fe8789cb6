"""The one table of rewards per listener event, shared by the simulator and the console."""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

Event = Literal["like", "finish", "skip", "dislike", "quit"]

EVENTS: tuple[str, ...] = ("like", "finish", "skip", "dislike", "quit")

# A like is the clearest signal; listening to the end is a quieter yes. A skip is a mild no, a
# dislike a strong one, and a listener who walks away costs as much as a dislike plus every song
# the session would still have played.
REWARDS: MappingProxyType[str, float] = MappingProxyType(
    {"like": 1.0, "finish": 0.5, "skip": -0.25, "dislike": -1.0, "quit": -1.0}
)

POSITIVE: frozenset[str] = frozenset({"like", "finish"})
NEGATIVE: frozenset[str] = frozenset({"skip", "dislike", "quit"})


def reward_of(event: str) -> float:
    """The reward of `event`; raises ValueError for an unknown one."""
    try:
        return REWARDS[event]
    except KeyError:
        raise ValueError(f"unknown event {event!r}; expected one of {', '.join(EVENTS)}") from None
