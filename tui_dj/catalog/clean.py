"""From whatever a file wrote to the catalog's spelling: ids, artists, genres, numbers, keys, modes,
metres; and the kept songs' values cleaned (ranges clipped, blanks filled), each change counted.

Every step works on whole columns (pyarrow compute), so a 232,725-row file cleans in well under a
second.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tui_dj.catalog.model import FEATURE_RANGES, FEATURES, GENRE_SEP
from tui_dj.catalog.schemas import EXTRA_FIELDS, NUMBER_FIELDS, Detected, Schema

TEMPO_FILLED = "tempo missing or 0, set to the catalog median"
LOUDNESS_CLIPPED = "loudness above 0 dB, set to 0"
CLIPPED = "feature values outside their range, clipped"
POPULARITY_FILLED = "popularity missing, set to 0"
DURATION_FILLED = "duration missing or under a second, set to the catalog median"
TITLE_FILLED = "title missing, shown as 'Unknown title'"
ARTIST_FILLED = "artist missing, shown as 'Unknown artist'"

_RANGES = FEATURE_RANGES
_TEMPO = FEATURES.index("tempo")
_LOUDNESS = FEATURES.index("loudness")
_DEFAULT_TEMPO = 120.0
_DEFAULT_DURATION_MS = 210_000
_MAX_DURATION_MS = 24 * 3600 * 1000


Text: TypeAlias = "pa.Array | pa.ChunkedArray"  # a text column, whole or in chunks

# How R, pandas and spreadsheets write a missing value into a text column.
_MISSING_TEXT = pa.array(["NA", "N/A", "#N/A", "NaN", "nan", "null", "NULL"], pa.string())


def _trim(column: Text) -> Text:
    """Text without surrounding spaces, and "" wherever the file wrote a missing value."""
    column = pc.utf8_trim_whitespace(column.fill_null(""))
    missing = pc.is_in(column, value_set=_MISSING_TEXT)
    return pc.if_else(missing, "", column) if _any(missing) else column


def _any(mask: Text) -> bool:
    return bool(pc.any(mask).as_py())


def clean_ids(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """`spotify:track:ID`, `https://open.spotify.com/track/ID?si=…` and `ID` all become `ID`."""
    column = _trim(column)
    # A bare Spotify id has 22 characters; only other lengths can carry a prefix or a query.
    if _any(pc.not_equal(pc.utf8_length(column), 22)):
        column = pc.replace_substring_regex(
            column, r"^(?:spotify:track:|https?://open\.spotify\.com/(?:[\w-]+/)?track/)", ""
        )
        column = pc.replace_substring_regex(column, r"\?.*$", "")
    return column


def list_text(text: str) -> str:
    """`['A', "B's"]` (a Python list written as text) becomes `A, B's`; never evaluates code."""
    value: Any = None
    if len(text) <= 10_000:
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = None
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        items = [part.strip().strip("'\"").strip() for part in text.strip("[]").split(",")]
    return GENRE_SEP.join(item for item in items if item)


def _map_unique(column: pa.ChunkedArray, convert: Callable[[str], Any], dtype: Any) -> np.ndarray:
    """Apply a Python function once per distinct value, not once per row."""
    column = column.fill_null("")
    uniques = pc.unique(column)
    values = np.array([convert(v) for v in uniques.to_pylist()], dtype=dtype)
    if len(values) == 0:
        return np.zeros(len(column), dtype=dtype)
    index = pc.index_in(column, value_set=uniques).to_numpy(zero_copy_only=False)
    return values[index.astype(np.int64)]


def _unlist(column: Text) -> Text:
    is_list = pc.and_(pc.starts_with(column, "["), pc.ends_with(column, "]"))
    if not pc.any(is_list).as_py():
        return column
    lists = pc.filter(column, is_list)
    uniques = pc.unique(lists)
    texts = pa.array([list_text(v) for v in uniques.to_pylist()], pa.string())
    replaced = pc.take(texts, pc.index_in(column, value_set=uniques))
    return pc.if_else(is_list, replaced, column)


def clean_artists(column: pa.ChunkedArray, schema: Schema) -> pa.ChunkedArray:
    """Artists as one `A, B` string, whether the file joined them with `;` or wrote a list."""
    column = _unlist(_trim(column))
    if schema.artists == "semicolon":
        column = pc.replace_substring_regex(column, r"\s*;\s*", GENRE_SEP)
    return column


def clean_genres(column: pa.ChunkedArray) -> Text:
    """Lower-case genres joined by ", " (`Pop`, `rock,indie rock` and `['pop']` alike)."""
    # A file has few distinct genre strings: clean each once, then spread them over the rows.
    encoded = column.fill_null("").combine_chunks().dictionary_encode()
    return pc.take(_clean_genre_texts(encoded.dictionary), encoded.indices)


def _clean_genre_texts(column: Text) -> Text:
    column = pc.utf8_lower(_unlist(_trim(column)))
    column = pc.replace_substring(column, "\u2019", "'")
    column = pc.replace_substring_regex(column, r"\s*,[\s,]*", GENRE_SEP)
    return pc.replace_substring_regex(column, r"^(?:, )+|(?:, )+$", "")


def to_numbers(column: pa.ChunkedArray, decimal_comma: bool = False) -> np.ndarray:
    """float64 from a column pyarrow already parsed, or from text (scientific notation included,
    blanks and junk become NaN); infinities become NaN too."""
    if pa.types.is_floating(column.type):
        numbers = column.to_numpy()
    else:
        text = _trim(column)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        try:
            numbers = pc.cast(text, pa.float64()).to_numpy()
        except pa.ArrowInvalid:
            # Some cell is not a plain number: parse leniently, the bad cells become NaN.
            series = text.to_pandas()
            if decimal_comma:
                series = series.str.replace(",", ".", regex=False)
            numbers = pd.to_numeric(series, errors="coerce")
    numbers = np.array(numbers, dtype=np.float64)
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


_PITCHES = {"c": 0, "b#": 0, "c#": 1, "db": 1, "d": 2, "d#": 3, "eb": 3, "e": 4, "fb": 4, "f": 5,
            "e#": 5, "f#": 6, "gb": 6, "g": 7, "g#": 8, "ab": 8, "a": 9, "a#": 10, "bb": 10, "b": 11,
            "cb": 11}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


def key_number(text: str) -> int:
    """Pitch class 0-11 from `C#`, `Db`, `1` or `1.0`; -1 when unknown (Spotify's own convention)."""
    text = text.strip().lower().replace("\u266f", "#").replace("\u266d", "b").replace(" ", "")
    if text in _PITCHES:
        return _PITCHES[text]
    value = _small_number(text)
    return value if 0 <= value <= 11 else -1


def mode_number(text: str) -> int:
    """1 for major (`Major`, `1`), 0 for minor (`Minor`, `0`), -1 when unknown."""
    text = text.strip().lower()
    if text in ("major", "maj", "1", "1.0"):
        return 1
    if text in ("minor", "min", "0", "0.0"):
        return 0
    return -1


def time_signature_number(text: str) -> int:
    """Beats per bar from `4`, `4/4`, or what a spreadsheet made of `x/4` (`4-Apr`, `04-Apr`)."""
    text = text.strip().lower()
    dated = re.fullmatch(r"0*(\d{1,2})[-/ ]([a-z]{3})[a-z]*", text)
    if dated and dated.group(2) in _MONTHS:
        day, month = int(dated.group(1)), _MONTHS[dated.group(2)]
        # `x/4` read as a date: day x of April (day-first locales) or day 4 of month x.
        value = day if month == 4 else month
        return value if day == 4 or month == 4 else -1
    fraction = re.fullmatch(r"(\d{1,2})\s*/\s*4", text)
    value = int(fraction.group(1)) if fraction else _small_number(text)
    return value if 0 <= value <= 16 else -1


def _small_number(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        return -1
    return int(value) if value.is_integer() and abs(value) < 100 else -1


def _empty(n: int) -> pa.ChunkedArray:
    return pa.chunked_array([pa.nulls(n, pa.string()).fill_null("")])


@dataclass
class Rows:
    """One file's rows in the catalog's spelling: text columns, numbers, and the extras."""

    text: pa.Table  # TEXT_FIELDS
    numbers: np.ndarray  # (n, 11) float64: NUMBER_FIELDS (popularity, duration_ms, the features)
    extras: np.ndarray  # (n, 3) int8: EXTRA_FIELDS (key, mode, time_signature), -1 unknown

    def __len__(self) -> int:
        return self.text.num_rows


def to_rows(table: pa.Table, detected: Detected, decimal_comma: bool = False) -> Rows:
    """Trim the text, parse the numbers and decode the extras of one file's table."""
    n = table.num_rows

    def get(fld: str) -> pa.ChunkedArray:
        pos = detected.positions.get(fld)
        return table.column(f"c{pos}") if pos is not None else _empty(n)

    text = pa.table({
        "track_id": clean_ids(get("track_id")),
        "name": _trim(get("name")),
        "artist": clean_artists(get("artist"), detected.schema),
        "album": _trim(get("album")),
        "genres": clean_genres(get("genres")),
    })
    numbers = np.full((n, len(NUMBER_FIELDS)), np.nan)
    for i, fld in enumerate(NUMBER_FIELDS):
        if fld in detected.positions:
            numbers[:, i] = to_numbers(get(fld), decimal_comma)
    extras = np.full((n, len(EXTRA_FIELDS)), -1, dtype=np.int8)
    decoders = {"key": key_number, "mode": mode_number, "time_signature": time_signature_number}
    for i, fld in enumerate(EXTRA_FIELDS):
        if fld in detected.positions:
            extras[:, i] = _map_unique(get(fld), decoders[fld], np.int8)
    return Rows(text, numbers, extras)



def clean_features(raw: np.ndarray, adjusted: Counter[str]) -> float:
    """Clip to Spotify's ranges and fill a missing tempo; returns the tempo median used."""
    tempo = raw[:, _TEMPO]
    missing_tempo = np.isnan(tempo) | (tempo <= 0)
    median = float(np.median(tempo[~missing_tempo])) if (~missing_tempo).any() else _DEFAULT_TEMPO
    tempo[missing_tempo] = median
    adjusted[TEMPO_FILLED] += int(missing_tempo.sum())
    loud = raw[:, _LOUDNESS] > 0
    adjusted[LOUDNESS_CLIPPED] += int(loud.sum())
    low = np.array([_RANGES[f][0] for f in FEATURES])
    high = np.array([_RANGES[f][1] for f in FEATURES])
    outside = (raw < low) | (raw > high)
    outside[:, _LOUDNESS] &= ~loud
    adjusted[CLIPPED] += int(outside.any(axis=1).sum())
    np.clip(raw, low, high, out=raw)
    return median


def _fill_blank(column: pa.ChunkedArray, placeholder: str, reason: str, adjusted: Counter[str]) -> pa.ChunkedArray:
    blank = pc.equal(column, "")
    adjusted[reason] += pc.sum(blank).as_py() or 0
    return pc.if_else(blank, placeholder, column) if adjusted[reason] else column


def tracks_frame(text: pa.Table, numbers: np.ndarray, extras: np.ndarray, adjusted: Counter[str]) -> pd.DataFrame:
    """The kept songs' metadata with blanks filled, popularity 0-100 and whole-millisecond durations."""
    text = text.set_column(1, "name", _fill_blank(text.column("name"), "Unknown title", TITLE_FILLED, adjusted))
    text = text.set_column(
        2, "artist", _fill_blank(text.column("artist"), "Unknown artist", ARTIST_FILLED, adjusted)
    )
    tracks = text.to_pandas()
    popularity = numbers[:, 0]
    adjusted[POPULARITY_FILLED] += int(np.isnan(popularity).sum())
    tracks["popularity"] = np.clip(np.nan_to_num(popularity, nan=0.0), 0, 100).astype(np.float32)
    duration = numbers[:, 1]
    # Under a second is no song (and 0.4 would round to a zero-length one): treat it as missing.
    missing = np.isnan(duration) | (duration < 1000)
    fill = float(np.median(duration[~missing])) if (~missing).any() else _DEFAULT_DURATION_MS
    adjusted[DURATION_FILLED] += int(missing.sum())
    tracks["duration_ms"] = np.round(np.where(missing, fill, np.minimum(duration, _MAX_DURATION_MS))).astype(np.int64)
    for i, fld in enumerate(EXTRA_FIELDS):
        tracks[fld] = extras[:, i]
    return tracks
