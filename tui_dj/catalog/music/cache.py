"""What is known about each music file (tags, duration, analysis), kept in one SQLite file so that a
re-scan reads only what changed. Every result is committed as it arrives: a kill loses nothing done.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui_dj.catalog.music.analyse import ANALYSIS_VERSION, AnalysisResult
from tui_dj.catalog.music.tags import Tags
from tui_dj.errors import TuiDjError

CACHE_FILE = "music-cache.sqlite3"
SCHEMA_VERSION = 1
_SET_VERSION = "PRAGMA user_version=1"  # a PRAGMA takes no parameters: the number is written out
HEAD_BYTES = 64 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    head_hash TEXT,
    title TEXT NOT NULL, artist TEXT NOT NULL, album TEXT NOT NULL, genre TEXT NOT NULL,
    isrc TEXT NOT NULL, duration_s REAL,
    analysis_version INTEGER, features TEXT, provenance TEXT, key INTEGER, mode INTEGER,
    failure TEXT
);
CREATE INDEX IF NOT EXISTS files_size ON files(size);
"""


@dataclass(frozen=True)
class Entry:
    """One file as the cache knows it. `features` is None until analysed (or when analysis failed)."""

    path: str
    size: int
    mtime_ns: int
    tags: Tags
    head_hash: str | None = None
    analysis_version: int | None = None
    features: tuple[float, ...] | None = None
    provenance: tuple[str, ...] | None = None
    key: int = -1
    mode: int = -1
    failure: str | None = None

    @property
    def analysed(self) -> bool:
        """True when a current analysis (success or failure) is stored, so none is needed."""
        return self.analysis_version == ANALYSIS_VERSION and (self.features is not None or self.failure is not None)

    def with_analysis(self, result: AnalysisResult) -> Entry:
        tags = self.tags
        if tags.duration_s is None and result.duration_s:
            tags = replace(tags, duration_s=result.duration_s)
        return replace(self, tags=tags, analysis_version=ANALYSIS_VERSION, features=result.features,
                       provenance=result.provenance, key=result.key, mode=result.mode,
                       failure=None if result.ok else (result.reason or "analysis failed"))


def head_hash(path: str | Path) -> str:
    """sha1 of the first 64 KB: with the size, enough to know a moved file without reading it all."""
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read(HEAD_BYTES), usedforsecurity=False).hexdigest()


class MusicCache:
    """The cache file under `cache_dir`. Use as a context manager, or call `close()`."""

    def __init__(self, cache_dir: str | Path) -> None:
        folder = Path(cache_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.path = folder / CACHE_FILE
            self._db = sqlite3.connect(self.path, timeout=10.0)
            # WAL: each commit is one small append, and a reader never waits for the writer.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                # A cache from another version of tui-dj: start afresh (it only saves time).
                self._db.execute("DROP TABLE IF EXISTS files")
            self._db.executescript(_SCHEMA)
            self._db.execute(_SET_VERSION)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise TuiDjError(f"The music cache in {folder} cannot be used ({exc}); delete {CACHE_FILE} there.") from None
        except OSError as exc:
            raise TuiDjError(f"Cannot create the music cache in {folder}: {exc.strerror or exc}.") from None

    def __enter__(self) -> MusicCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def entries(self) -> dict[str, Entry]:
        """Every file the cache knows, by path."""
        with closing(self._db.execute("SELECT * FROM files")) as cursor:
            return {row[0]: _entry(row) for row in cursor}

    def put(self, entries: Iterable[Entry]) -> None:
        """Store (replace) entries and commit at once."""
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (_row(e) for e in entries),
        )
        self._db.commit()

    def delete(self, paths: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in paths))
        self._db.commit()


def _row(e: Entry) -> tuple[object, ...]:
    t = e.tags
    return (
        e.path, e.size, e.mtime_ns, e.head_hash, t.title, t.artist, t.album, t.genre, t.isrc,
        t.duration_s, e.analysis_version,
        json.dumps(e.features) if e.features is not None else None,
        json.dumps(e.provenance) if e.provenance is not None else None,
        e.key, e.mode, e.failure,
    )


def _entry(row: tuple[Any, ...]) -> Entry:
    (path, size, mtime_ns, head, title, artist, album, genre, isrc, duration, version,
     features, provenance, key, mode, failure) = row
    return Entry(
        path=path, size=int(size), mtime_ns=int(mtime_ns),
        tags=Tags(title, artist, album, genre, duration, isrc),
        head_hash=head,
        analysis_version=version,
        features=tuple(json.loads(features)) if features is not None else None,
        provenance=tuple(json.loads(provenance)) if provenance is not None else None,
        key=-1 if key is None else int(key),
        mode=-1 if mode is None else int(mode),
        failure=failure,
    )


def iter_chunks(items: list[Entry], size: int) -> Iterator[list[Entry]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
