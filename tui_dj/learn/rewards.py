"""A person's reactions to a song and the one table of their rewards, shared by simulator and console.

One word for one idea: a *reaction* is what a listener does about the song playing (like it, let it
play to the end, skip it, dislike it). A simulated listener may also walk away (*quit*); the history
records other *events* beside reactions (a play, a song chosen by hand, an undo).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

Reaction = Literal["like", "finish", "skip", "dislike"]

REACTIONS: tuple[str, ...] = ("like", "finish", "skip", "dislike")
# What a simulated listener can do: a reaction, or leave.
OUTCOMES: tuple[str, ...] = (*REACTIONS, "quit")

# A like is the clearest signal; listening to the end is a quieter yes. A skip is a mild no, a
# dislike a strong one, and a listener who walks away costs as much as a dislike plus every song
# the session would still have played.
REWARDS: MappingProxyType[str, float] = MappingProxyType(
    {"like": 1.0, "finish": 0.5, "skip": -0.25, "dislike": -1.0, "quit": -1.0}
)

POSITIVE: frozenset[str] = frozenset({"like", "finish"})
NEGATIVE: frozenset[str] = frozenset({"skip", "dislike", "quit"})


def reward_of(outcome: str) -> float:
    """The reward of a reaction (or of quitting); raises ValueError for anything else."""
    try:
        return REWARDS[outcome]
    except KeyError:
        raise ValueError(f"unknown reaction {outcome!r}; expected one of {', '.join(OUTCOMES)}") from None
