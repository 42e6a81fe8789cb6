"""Read Spotify-format CSV files of any known layout into one clean, de-duplicated catalog.

pyarrow parses (multi-threaded) and every cleaning step works on whole columns, so a 232,725-row file
imports in about a second; whatever the user can fix is raised as a TuiDjError of one sentence.
"""

from __future__ import annotations

import ast
import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tui_dj.catalog.model import FEATURES, GENRE_SEP, Catalog
from tui_dj.catalog.schemas import (
    EXPORTIFY_FEATURES_HELP,
    EXTRA_FIELDS,
    NUMBER_FIELDS,
    Detected,
    Schema,
    detect_schema,
    printable,
)
from tui_dj.errors import TuiDjError

HEAD_BYTES = 1 << 20
# pyarrow's default block size; a row longer than a block makes the reader retry with bigger ones.
BLOCK_BYTES = 1 << 20
MAX_BLOCK_BYTES = 256 << 20

TRUNCATED = "truncated last line"
MALFORMED = "malformed row (wrong number of fields)"
NO_ID = "no track id"
NO_FEATURES = "no audio features"
INCOMPLETE = "incomplete audio features"

TEMPO_FILLED = "tempo missing or 0, set to the catalog median"
LOUDNESS_CLIPPED = "loudness above 0 dB, set to 0"
CLIPPED = "feature values outside their range, clipped"
POPULARITY_FILLED = "popularity missing, set to 0"
DURATION_FILLED = "duration missing or under a second, set to the catalog median"
TITLE_FILLED = "title missing, shown as 'Unknown title'"
ARTIST_FILLED = "artist missing, shown as 'Unknown artist'"

# Spotify's own ranges; loudness is in dB and rarely below -60, tempo in BPM.
_RANGES = {**{f: (0.0, 1.0) for f in FEATURES}, "loudness": (-60.0, 0.0), "tempo": (0.0, 300.0)}
_TEMPO = FEATURES.index("tempo")
_LOUDNESS = FEATURES.index("loudness")
_DEFAULT_TEMPO = 120.0
_DEFAULT_DURATION_MS = 210_000
_MAX_DURATION_MS = 24 * 3600 * 1000

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or an Excel workbook)"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x93NUMPY", "a NumPy array file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "an image"),
)


@dataclass(frozen=True)
class Sniffed:
    """What the first megabyte of a file says: its encoding, delimiter and header."""

    encoding: str
    delimiter: str
    header: list[str]
    size: int


@dataclass
class Source:
    """One input file on its way into the catalog, and what became of its rows."""

    path: Path
    sniffed: Sniffed
    detected: Detected
    rows: Rows | None = None
    sha256: str = ""
    dropped: Counter[str] = field(default_factory=Counter)
    encoding: str = ""
    rows_read: int = 0
    rows_kept: int = 0
    duplicates: int = 0


# ---------------------------------------------------------------------------------------------
# Is it a CSV at all? (one sentence for everything that is not)


def _head(path: Path) -> tuple[bytes, int]:
    if not path.exists():
        raise TuiDjError(f"{path} does not exist.")
    if path.is_dir():
        raise TuiDjError(f"{path} is a folder, not a CSV file.")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise TuiDjError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return head, size


def _encoding(path: Path, head: bytes, complete: bool) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise TuiDjError(f"{path} is {what}, not a CSV file; unpack it or save it as CSV first.")
    sample = head[:65536]
    if b"\x00" in sample:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is zero.
        zeros_odd, zeros_even = sample[1::2].count(0), sample[0::2].count(0)
        if zeros_odd > 0.9 * len(sample) // 2 and zeros_even == 0:
            return "utf-16-le"
        if zeros_even > 0.9 * len(sample) // 2 and zeros_odd == 0:
            return "utf-16-be"
        raise TuiDjError(f"{path} is a binary file, not a CSV file.")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A head cut in the middle of a character is still UTF-8.
        if complete or exc.start < len(head) - 3:
            return "cp1252" if _decodes(head, "cp1252") else "latin-1"
    return "utf-8"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    control = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0)
    return control > 0.05 * max(len(sample), 1)


def _not_csv(path: Path, text: str) -> None:
    start = text.lstrip()[:200].lower()
    if start.startswith("{") or (start.startswith("[") and start[1:].lstrip()[:1] in ("{", "[", '"', "]")):
        raise TuiDjError(f"{path} is JSON, not CSV; export your songs as CSV instead.")
    if start.startswith(("<!doctype html", "<html")):
        raise TuiDjError(f"{path} is a web page, not CSV; download the raw file instead.")
    if _looks_binary(text):
        raise TuiDjError(f"{path} is a binary file, not a CSV file.")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def sniff(path: Path) -> Sniffed:
    """Read the head of `path`: refuse what is not a CSV, find its encoding, delimiter and header."""
    head, size = _head(path)
    complete = len(head) >= size
    encoding = _encoding(path, head, complete)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    if complete and not text.strip():
        raise TuiDjError(f"{path} is empty.")
    _not_csv(path, text)
    delimiter = _delimiter(text.split("\n", 1)[0])
    stream = io.StringIO(text, newline="")
    try:
        header = next(csv.reader(stream, delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        why = f" ({exc})" if str(exc) else ""
        raise TuiDjError(f"The first line of {path} cannot be read as a CSV header{why}.") from None
    rest = text[stream.tell():]
    if not complete and not rest:
        raise TuiDjError(f"The first line of {path} is longer than 1 MB, so it is not a CSV header.")
    if complete and not rest.strip():
        raise TuiDjError(f"{path} has a header but no rows of songs.")
    return Sniffed(encoding, delimiter, header, size)


# ---------------------------------------------------------------------------------------------
# Reading: pyarrow, only the columns we need; text as text, numbers as float64 when they all are


class _Tap(io.RawIOBase):
    """A file that hashes the bytes it hands out and reports how many went by."""

    def __init__(self, path: Path, advance: Callable[[int], None]) -> None:
        self._file = path.open("rb")
        self._advance = advance
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
            self._advance(n)
        return n or 0

    def finish(self) -> str:
        while self.read(1 << 20):
            pass
        return self.digest.hexdigest()

    def close(self) -> None:
        self._file.close()
        super().close()


def _last_line(path: Path, encoding: str) -> str:
    start = max(0, path.stat().st_size - 65536)
    start -= start % 2 if encoding.startswith("utf-16") else 0  # stay on a character boundary
    with path.open("rb") as handle:
        handle.seek(start)
        tail = handle.read().decode(encoding, errors="replace")
    return tail.rstrip("\r\n").rsplit("\n", 1)[-1].rstrip("\r")


def _read_table(source: Source, progress: Progress, task: TaskID) -> pa.Table:
    """Parse the file. Numbers are parsed by pyarrow itself unless some cell is not a plain number;
    then again as text (parsed leniently later), in a Windows encoding when it turns out not to be
    UTF-8, or with bigger blocks when one row is longer than a block."""
    encodings = list(dict.fromkeys([source.sniffed.encoding, "cp1252", "latin-1"]))
    block, typed = BLOCK_BYTES, True
    while True:
        progress.reset(task, total=source.sniffed.size)
        try:
            return _parse(source, encodings[0], block, typed, lambda n: progress.advance(task, n))
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if typed and "conversion error to double" in str(exc):
                typed = False
            elif (isinstance(exc, UnicodeDecodeError) or "UTF8" in str(exc)) and len(encodings) > 1:
                encodings.pop(0)
            elif "straddl" in str(exc) and block < min(source.sniffed.size, MAX_BLOCK_BYTES):
                block = min(block * 16, MAX_BLOCK_BYTES)
            else:
                raise TuiDjError(f"{source.path} cannot be read as CSV: {_first_line(exc)}.") from None
        except (OSError, pa.ArrowException) as exc:
            raise TuiDjError(f"{source.path} cannot be read as CSV: {_first_line(exc)}.") from None


def _parse(source: Source, encoding: str, block: int, typed: bool, advance: Callable[[int], None]) -> pa.Table:
    sniffed, path, positions = source.sniffed, source.path, source.detected.positions
    names = [f"c{i}" for i in range(len(sniffed.header))]
    types = {names[i]: pa.string() for i in positions.values()}
    if typed:
        types |= {names[positions[f]]: pa.float64() for f in NUMBER_FIELDS if f in positions}
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    with _Tap(path, advance) as tap:
        table = pacsv.read_csv(
            tap,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding=encoding, block_size=block
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sniffed.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=sorted(types, key=lambda name: int(name[1:])),
                column_types=types,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        source.sha256 = tap.finish()
    source.encoding = encoding
    source.dropped = Counter()
    if invalid:
        # Only the file's very last line can have been cut off; any other bad row is malformed.
        last = _last_line(path, encoding)
        truncated = min(1, sum(1 for text in invalid if text.rstrip("\r") == last))
        source.dropped.update({TRUNCATED: truncated, MALFORMED: len(invalid) - truncated})
        source.dropped = +source.dropped
    return table


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return printable(lines[0] if lines else type(exc).__name__, 200).rstrip(".")


# ---------------------------------------------------------------------------------------------
# Columns: from whatever a file wrote to the catalog's spelling


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
    joined = pa.array([GENRE_SEP.join(union[c]) for c in kept_codes[mask].tolist()], pa.string())
    return pc.replace_with_mask(out, pa.array(mask), joined)


# ---------------------------------------------------------------------------------------------
# Cleaning the kept songs' values


def _clean_features(raw: np.ndarray, adjusted: Counter[str]) -> float:
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


def _tracks_frame(text: pa.Table, numbers: np.ndarray, extras: np.ndarray, adjusted: Counter[str]) -> pd.DataFrame:
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


# ---------------------------------------------------------------------------------------------
# The whole import


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def import_files(files: Sequence[Path], console: Console | None = None) -> Catalog:
    """Read, clean and merge `files` into one catalog; its manifest says what happened to every row."""
    return import_sources(open_sources(files), console)


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


def import_sources(sources: list[Source], console: Console | None = None) -> Catalog:
    """Read the opened sources with a progress bar on stderr, then merge and clean them."""
    console = console or Console(stderr=True)
    with _progress(console) as progress:
        for source in sources:
            name = source.path.name if len(source.path.name) < 40 else source.path.name[:39] + "…"
            task = progress.add_task(f"Reading {name} ({source.detected.schema.title})", total=source.sniffed.size)
            table = _read_table(source, progress, task)
            source.rows = to_rows(table, source.detected, decimal_comma=source.sniffed.delimiter != ",")
            source.rows_read = table.num_rows + sum(source.dropped.values())
            del table
        progress.add_task("Merging and cleaning", total=None)
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
    tracks = _tracks_frame(text.set_column(4, "genres", genres), numbers, extras, adjusted)
    features = numbers[:, 2:]
    tempo_median = _clean_features(features, adjusted)
    manifest = _manifest(sources, len(kept), adjusted, tempo_median)
    return Catalog.from_raw(tracks, features.astype(np.float32), manifest)


_REASONS = ("kept", NO_ID, "duplicate", NO_FEATURES, INCOMPLETE)


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
