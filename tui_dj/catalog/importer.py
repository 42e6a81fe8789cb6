"""Read Spotify-format CSV files of any known layout into one clean, de-duplicated catalog.

The steps live beside this file: `sniff` (is it a CSV, which encoding and header), `schemas` (which
layout), `read` (pyarrow parsing), `clean` (columns to the catalog's spelling); this module merges
the files' rows into one song per track id, keeping every genre it was listed under, and writes
the manifest that says what happened to every row. Whatever the user can fix is raised as a
TuiDjError of one sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tui_dj.catalog.clean import (
    clean_features,
    clean_ids,
    key_number,
    list_text,
    mode_number,
    time_signature_number,
    to_rows,
    tracks_frame,
)
from tui_dj.catalog.files import FILE_SCHEME, local_track_id, uri_path
from tui_dj.catalog.model import FEATURES, GENRE_SEP, Catalog
from tui_dj.catalog.read import Source, read_table
from tui_dj.catalog.schemas import EXPORTIFY_FEATURES_HELP, detect_schema
from tui_dj.catalog.sniff import sniff
from tui_dj.errors import TuiDjError

NO_ID = "no track id"
NO_FEATURES = "no audio features"
INCOMPLETE = "incomplete audio features"
_TEMPO = FEATURES.index("tempo")

# (what, bytes done, bytes in all): the import's progress, for a bar drawn by the caller.
ProgressFn = Callable[[str, int, int], None]

__all__ = ["clean_ids", "import_files", "import_sources", "key_number", "list_text", "mode_number",
           "open_sources", "time_signature_number"]


# ---------------------------------------------------------------------------------------------
# Merging: one song per track id, keeping every genre it was listed under


def _first_usable(codes: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Row index of each track's first usable row (or its first row when none is usable)."""
    order = np.lexsort((~usable, codes))  # stable: within a track, usable rows first, file order
    sorted_codes = codes[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    return np.sort(order[starts])


def _merged_genres(genres: pa.ChunkedArray, codes: np.ndarray, kept: np.ndarray) -> pa.ChunkedArray:
    """The genres of each kept row, joined with those of the other rows of the same track."""
    out = genres.take(pa.array(kept))
    counts = np.bincount(codes)
    repeated = np.flatnonzero(counts[codes] > 1)
    if len(repeated) == 0:
        return out
    # Only rows of repeated tracks get here (a few percent in real files), in file order.
    union: dict[int, list[str]] = {}
    for code, text in zip(codes[repeated].tolist(), genres.take(pa.array(repeated)).to_pylist(), strict=True):
        bucket = union.setdefault(code, [])
        bucket.extend(g for g in (text or "").split(GENRE_SEP) if g and g not in bucket)
    kept_codes = codes[kept]
    mask = counts[kept_codes] > 1
    # The same string type as `out` (a catalog read back from parquet holds large strings).
    joined = pa.array([GENRE_SEP.join(union[c]) for c in kept_codes[mask].tolist()], out.type)
    return pc.replace_with_mask(out, pa.array(mask), joined)




def import_files(files: Sequence[Path], on_progress: ProgressFn | None = None) -> Catalog:
    """Read, clean and merge `files` into one catalog; its manifest says what happened to every row."""
    return import_sources(open_sources(files), on_progress)


def open_sources(files: Sequence[Path]) -> list[Source]:
    """Check every file and recognise its format before reading any, so a bad one fails fast."""
    paths = [Path(f) for f in files]
    if not paths:
        raise TuiDjError("No CSV files were given.")
    sources = []
    for path in paths:
        sniffed = sniff(path)
        sources.append(Source(path, sniffed, detect_schema(sniffed.header, str(path))))
    return sources


def import_sources(sources: list[Source], on_progress: ProgressFn | None = None) -> Catalog:
    """Read the opened sources (reporting bytes read), then merge and clean them."""
    for source in sources:
        what = f"Reading {source.path.name} ({source.detected.schema.title})"
        done = 0

        def advance(n: int, what: str = what, total: int = source.sniffed.size) -> None:
            nonlocal done
            done = 0 if n < 0 else done + n
            if on_progress is not None:
                on_progress(what, done, total)

        table = read_table(source, advance)
        source.rows = to_rows(table, source.detected, decimal_comma=source.sniffed.delimiter != ",")
        source.rows_read = table.num_rows + sum(source.dropped.values())
        del table
    if on_progress is not None:
        on_progress("Merging and cleaning", 0, 0)
    return _build(sources)


def _build(sources: list[Source]) -> Catalog:
    parts = [s.rows for s in sources if s.rows is not None]
    if len(parts) == 1:
        text, numbers, extras = parts[0].text, parts[0].numbers, parts[0].extras
    else:
        text = pa.concat_tables([p.text for p in parts])
        numbers = np.concatenate([p.numbers for p in parts])
        extras = np.concatenate([p.extras for p in parts])
    origin = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts)])
    for source in sources:
        source.rows = None
    if len(text) == 0:
        raise TuiDjError(_nothing_usable(sources))

    raw = numbers[:, 2:]
    absent = np.isnan(raw)
    no_features = np.all(absent | (raw == 0), axis=1)
    others = np.ones(len(FEATURES), dtype=bool)
    others[_TEMPO] = False  # a missing tempo is filled in, any other missing feature is not
    incomplete = absent[:, others].any(axis=1) & ~no_features

    ids = text.column("track_id").combine_chunks()
    has_id = pc.not_equal(ids, "").to_numpy(zero_copy_only=False)
    usable = has_id & ~no_features & ~incomplete
    codes = ids.dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
    reps = _first_usable(codes, usable)
    reps = reps[has_id[reps]]

    is_rep = np.zeros(len(text), dtype=bool)
    is_rep[reps] = True
    reason = np.zeros(len(text), dtype=np.int8)  # index into _REASONS
    reason[~has_id] = 1
    reason[has_id & ~is_rep] = 2
    reason[is_rep & no_features] = 3
    reason[is_rep & incomplete] = 4
    _account(sources, origin, reason)

    kept = reps[usable[reps]]
    if len(kept) == 0:
        raise TuiDjError(_nothing_usable(sources))
    adjusted: Counter[str] = Counter()
    genres = _merged_genres(text.column("genres"), codes, kept)
    if len(kept) < len(text):  # else every row is kept, in order: no need to copy
        text, numbers, extras = text.take(pa.array(kept)), numbers[kept], extras[kept]
    tracks = _music_files(tracks_frame(text.set_column(4, "genres", genres), numbers, extras, adjusted))
    features = numbers[:, 2:]
    tempo_median = clean_features(features, adjusted)
    manifest = _manifest(sources, len(kept), adjusted, tempo_median)
    return Catalog.from_raw(tracks, features.astype(np.float32), manifest)


_REASONS = ("kept", NO_ID, "duplicate", NO_FEATURES, INCOMPLETE)


def _music_files(tracks: pd.DataFrame) -> pd.DataFrame:
    """Rows whose id is a `file:` URI (a music folder's songs in `tui-dj export`) are those songs
    again: the id the music-folder import gives the file, and its path to play it from."""
    paths = [uri_path(t) if t.startswith(FILE_SCHEME) else None for t in tracks["track_id"]]
    if not any(paths):
        return tracks
    tracks["path"] = paths
    tracks["track_id"] = [local_track_id(p) if p else t for p, t in zip(paths, tracks["track_id"], strict=True)]
    return tracks


def _account(sources: list[Source], origin: np.ndarray, reason: np.ndarray) -> None:
    n = len(_REASONS)
    table = np.bincount(origin * n + reason, minlength=len(sources) * n).reshape(len(sources), n)
    for source, counts in zip(sources, table.tolist(), strict=True):
        source.rows_kept, source.duplicates = counts[0], counts[2]
        source.dropped.update({_REASONS[i]: counts[i] for i in (1, 3, 4) if counts[i]})


def _nothing_usable(sources: list[Source]) -> str:
    names = ", ".join(s.path.name for s in sources)
    rows = sum(s.rows_read for s in sources)
    total: Counter[str] = Counter()
    for source in sources:
        total.update(source.dropped)
    exportify = any(s.detected.schema.key.startswith("exportify") for s in sources)
    featureless = bool(total) and total.most_common(1)[0][0] == NO_FEATURES
    total["repeated rows of those tracks"] = sum(s.duplicates for s in sources)
    why = "; ".join(f"{n:,} {reason}" for reason, n in total.most_common() if n) or "no rows of songs"
    message = f"None of the {rows:,} rows in {names} could be used ({why})"
    if exportify and featureless:
        message += f"; {EXPORTIFY_FEATURES_HELP}"
    return message + "."


def _manifest(sources: list[Source], kept: int, adjusted: Counter[str], tempo_median: float) -> dict[str, Any]:
    dropped: Counter[str] = Counter()
    for source in sources:
        dropped.update(source.dropped)
    schemas = {s.detected.schema.key for s in sources}
    first = sources[0].path.name
    return {
        "name": first if len(sources) == 1 else f"{first} + {len(sources) - 1} more",
        "schema": schemas.pop() if len(schemas) == 1 else "mixed",
        "sources": [
            {
                "path": str(s.path.resolve()),
                "sha256": s.sha256,
                "bytes": s.sniffed.size,
                "schema": s.detected.schema.key,
                "schema_found": s.detected.description,
                "encoding": s.encoding,
                "delimiter": s.sniffed.delimiter,
                "rows_read": s.rows_read,
                "rows_kept": s.rows_kept,
                "duplicates_merged": s.duplicates,
                "dropped": dict(s.dropped.most_common()),
            }
            for s in sources
        ],
        "rows_read": sum(s.rows_read for s in sources),
        "unique_tracks": kept + dropped[NO_FEATURES] + dropped[INCOMPLETE],
        "duplicates_merged": sum(s.duplicates for s in sources),
        "rows_kept": kept,
        "dropped": dict(dropped.most_common()),
        "adjusted": {reason: n for reason, n in adjusted.most_common() if n},
        "tempo_median": tempo_median,
    }


def merge_catalogs(old: Catalog, new: Catalog) -> Catalog:
    """`old` with `new`'s songs added (`tui-dj prep --add`): a song in both keeps its first row and
    every genre; the features are scaled afresh over all the songs."""
    raw = np.concatenate([old.raw_features(), new.raw_features()])
    tracks = pd.concat([old.tracks, new.tracks], ignore_index=True)
    ids = tracks["track_id"].to_numpy()
    codes = pd.factorize(ids)[0]
    first = np.sort(np.unique(codes, return_index=True)[1])
    genres = _merged_genres(pa.chunked_array([pa.array(tracks["genres"].fillna("").astype(str))]), codes, first)
    merged = tracks.iloc[first].reset_index(drop=True)
    merged["genres"] = genres.to_pandas()
    sources = list(old.manifest.get("sources", [])) + list(new.manifest.get("sources", []))
    manifest = {
        **new.manifest,
        "name": f"{old.name} + {new.name}",
        "schema": "mixed" if old.manifest.get("schema") != new.manifest.get("schema") else new.manifest.get("schema"),
        "sources": sources,
        "rows_read": int(old.manifest.get("rows_read", len(old))) + int(new.manifest.get("rows_read", len(new))),
        "duplicates_merged": len(tracks) - len(first),
        "rows_kept": len(first),
    }
    manifest.pop("fingerprint", None)
    return Catalog.from_raw(merged, raw[first], manifest)
