"""One listening session, UI-free: what the console, the tests, the panels and scripts all drive.

`open_session` and `Session` load on first use: the views and the option checks are light. A
session with the feature network never imports torch (`learn/playing.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_dj.learn.rewards import REWARDS  # the reward of each reaction (the console's chart)
from tui_dj.session.view import (
    HistoryRow,
    Learned,
    QRow,
    QueueEntry,
    SessionStats,
    SessionView,
    TasteRow,
)

if TYPE_CHECKING:
    from tui_dj.session.opening import open_session
    from tui_dj.session.session import Session

__all__ = ["REWARDS", "HistoryRow", "Learned", "QRow", "QueueEntry", "Session", "SessionStats", "SessionView", "TasteRow",
           "open_session"]


def __getattr__(name: str) -> Any:
    if name == "open_session":
        from tui_dj.session.opening import open_session

        return open_session
    if name == "Session":
        from tui_dj.session.session import Session

        return Session
    raise AttributeError(f"module 'tui_dj.session' has no attribute {name!r}")
