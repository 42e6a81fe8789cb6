"""What a session shows after every call: one immutable view, read by the console, tests and scripts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from tui_dj.catalog.model import Track


@dataclass(frozen=True)
class QueueEntry:
    """A song in "Up next" and why it is there: `chosen` by the person, the DJ's `best` pick, or a
    pick to `explore` (something the DJ is trying out)."""

    track: Track
    why: str


@dataclass(frozen=True)
class QRow:
    """A candidate song, its score (the DQN's Q-value), and how much it changed with the last
    reaction (None: it was not scored before)."""

    track: Track
    q: float
    delta: float | None
    next: bool = False  # the song at the head of "Up next"


@dataclass(frozen=True)
class TasteRow:
    """One feature of the taste vector: its raw value and its value scaled to [0, 1] (for bars)."""

    name: str
    raw: float
    scaled: float


@dataclass(frozen=True)
class SessionStats:
    plays: int = 0
    likes: int = 0
    finishes: int = 0
    skips: int = 0
    dislikes: int = 0
    total_reward: float = 0.0
    recent_rewards: tuple[float, ...] = ()
    last_update_ms: float | None = None


@dataclass(frozen=True)
class Learned:
    """What the last reaction did: its reward, how long learning from it took, and whether it is on
    disk (False in a read-only session, or while a full disk delays the write)."""

    reaction: str
    reward: float
    track: Track
    update_ms: float
    loss: float | None
    saved: bool


@dataclass(frozen=True)
class SessionView:
    """Everything the console shows, as it is after one call into the session."""

    now_playing: Track | None
    play_number: int  # counts songs started; a song's end is only taken for the play it belongs to
    reaction: str | None  # the reaction already given to the song playing
    queue: tuple[QueueEntry, ...]
    q_rows: tuple[QRow, ...]
    taste: tuple[TasteRow, ...]
    stats: SessionStats
    learned: Learned | None = None  # the reaction this call learned from, if it learned one
    replaced: Track | None = None  # the head of "Up next" a dislike just replaced
    message: str | None = None  # something this call should tell the person ("Nothing to undo.")
    out_of_songs: bool = False  # every song is disliked (or kept out): nothing can play
    read_only: bool = False
    notice: str | None = None  # said when the session opened (read-only, say)
    warning: str | None = None  # a problem the session carries on with (a full disk, say)
    reacted: tuple[tuple[int, str], ...] = ()  # (catalog row, reaction) of the recent songs, oldest first


def model_words(source: str) -> str:
    """A model source in words: "the bundled model", "an untrained network", or its path (relative
    to the working folder when it is inside it)."""
    from tui_dj.learn.agent import default_model_path

    if source == "untrained":
        return "an untrained network"
    if source == "none":
        return "no model (another policy)"
    path = Path(source)
    if path == default_model_path():
        return "the bundled model"
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return source
