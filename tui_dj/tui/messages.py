"""What the session worker and the screens tell each other: small, immutable messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from textual.message import Message

from tui_dj.catalog.model import Track

ActionKind = Literal[
    "open", "start", "like", "skip", "dislike", "undo", "end", "play", "enqueue", "close"
]


@dataclass(frozen=True)
class Action:
    """One thing the user asked the session to do, handled in the order the keys came."""

    kind: ActionKind
    ref: int | str | None = None  # a track index or id, for play / enqueue
    play_number: int | None = None  # for "end": which play reached its end (stale ends are ignored)


@dataclass(frozen=True)
class TasteRow:
    name: str
    raw: float
    scaled: float


@dataclass(frozen=True)
class SessionView:
    """Everything the main screen shows, read from the session in the worker thread."""

    current: Track | None
    play_number: int
    rated: str | None  # the event that rated the current track, if any
    queue: tuple[Track, ...]
    q_rows: tuple[Any, ...]  # session.QRow: .track .q .delta
    taste: tuple[TasteRow, ...]
    stats: Any  # session.SessionStats
    notice: str | None = None  # said once when the session opened (a fresh model, say)
    warning: str | None = None  # a problem the session carries on with (a full disk, say)
    read_only: bool = False


@dataclass
class ActionDone(Message):
    """The worker finished an action; `view` is None when more actions were already waiting."""

    action: Action
    view: SessionView | None
    feedback: Any = None  # session.Feedback, or None


@dataclass
class ActionFailed(Message):
    """An action raised; the app shows it as a notification and keeps going."""

    action: Action
    error: str


@dataclass
class SessionClosed(Message):
    """The session was closed (and saved) by the worker; the app can exit."""
