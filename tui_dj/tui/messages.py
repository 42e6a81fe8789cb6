"""What the session worker, the screens and the app tell each other: small, immutable messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from textual.message import Message

# What a screen may ask of the session (each one session call) and of the console itself.
SessionRequest = Literal["like", "skip", "dislike", "undo", "play", "enqueue", "forgive"]
ConsoleRequest = Literal["pause", "seek", "volume", "history", "search"]
# What the session worker does: the requests, and what the app itself starts.
ActionKind = SessionRequest | Literal["open", "start", "finish", "move_on", "close"]


@dataclass(frozen=True)
class Action:
    """One thing the person asked the session to do, handled in the order the keys came."""

    kind: ActionKind
    ref: int | str | None = None  # a track index or id, for play / enqueue / forgive
    play_number: int | None = None  # for "finish" and "move_on": which play it was (a late one does nothing)


@dataclass
class Requested(Message):
    """A screen asks the app for an action on the session, or of the console (pause, seek, volume,
    the history or search). `ref`: a track for play / enqueue / forgive, seconds, a volume step."""

    kind: SessionRequest | ConsoleRequest
    ref: int | str | None = None


@dataclass
class ActionDone(Message):
    """The worker finished an action; `view` is the session's view after it (None for open/close)."""

    action: Action
    view: Any  # session.SessionView


@dataclass
class ActionFailed(Message):
    """An action raised; the app shows it as a notification and keeps going."""

    action: Action
    error: str


@dataclass
class SessionClosed(Message):
    """The session was closed (and saved) by the worker; the app can exit."""
