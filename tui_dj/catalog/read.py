"""Reading one CSV with pyarrow (multi-threaded): only the columns the catalog needs, text as text,
numbers as float64 when they all are; rows cut off or malformed are counted, not fatal."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from tui_dj.catalog.clean import Rows
from tui_dj.catalog.schemas import NUMBER_FIELDS, Detected, printable
from tui_dj.catalog.sniff import Sniffed
from tui_dj.errors import TuiDjError

# pyarrow's default block size; a row longer than a block makes the reader retry with bigger ones.
BLOCK_BYTES = 1 << 20
MAX_BLOCK_BYTES = 256 << 20

TRUNCATED = "truncated last line"
MALFORMED = "malformed row (wrong number of fields)"


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


def read_table(source: Source, advance: Callable[[int], None]) -> pa.Table:
    """Parse the file. Numbers are parsed by pyarrow itself unless some cell is not a plain number;
    then again as text (parsed leniently later), in a Windows encoding when it turns out not to be
    UTF-8, or with bigger blocks when one row is longer than a block. `advance(n)` hears of every
    n bytes read, and of -1 when the reading starts over."""
    encodings = list(dict.fromkeys([source.sniffed.encoding, "cp1252", "latin-1"]))
    block, typed = BLOCK_BYTES, True
    while True:
        advance(-1)
        try:
            return _parse(source, encodings[0], block, typed, advance)
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
