"""What the listening history holds: its schema, its rows as small records, and its errors.

The history is written as it happens (one committed transaction per event, WAL journal with
`synchronous=FULL`), so a crash or `kill -9` loses at most the event being written and never leaves
the database corrupt.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tui_dj.errors import TuiDjError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    uid TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    catalog TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    time REAL NOT NULL,
    profile TEXT NOT NULL,
    session TEXT NOT NULL,
    kind TEXT NOT NULL,
    track_id TEXT NOT NULL,
    name TEXT NOT NULL,
    artist TEXT NOT NULL,
    reward REAL,
    reverted TEXT
);
CREATE INDEX IF NOT EXISTS events_profile_time ON events(profile, time);
CREATE INDEX IF NOT EXISTS events_profile_kind ON events(profile, kind, track_id);
CREATE INDEX IF NOT EXISTS events_session ON events(session);
CREATE TABLE IF NOT EXISTS tracks (
    track_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    artist TEXT NOT NULL,
    album TEXT NOT NULL,
    genres TEXT NOT NULL,
    popularity REAL NOT NULL,
    duration_ms INTEGER NOT NULL,
    features TEXT NOT NULL
);
"""


class TrackLike(Protocol):
    """What the store needs of a song (a `tui_dj.catalog.Track` fits; the store does not import it)."""

    @property
    def track_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def artist(self) -> str: ...
    @property
    def album(self) -> str: ...
    @property
    def genres(self) -> tuple[str, ...]: ...
    @property
    def popularity(self) -> float: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def features(self) -> dict[str, float]: ...


@dataclass(frozen=True)
class HistoryEvent:
    """One row of the history: a play, a reaction, a song chosen by hand, an undo."""

    time: float
    kind: str
    track_id: str
    name: str
    artist: str
    reward: float | None
    reverted: str | None = None  # "undo", "replaced" or "forgiven" when taken back (shown only when asked for)


@dataclass(frozen=True)
class SessionSummary:
    uid: str
    profile: str
    started: float
    ended: float | None
    catalog: str
    plays: int
    likes: int
    finishes: int
    skips: int
    dislikes: int
    total_reward: float


@dataclass(frozen=True)
class LikedSong:
    track_id: str
    name: str
    artist: str
    album: str
    genres: str
    popularity: float
    duration_ms: int
    features: dict[str, float]
    liked_at: float


# ---------------------------------------------------------------------------------------------
# Errors: one sentence per SQLite failure a user can meet.


def db_error(path: Path, exc: sqlite3.Error) -> TuiDjError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return TuiDjError(f"The history database {path} is locked by another program; close it and try again.")
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return TuiDjError(f"The history database {path} is read-only; make it writable, or open the session read-only.")
    if name.startswith("SQLITE_FULL") or "full" in text:
        return TuiDjError(f"The disk holding {path} is full; the listening history is kept in memory and written once there is space.")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text or "malformed" in text:
        return TuiDjError(f"The history database {path} is damaged; move it aside and tui-dj starts a new one.")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return TuiDjError(f"Cannot open the history database {path}; check that its folder exists and is writable.")
    return TuiDjError(f"The history database {path} failed: {exc}.")


def is_transient(exc: sqlite3.Error) -> bool:
    """A write that may work later (space freed, lock released), as opposed to a broken database."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    return (
        name.startswith(("SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR"))
        or "full" in text
        or "locked" in text
        or "disk i/o" in text
    )
