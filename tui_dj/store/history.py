"""The SQLite listening history of every profile in one data folder.

A write that fails (a full disk, a lock held too long) is kept in memory and retried with the next
event instead of stopping the session.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from tui_dj.errors import TuiDjError
from tui_dj.paths import history_db
from tui_dj.store.records import (
    _SCHEMA,
    SCHEMA_VERSION,
    HistoryEvent,
    LikedSong,
    SessionSummary,
    TrackLike,
    db_error,
    is_transient,
)

BUSY_TIMEOUT_S = 2.0
# Past this many unwritten statements the oldest are dropped: memory must not grow without bound
# while a disk stays full for hours.
MAX_PENDING = 100_000

class HistoryStore:
    """The SQLite listening history of every profile in one data folder.

    Every method takes the store's own lock, so a session and a console thread can share one.
    """

    def __init__(self, path: Path, read_only: bool = False, busy_timeout_s: float | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.warning: str | None = None
        self._lock = threading.RLock()
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._together = 0  # inside `together()`: writes wait for its one commit
        self._conn = self._connect(BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s)

    # -- opening ----------------------------------------------------------------------------

    def _connect(self, busy_timeout_s: float) -> sqlite3.Connection:
        if self.read_only:
            return self._connect_read_only(busy_timeout_s)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TuiDjError(f"Cannot create the folder {self.path.parent}: {exc.strerror or exc}.") from None
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise db_error(self.path, sqlite3.OperationalError("attempt to write a readonly database"))
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
            # WAL lets a second console read while this one writes; FULL fsyncs each commit, so an
            # acknowledged event survives even a power cut, not just a killed process.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            # A real write at open: a read-only, locked or damaged database is reported now, in
            # one sentence, rather than at the first key press.
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            if is_transient(exc) and "full" in str(exc).lower() and self.path.exists():
                # A full disk at start is not fatal: reading works and writes are retried.
                conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
                self.warning = str(db_error(self.path, exc))
                return conn
            raise db_error(self.path, exc) from None
        return conn

    def _connect_read_only(self, busy_timeout_s: float) -> sqlite3.Connection:
        if not self.path.exists():
            # Nothing to read yet: an empty in-memory history with the same tables.
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            conn.executescript(_SCHEMA)
            return conn
        try:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout_s,
                isolation_level=None, check_same_thread=False,
            )
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from None
        return conn

    @classmethod
    def open(cls, base: Path, read_only: bool = False, busy_timeout_s: float | None = None) -> HistoryStore:
        """The history database of data folder `base`."""
        return cls(history_db(Path(base)), read_only=read_only, busy_timeout_s=busy_timeout_s)

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error, TuiDjError):
                self.flush()
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Statements not yet written (a full disk or a held lock); retried with the next write."""
        return len(self._pending)

    def _write(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> bool:
        """Queue `statements` behind anything pending, then try to commit all in one transaction.

        Returns True when everything is on disk. A transient failure keeps the statements for the
        next try and sets `warning`; a read-only store writes nothing.
        """
        if self.read_only:
            return False
        with self._lock:
            self._pending.extend(statements)
            if len(self._pending) > MAX_PENDING:
                del self._pending[: len(self._pending) - MAX_PENDING]
            return False if self._together else self._flush_locked()

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """The writes inside the block are committed in one transaction at its end: one fsync for a
        reaction and the play it starts, not one each. Afterwards `pending` is 0 if they reached the disk."""
        with self._lock:
            self._together += 1
            try:
                yield
            finally:
                self._together -= 1
            if not self._together:
                self.flush()

    def flush(self) -> bool:
        """Retry what is pending; True when nothing is left unwritten."""
        if self.read_only:
            return True
        with self._lock:
            return self._flush_locked()

    def _flush_locked(self) -> bool:
        if not self._pending:
            return True
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in self._pending:
                    self._conn.execute(sql, params)
                self._conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if not is_transient(exc):
                raise db_error(self.path, exc) from None
            self.warning = str(db_error(self.path, exc))
            return False
        self._pending.clear()
        self.warning = None
        return True

    def start_session(self, profile: str, catalog: str = "", model: str = "") -> str:
        uid = uuid.uuid4().hex
        self._write([(
            "INSERT INTO sessions(uid, profile, started, catalog, model) VALUES (?, ?, ?, ?, ?)",
            (uid, profile, time.time(), catalog, model),
        )])
        return uid

    def end_session(self, uid: str) -> bool:
        return self._write([("UPDATE sessions SET ended = ? WHERE uid = ?", (time.time(), uid))])

    def add_event(
        self, *, profile: str, session: str, kind: str, track: TrackLike, reward: float | None,
        when: float | None = None,
    ) -> tuple[str, bool]:
        """Record one event; returns (its id, whether it is already on disk)."""
        uid = uuid.uuid4().hex
        features = json.dumps({k: float(v) for k, v in track.features.items()})
        ok = self._write([
            (
                "INSERT OR IGNORE INTO tracks(track_id, name, artist, album, genres, popularity, duration_ms, features)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (track.track_id, track.name, track.artist, track.album, ", ".join(track.genres),
                 float(track.popularity), int(track.duration_ms), features),
            ),
            (
                "INSERT INTO events(uid, time, profile, session, kind, track_id, name, artist, reward)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uid, time.time() if when is None else when, profile, session, kind, track.track_id,
                 track.name, track.artist, reward),
            ),
        ])
        return uid, ok

    def revert(self, uid: str, how: Literal["undo", "replaced"] = "undo") -> bool:
        """Mark an event as taken back; the row stays, so the history shows what happened."""
        return self._write([("UPDATE events SET reverted = ? WHERE uid = ?", (how, uid))])

    def forgive(self, profile: str, track_id: str) -> bool:
        """Take back every dislike of `track_id` by `profile`, so the song may play again."""
        return self._write([(
            "UPDATE events SET reverted = 'forgiven' WHERE profile = ? AND track_id = ? AND kind = 'dislike'"
            " AND reverted IS NULL", (profile, track_id),
        )])

    # -- reading ----------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise db_error(self.path, exc) from None

    def events(
        self, profile: str | None = None, limit: int = 50, session: str | None = None,
        include_reverted: bool = False,
    ) -> list[HistoryEvent]:
        """The latest events, newest first; taken-back ones and undo records only if asked."""
        where, params = self._where(profile, session)
        if not include_reverted:
            where.append("reverted IS NULL AND kind != 'undo'")
        sql = "SELECT time, kind, track_id, name, artist, reward, reverted FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY time DESC, id DESC LIMIT ?"
        rows = self._query(sql, (*params, int(limit)))
        return [HistoryEvent(*row) for row in rows]

    @staticmethod
    def _where(profile: str | None, session: str | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if profile is not None:
            where.append("profile = ?")
            params.append(profile)
        if session is not None:
            where.append("session = ?")
            params.append(session)
        return where, params

    def count(self, profile: str | None = None, kind: str | None = None, session: str | None = None,
              include_reverted: bool = False) -> int:
        where, params = self._where(profile, session)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if not include_reverted:
            where.append("reverted IS NULL")
        sql = "SELECT count(*) FROM events" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self._query(sql, tuple(params))[0][0])

    def disliked(self, profile: str) -> set[str]:
        """Songs this profile disliked (and did not take back): they never play again for it."""
        rows = self._query(
            "SELECT DISTINCT track_id FROM events WHERE profile = ? AND kind = 'dislike' AND reverted IS NULL",
            (profile,),
        )
        return {r[0] for r in rows}

    def recent_reactions(self, profile: str, limit: int = 20) -> list[tuple[str, str]]:
        """(track_id, kind) of this profile's latest ratings, oldest first: to seed a new session."""
        rows = self._query(
            "SELECT track_id, kind FROM events WHERE profile = ? AND reverted IS NULL"
            " AND kind IN ('like', 'finish', 'skip', 'dislike') ORDER BY time DESC, id DESC LIMIT ?",
            (profile, int(limit)),
        )
        return [(r[0], r[1]) for r in reversed(rows)]

    def liked(self, profile: str) -> list[LikedSong]:
        """Songs whose latest rating by this profile is a like, in the order they were first liked."""
        rows = self._query(
            """
            WITH reacted AS (
                SELECT track_id, kind, time, id,
                       row_number() OVER (PARTITION BY track_id ORDER BY time DESC, id DESC) AS latest
                FROM events
                WHERE profile = ? AND reverted IS NULL AND kind IN ('like', 'dislike')
            ),
            first_like AS (
                SELECT track_id, min(time) AS liked_at FROM reacted WHERE kind = 'like' GROUP BY track_id
            )
            SELECT t.track_id, t.name, t.artist, t.album, t.genres, t.popularity, t.duration_ms,
                   t.features, f.liked_at
            FROM reacted r JOIN first_like f USING (track_id) JOIN tracks t USING (track_id)
            WHERE r.latest = 1 AND r.kind = 'like'
            ORDER BY f.liked_at, t.track_id
            """,
            (profile,),
        )
        return [
            LikedSong(r[0], r[1], r[2], r[3], r[4], float(r[5]), int(r[6]), json.loads(r[7]), float(r[8]))
            for r in rows
        ]

    def sessions(self, profile: str | None = None, limit: int = 20) -> list[SessionSummary]:
        """The latest sessions, newest first, with what happened in each."""
        where, params = self._where(profile, None)
        sql = f"""
            SELECT s.uid, s.profile, s.started, s.ended, s.catalog,
                   count(CASE WHEN e.kind = 'play' THEN 1 END),
                   count(CASE WHEN e.kind = 'like' THEN 1 END),
                   count(CASE WHEN e.kind = 'finish' THEN 1 END),
                   count(CASE WHEN e.kind = 'skip' THEN 1 END),
                   count(CASE WHEN e.kind = 'dislike' THEN 1 END),
                   coalesce(sum(CASE WHEN e.kind != 'play' THEN e.reward END), 0)
            FROM sessions s LEFT JOIN events e ON e.session = s.uid AND e.reverted IS NULL
            {"WHERE " + " AND ".join("s." + w for w in where) if where else ""}
            GROUP BY s.uid ORDER BY s.started DESC LIMIT ?
        """
        rows = self._query(sql, (*params, int(limit)))
        return [
            SessionSummary(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]), int(r[8]),
                           int(r[9]), float(r[10]))
            for r in rows
        ]

    def profiles(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT profile FROM sessions ORDER BY profile")]

    def pragma(self, name: str) -> Any:
        """The value of one of the settings the history relies on (journal_mode, synchronous, ...)."""
        if name not in ("journal_mode", "synchronous", "page_count", "busy_timeout"):
            raise ValueError(f"not a setting the history reports: {name!r}")
        return self._query({"journal_mode": "PRAGMA journal_mode", "synchronous": "PRAGMA synchronous",
                            "page_count": "PRAGMA page_count", "busy_timeout": "PRAGMA busy_timeout"}[name])[0][0]

    def integrity(self) -> str:
        return str(self._query("PRAGMA integrity_check")[0][0])


@contextlib.contextmanager
def open_history(base: Path) -> Iterator[HistoryStore | None]:
    """The history of data folder `base` opened read-only, or None when there is none yet."""
    path = history_db(Path(base))
    if not path.exists():
        yield None
        return
    store = HistoryStore(path, read_only=True)
    try:
        yield store
    finally:
        store.close()
