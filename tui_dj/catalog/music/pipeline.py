"""A music folder becomes catalog rows: walk files, read tags, look them up in the cache, borrow
Spotify's features where a catalog knows the song, and analyse only the rest, in worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tui_dj.catalog.files import local_track_id
from tui_dj.catalog.model import FEATURES, META_COLUMNS, N_FEATURES, Catalog
from tui_dj.catalog.music.analyse import (
    BORROWED,
    ESTIMATED,
    MEASURED,
    WINDOW_S,
    AnalysisResult,
    analyse,
    require_decoder,
)
from tui_dj.catalog.music.cache import Entry, MusicCache, head_hash, iter_chunks
from tui_dj.catalog.music.match import FeatureSource, MatchResult, match_tracks
from tui_dj.catalog.music.scan import AudioFile, scan
from tui_dj.catalog.music.tags import genres_text, read_tags
from tui_dj.errors import TuiDjError

# One letter per feature in `MusicImport.provenance`; `expand_provenance` spells them out.
PROVENANCE_CODES: dict[str, str] = {BORROWED: "b", MEASURED: "m", ESTIMATED: "e"}
_WORDS = {code: word for word, code in PROVENANCE_CODES.items()}
COLUMNS: tuple[str, ...] = (*META_COLUMNS, "path", "isrc", "key", "mode", "time_signature")
_TAG_BATCH = 500


@dataclass(frozen=True)
class MusicProgress:
    """Where an import is: `stage` is "scanning", "reading tags" or "analysing"; `current` a file name."""

    stage: str
    done: int
    total: int
    current: str = ""


ProgressFn = Callable[[MusicProgress], None]


@dataclass
class MusicImport:
    """The playable files as catalog rows. `tracks` has META_COLUMNS plus `path` (absolute), `isrc`,
    `key`, `mode` and `time_signature`; `raw` (n, 9) float32 holds the features in FEATURES order,
    unscaled; `provenance` (n, 9) one letter each ("b" borrowed, "m" measured, "e" estimated)."""

    tracks: pd.DataFrame
    raw: np.ndarray
    provenance: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tracks)

    def provenance_words(self) -> np.ndarray:
        return expand_provenance(self.provenance)

    def to_catalog(self, name: str = "music") -> Catalog:
        """A catalog of these songs (scaler fitted on them). Catalog keeps only its own columns, so
        keep `tracks` (track_id -> path) beside it to play the files."""
        if len(self.tracks) == 0:
            raise TuiDjError("No playable music files were found, so there is no catalog to make.")
        manifest = {"name": name, "source": "music files", "import": self.summary}
        return Catalog.from_raw(self.tracks, self.raw, manifest)


def expand_provenance(codes: np.ndarray) -> np.ndarray:
    """Letters ("b", "m", "e") to words ("borrowed", "measured", "estimated"), same shape."""
    return np.vectorize(_WORDS.__getitem__, otypes=[object])(codes) if np.size(codes) else np.asarray(codes, dtype=object)


# ---------------------------------------------------------------------------------------------
# Steps


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _new_entry(found: AudioFile, size: int, mtime_ns: int) -> Entry:
    try:
        head: str | None = head_hash(found.path)
    except OSError:
        head = None
    return Entry(str(found.path), size, mtime_ns, read_tags(found.path, found.root), head_hash=head)


def _reuse_moved(entry: Entry, gone: dict[str, Entry], by_size: dict[int, list[Entry]]) -> Entry:
    """The analysis of a file that was moved: the same size and first 64 KB under a path gone."""
    for old in by_size.get(entry.size, []):
        if old.path in gone and old.head_hash and old.head_hash == entry.head_hash and old.analysed:
            del gone[old.path]
            return replace(old, path=entry.path, mtime_ns=entry.mtime_ns, tags=entry.tags)
    return entry


@dataclass
class _Reconciled:
    """The scan set against the cache: every file's entry, those read afresh, paths gone, moves."""

    entries: list[Entry]
    fresh: list[Entry]
    gone: list[str]
    moved: int


def _reconcile(found: Sequence[AudioFile], known: dict[str, Entry], progress: ProgressFn | None) -> _Reconciled:
    """Reuse what the cache knows of unchanged (and moved) files; read the tags of the others."""
    present = {str(f.path) for f in found}
    # A path this scan did not see is another folder's file, kept (the cache serves every folder
    # ever scanned), or a file gone, which leaves the cache once a move has borrowed its analysis.
    # Only a gone file lends its analysis: a file still there that merely starts like this one
    # (a WAV's first 64 KB of silence) is another song.
    gone = {path: e for path, e in known.items() if path not in present and not os.path.lexists(path)}
    gone_paths = list(gone)
    gone_by_size: dict[int, list[Entry]] = {}
    for old in gone.values():
        gone_by_size.setdefault(old.size, []).append(old)
    entries: list[Entry] = []
    fresh: list[Entry] = []
    moved = 0
    for i, audio in enumerate(found):
        stat = _stat(audio.path)
        if stat is None:
            continue
        cached = known.get(str(audio.path))
        if cached is not None and (cached.size, cached.mtime_ns) == stat:
            entries.append(cached)
            continue
        entry = _new_entry(audio, *stat)
        if cached is None and gone:
            reused = _reuse_moved(entry, gone, gone_by_size)
            moved += reused is not entry
            entry = reused
        entries.append(entry)
        fresh.append(entry)
        if progress and (len(fresh) % 100 == 0 or i == len(found) - 1):
            progress(MusicProgress("reading tags", i + 1, len(found), audio.path.name))
    return _Reconciled(entries, fresh, gone_paths, moved)


def _ignore_interrupt() -> None:
    # ctrl-c reaches the whole process group; only the parent decides what stops, and how.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
    else:
        # Before 3.14 a pool can only wait for running tasks; a minute of audio each is too long to
        # wait for after ctrl-c, so end the worker processes themselves.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _pool(workers: int) -> ProcessPoolExecutor:
    # spawn: the parent may hold torch and threads, which a forked child must not inherit.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupt)


def _run_pool(queue: deque[Entry], workers: int, window_s: float,
              finish: Callable[[AnalysisResult], None]) -> list[Entry]:
    """Analyse the queue in one pool. Returns the files in flight if a worker died, else []."""
    pool = _pool(workers)
    in_flight: dict[Future[AnalysisResult], Entry] = {}
    try:
        while queue or in_flight:
            # A few tasks per worker keep them busy without queueing the whole library at once.
            while queue and len(in_flight) < 4 * workers:
                entry = queue.popleft()
                in_flight[pool.submit(analyse, entry.path, window_s)] = entry
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                entry = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    in_flight[future] = entry
                    pool.shutdown(wait=False, cancel_futures=True)
                    return list(in_flight.values())
                finish(result)
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    return []


def _analyse_all(todo: list[Entry], cache: MusicCache, workers: int, window_s: float,
                 progress: ProgressFn | None) -> dict[str, Entry]:
    """Analyse `todo`, storing each result the moment it arrives. Returns the updated entries."""
    done: dict[str, Entry] = {}
    by_path = {e.path: e for e in todo}

    def finish(result: AnalysisResult) -> None:
        entry = by_path[result.path].with_analysis(result)
        cache.put([entry])
        done[entry.path] = entry
        if progress:
            progress(MusicProgress("analysing", len(done), len(todo), Path(entry.path).name))

    if workers <= 1 or len(todo) == 1:
        for entry in todo:
            finish(analyse(entry.path, window_s))
        return done
    queue = deque(todo)
    suspects: list[Entry] = []
    while queue:
        before = len(done)
        crashed = _run_pool(queue, min(workers, len(queue)), window_s, finish)
        if crashed and len(done) == before and not suspects:
            raise TuiDjError("The audio analysis processes stopped before analysing a file; "
                             "run the import again with one worker to see why.")
        suspects += crashed
    # A worker died (FFmpeg crashed on some file): try each file that was in flight on its own, so
    # only the guilty one is marked as failed.
    for entry in suspects:
        if _run_pool(deque([entry]), 1, window_s, finish):
            finish(AnalysisResult(entry.path, reason="the decoder crashed on this file"))
    return done


def _source(features_from: Catalog | FeatureSource | None) -> FeatureSource | None:
    if features_from is None or isinstance(features_from, FeatureSource):
        return features_from
    return FeatureSource.from_catalog(features_from)


def import_music(
    paths: Iterable[str | os.PathLike[str]],
    *,
    cache_dir: str | os.PathLike[str],
    features_from: Catalog | FeatureSource | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    window_s: float = WINDOW_S,
) -> MusicImport:
    """Turn the music files under `paths` into catalog rows.

    Files unchanged since the last run (same path, size and mtime) come from the cache in
    `cache_dir`; files that `features_from` knows borrow its features; the rest are analysed in
    `workers` processes (default: one per CPU; 0 or 1 analyses in this process). A file that cannot
    be decoded is left out and named in `summary["failed"]`. KeyboardInterrupt stops the workers
    at once and propagates; every result already analysed is in the cache by then.
    Raises TuiDjError when a path does not exist, or analysis is needed and the audio extra is missing.
    """
    start = time.perf_counter()
    roots = [Path(p).expanduser() for p in paths]
    for root in roots:
        if not root.exists():
            raise TuiDjError(f"{root} does not exist.")
    found = scan(roots)
    if progress:
        progress(MusicProgress("scanning", len(found), len(found)))
    workers = (os.cpu_count() or 1) if workers is None else max(0, int(workers))

    with MusicCache(Path(cache_dir)) as cache:
        seen = _reconcile(found, cache.entries(), progress)
        for batch in iter_chunks(seen.fresh, _TAG_BATCH):
            cache.put(batch)
        cache.delete(seen.gone)
        entries, fresh = seen.entries, seen.fresh

        source = _source(features_from)
        matches = match_tracks([e.tags for e in entries], source) if source is not None else None
        todo = [e for i, e in enumerate(entries)
                if not e.analysed and (matches is None or matches.rows[i] is None)]
        fresh_paths = {e.path for e in fresh}
        from_cache = sum(1 for i, e in enumerate(entries) if e.path not in fresh_paths and e.analysed
                         and (matches is None or matches.rows[i] is None))
        if todo:
            require_decoder()
            analysed = _analyse_all(todo, cache, workers, window_s, progress)
            entries = [analysed.get(e.path, e) for e in entries]

    result = _rows(entries, source, matches)
    result.summary.update(
        files=len(found), analysed=len(todo), from_cache=from_cache, tags_read=len(fresh),
        moved=seen.moved, removed=len(seen.gone) - seen.moved, seconds=round(time.perf_counter() - start, 3),
    )
    return result


# ---------------------------------------------------------------------------------------------
# Rows


def _rows(entries: Sequence[Entry], source: FeatureSource | None, matches: MatchResult | None) -> MusicImport:
    records: list[dict[str, Any]] = []
    raw: list[tuple[float, ...]] = []
    provenance: list[list[str]] = []
    failed: list[dict[str, str]] = []
    borrowed = {"isrc": 0, "name": 0}
    for i, entry in enumerate(entries):
        row = matches.rows[i] if matches is not None else None
        tags = entry.tags
        record: dict[str, Any] = {
            "track_id": local_track_id(entry.path), "name": tags.title, "artist": tags.artist,
            "album": tags.album, "genres": genres_text(tags.genre), "popularity": 0.0,
            "duration_ms": int(round((tags.duration_s or 0.0) * 1000)), "path": entry.path,
            "isrc": tags.isrc, "key": entry.key, "mode": entry.mode, "time_signature": -1,
        }
        if row is not None and source is not None and matches is not None:
            other = source.tracks.iloc[row]
            borrowed[matches.how[i]] += 1
            record["popularity"] = float(other["popularity"])
            record["genres"] = record["genres"] or str(other["genres"] or "")
            record["duration_ms"] = record["duration_ms"] or int(other["duration_ms"])
            for column in ("key", "mode", "time_signature"):
                if column in other.index:
                    record[column] = int(other[column])
            raw.append(tuple(float(v) for v in source.raw[row]))
            provenance.append([PROVENANCE_CODES[BORROWED]] * N_FEATURES)
        elif entry.features is not None and entry.provenance is not None:
            raw.append(entry.features)
            provenance.append([PROVENANCE_CODES[p] for p in entry.provenance])
        else:
            failed.append({"path": entry.path, "name": Path(entry.path).name,
                           "reason": entry.failure or "not analysed"})
            continue
        records.append(record)
    tracks = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    tracks = tracks.astype({"popularity": "float64", "duration_ms": "int64", "key": "int64",
                            "mode": "int64", "time_signature": "int64"})
    summary: dict[str, Any] = {
        "rows": len(records),
        "failed": failed,
        "borrowed": sum(borrowed.values()),
        "borrowed_by_isrc": borrowed["isrc"],
        "borrowed_by_name": borrowed["name"],
        "match_rate": round(matches.rate, 4) if matches is not None else None,
        "popularity": "borrowed where matched, else 0",
    }
    return MusicImport(
        tracks=tracks,
        raw=np.asarray(raw, dtype=np.float32).reshape(-1, len(FEATURES)),
        provenance=np.asarray(provenance, dtype="<U1").reshape(-1, len(FEATURES)),
        summary=summary,
    )
