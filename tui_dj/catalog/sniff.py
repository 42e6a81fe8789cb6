"""Is it a CSV at all? The head of a file gives its encoding, delimiter and header, or one sentence
saying what the file is instead (a ZIP, JSON, a web page, binary, empty)."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from tui_dj.errors import TuiDjError

HEAD_BYTES = 1 << 20

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
