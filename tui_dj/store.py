"""What tui-dj keeps between sessions: the SQLite listening history, each profile's folder and lock,
and the export of a profile's liked songs as an Exportify-style CSV or an M3U playlist.

The history is written as it happens (one committed transaction per event, WAL journal with
`synchronous=FULL`), so a crash or `kill -9` loses at most the event being written and never leaves
the database corrupt. A write that fails (a full disk, a lock held too long) is kept in memory and
retried with the next event instead of stopping the session.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from tui_dj.atomic import atomic_write_bytes
from tui_dj.errors import TuiDjError
from tui_dj.paths import history_db, profile_dir, profiles_dir

try:  # POSIX; elsewhere two consoles are not kept apart, which the README notes.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

MODEL_FILE = "model.pt"
LOCK_FILE = "lock"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 2.0
# Past this many unwritten statements the oldest are dropped: memory must not grow without bound
# while a disk stays full for hours.
MAX_PENDING = 100_000

FEEDBACK_KINDS: frozenset[str] = frozenset({"like", "finish", "skip", "dislike", "choose"})

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
    time: float
    kind: str
    track_id: str
    name: str
    artist: str
    reward: float | None


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


def _db_error(path: Path, exc: sqlite3.Error) -> TuiDjError:
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


def _is_transient(exc: sqlite3.Error) -> bool:
    """A write that may work later (space freed, lock released), as opposed to a broken database."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    return (
        name.startswith(("SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR"))
        or "full" in text
        or "locked" in text
        or "disk i/o" in text
    )


# ---------------------------------------------------------------------------------------------
# The listening history.


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
            raise _db_error(self.path, sqlite3.OperationalError("attempt to write a readonly database"))
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
            if _is_transient(exc) and "full" in str(exc).lower() and self.path.exists():
                # A full disk at start is not fatal: reading works and writes are retried.
                conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
                self.warning = str(_db_error(self.path, exc))
                return conn
            raise _db_error(self.path, exc) from None
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
            raise _db_error(self.path, exc) from None
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
            return self._flush_locked()

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
            if not _is_transient(exc):
                raise _db_error(self.path, exc) from None
            self.warning = str(_db_error(self.path, exc))
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

    # -- reading ----------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _db_error(self.path, exc) from None

    def events(
        self, profile: str | None = None, limit: int = 50, session: str | None = None,
        include_reverted: bool = False,
    ) -> list[HistoryEvent]:
        """The latest events, newest first; taken-back ones and undo records only if asked."""
        where, params = self._where(profile, session)
        if not include_reverted:
            where.append("reverted IS NULL AND kind != 'undo'")
        sql = "SELECT time, kind, track_id, name, artist, reward FROM events"
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

    def recent_feedback(self, profile: str, limit: int = 20) -> list[tuple[str, str]]:
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
            WITH rated AS (
                SELECT track_id, kind, time, id,
                       row_number() OVER (PARTITION BY track_id ORDER BY time DESC, id DESC) AS latest
                FROM events
                WHERE profile = ? AND reverted IS NULL AND kind IN ('like', 'dislike')
            ),
            first_like AS (
                SELECT track_id, min(time) AS liked_at FROM rated WHERE kind = 'like' GROUP BY track_id
            )
            SELECT t.track_id, t.name, t.artist, t.album, t.genres, t.popularity, t.duration_ms,
                   t.features, f.liked_at
            FROM rated r JOIN first_like f USING (track_id) JOIN tracks t USING (track_id)
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

    def integrity(self) -> str:
        return str(self._query("PRAGMA integrity_check")[0][0])


# ---------------------------------------------------------------------------------------------
# Profiles: a folder each, a lock so that two consoles do not write one profile at once.


@dataclass(frozen=True)
class ProfilePaths:
    name: str
    folder: Path
    model: Path
    lock: Path


def profile_paths(base: Path, name: str) -> ProfilePaths:
    """The files of profile `name`; refuses names that are not safe as one folder name."""
    folder = profile_dir(Path(base), name)
    # check_profile_name already refuses separators and dots; this guards the rule itself.
    root = profiles_dir(Path(base)).resolve()
    if folder.resolve().parent != root:
        raise TuiDjError(f"Profile name {name!r} is not allowed.")
    return ProfilePaths(name, folder, folder / MODEL_FILE, folder / LOCK_FILE)


class ProfileLock:
    """An advisory lock (flock) on a profile: released by the kernel when its holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process (or session) holds it."""
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TuiDjError(f"Cannot write to {self.path.parent}: {exc.strerror or exc}.") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
        self._fd = fd
        # The holder's pid, so the second console can say who has the profile.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def holder(self) -> str:
        """The pid written by the current holder, or '' when unknown."""
        try:
            return self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Export: liked songs as an Exportify-style CSV (which `tui-dj prep` reads back) or M3U.

EXPORTIFY_HEADER: tuple[str, ...] = (
    "Track URI", "Track Name", "Album Name", "Artist Name(s)", "Release Date", "Duration (ms)",
    "Popularity", "Explicit", "Added By", "Added At", "Genres", "Record Label", "Danceability",
    "Energy", "Key", "Loudness", "Mode", "Speechiness", "Acousticness", "Instrumentalness",
    "Liveness", "Valence", "Tempo", "Time Signature",
)
_FEATURE_COLUMNS: Mapping[str, str] = {
    "Danceability": "danceability", "Energy": "energy", "Loudness": "loudness",
    "Speechiness": "speechiness", "Acousticness": "acousticness",
    "Instrumentalness": "instrumentalness", "Liveness": "liveness", "Valence": "valence",
    "Tempo": "tempo",
}
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ExportFormat = Literal["csv", "m3u"]


def neutralise(cell: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets an apostrophe."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def track_uri(track_id: str) -> str:
    return track_id if track_id.startswith("spotify:") else f"spotify:track:{track_id}"


def _number(value: float) -> str:
    # repr-style floats keep every digit; numbers are never neutralised, so -7.5 stays a number.
    return format(float(value), ".7g") if value == value else ""


def _csv_row(song: LikedSong) -> list[str]:
    added = datetime.fromtimestamp(song.liked_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = {
        "Track URI": track_uri(song.track_id),
        "Track Name": song.name,
        "Album Name": song.album,
        "Artist Name(s)": song.artist,
        "Release Date": "",
        "Added By": "tui-dj",
        "Added At": added,
        "Genres": song.genres,
        "Record Label": "",
    }
    numbers = {
        "Duration (ms)": str(int(song.duration_ms)),
        "Popularity": str(int(round(song.popularity))),
        "Explicit": "false",
        # The catalog keeps no key, mode or metre; these are Spotify's most common values.
        "Key": "0",
        "Mode": "1",
        "Time Signature": "4",
    }
    for column, feature in _FEATURE_COLUMNS.items():
        numbers[column] = _number(song.features.get(feature, float("nan")))
    return [neutralise(text[c]) if c in text else numbers[c] for c in EXPORTIFY_HEADER]


def liked_csv(songs: Sequence[LikedSong]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(EXPORTIFY_HEADER)
    writer.writerows(_csv_row(song) for song in songs)
    return buffer.getvalue()


def _one_line(text: str) -> str:
    # M3U is line-based: a newline inside a title would start a bogus entry.
    return " ".join(text.split())


def liked_m3u(songs: Sequence[LikedSong]) -> str:
    lines = ["#EXTM3U"]
    for song in songs:
        seconds = max(1, round(song.duration_ms / 1000))
        lines.append(f"#EXTINF:{seconds},{_one_line(song.artist)} - {_one_line(song.name)}")
        lines.append(track_uri(_one_line(song.track_id)))
    return "\n".join(lines) + "\n"


def export_liked(base: Path, profile: str, fmt: ExportFormat = "csv", out: Path | None = None) -> tuple[str, int]:
    """A profile's liked songs as CSV or M3U text; written atomically to `out` when given.

    Returns (the text, how many songs).
    """
    profile_paths(base, profile)  # refuses unsafe names before anything is read
    if fmt not in ("csv", "m3u"):
        raise TuiDjError(f"Export format must be csv or m3u, not {fmt!r}.")
    path = history_db(Path(base))
    if not path.exists():
        songs: list[LikedSong] = []
    else:
        with HistoryStore(path, read_only=True) as store:
            songs = store.liked(profile)
    text = liked_csv(songs) if fmt == "csv" else liked_m3u(songs)
    if out is not None:
        atomic_write_bytes(Path(out), text.encode("utf-8"))
    return text, len(songs)


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


# ---------------------------------------------------------------------------------------------
# What `tui-dj history` and `tui-dj locate` print.


def _when(stamp: float | None) -> str:
    return "" if stamp is None else datetime.fromtimestamp(stamp).strftime("%m-%d %H:%M")


def history_table(base: Path | str | None, profile: str | None, limit: int = 20) -> Any:
    """A Rich table of the latest sessions (all profiles, or one)."""
    from rich.table import Table

    from tui_dj.paths import check_profile_name, data_dir

    folder = data_dir(base)
    if profile is not None:
        check_profile_name(profile)
    with open_history(folder) as store:
        rows = [] if store is None else store.sessions(profile, limit)
    who = f"profile {profile!r}" if profile else "all profiles"
    table = Table(title=f"Recent sessions, {who}" if rows else f"No sessions yet for {who} in {folder}",
                  title_justify="left")
    for column in ("started", "min", "profile", "songs", "likes", "ends", "skips", "dislikes", "reward"):
        table.add_column(column, justify="left" if column in ("started", "profile") else "right", no_wrap=column == "started")
    for s in rows:
        minutes = "" if s.ended is None else f"{(s.ended - s.started) / 60:.0f}"
        table.add_row(_when(s.started), minutes, s.profile, str(s.plays), str(s.likes),
                      str(s.finishes), str(s.skips), str(s.dislikes), f"{s.total_reward:+.2f}")
    return table


def locations(base: Path | str | None) -> list[tuple[str, str]]:
    """(what, where) for everything tui-dj reads or writes."""
    from tui_dj.paths import (
        DATA_DIR_ENV,
        MODELS_DIR,
        PACKAGE_ASSETS,
        PROCESSED_DIR,
        data_dir,
        logs_dir,
    )

    folder = data_dir(base)
    found = [
        ("data folder", f"{folder}" + ("" if base else f"  (--data-dir or ${DATA_DIR_ENV} move it)")),
        ("history", str(history_db(folder))),
        ("profiles", str(profiles_dir(folder))),
        ("logs", str(logs_dir(folder))),
        ("catalog", str(PROCESSED_DIR.resolve())),
        ("checkpoints", str(MODELS_DIR.resolve())),
        ("default model", str(PACKAGE_ASSETS / "default_model.pt")),
    ]
    if profiles_dir(folder).is_dir():
        for child in sorted(profiles_dir(folder).iterdir()):
            if (child / MODEL_FILE).is_file():
                found.append((f"profile {child.name}", str(child / MODEL_FILE)))
    return found
