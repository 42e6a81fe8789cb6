"""Title, artist, album, genre, duration and ISRC of an audio file: from its tags, else from its path.

tinytag (MIT) reads the tags; mutagen would too, but it is GPL, so it only writes tags in the tests.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

UNKNOWN_ARTIST = "Unknown artist"

# "01 ", "01 - ", "1. ", "01_", "A1 " (vinyl sides) at the start of a file name.
_TRACK_NUMBER = re.compile(r"^\s*(?:[A-Da-d]?\d{1,3})(?:\s*[-._)]\s*|\s+)(?=\S)")
_ARTIST_TITLE = re.compile(r"\s+[-\u2013\u2014]\s+")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Tags:
    """What a file says about itself; empty strings where it says nothing."""

    title: str = ""
    artist: str = ""
    album: str = ""
    genre: str = ""
    duration_s: float | None = None
    isrc: str = ""


def repair_text(value: object) -> str:
    """Readable text from a tag value: mojibake undone, control characters and NULs dropped."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = _decode_bytes(value)
    text = str(value)
    # UTF-8 bytes that a tagger declared as latin-1 read as "BjÃ¶rk": undo it when that is exactly
    # what happened (genuine latin-1 such as "Björk" is not valid UTF-8 and stays as it is).
    if any("\x80" <= ch <= "\xff" for ch in text):
        try:
            text = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    text = _CONTROL.sub("", text.replace("\ufeff", ""))
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _decode_bytes(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def clean_isrc(value: object) -> str:
    """An ISRC as 12 upper-case characters (dashes and spaces removed), or '' when it is not one."""
    text = re.sub(r"[\s-]", "", repair_text(value)).upper()
    return text if _ISRC.match(text) else ""


def strip_track_number(stem: str) -> str:
    stripped = _TRACK_NUMBER.sub("", stem, count=1)
    return stripped or stem


def tags_from_path(path: Path, root: Path | None = None) -> Tags:
    """Names from `Artist/Album/NN Title.ext` (or `Artist - Title.ext`), counted below `root`."""
    path = Path(path)
    try:
        parents = path.parent.relative_to(root).parts if root is not None else path.parent.parts[-2:]
    except ValueError:
        parents = path.parent.parts[-2:]
    title = strip_track_number(path.stem.replace("_", " ").strip())
    artist = repair_text(parents[-2]) if len(parents) >= 2 else ""
    album = repair_text(parents[-1]) if parents else ""
    if not artist:
        pieces = _ARTIST_TITLE.split(title, maxsplit=1)
        if len(pieces) == 2 and all(p.strip() for p in pieces):
            artist, title = pieces[0], pieces[1]
    return Tags(title=repair_text(title), artist=repair_text(artist), album=album)


def _first(values: object) -> str:
    if isinstance(values, list | tuple):
        return repair_text(values[0]) if values else ""
    return repair_text(values)


def read_file_tags(path: Path) -> Tags:
    """The tags in `path` as tinytag reads them; an unreadable or untagged file gives empty Tags."""
    from tinytag import TinyTag, TinyTagException

    try:
        tag = TinyTag.get(path, tags=True, duration=True, image=False)
    except (TinyTagException, OSError, ValueError, KeyError, IndexError, TypeError,
            UnicodeError, OverflowError, ZeroDivisionError, AttributeError, EOFError):
        # tinytag reads untrusted bytes; whatever it trips on, the file still has a path to name it.
        return Tags()
    other = getattr(tag, "other", {}) or {}
    duration = tag.duration if tag.duration and tag.duration > 0 else None
    return Tags(
        title=repair_text(tag.title),
        artist=repair_text(tag.artist) or repair_text(tag.albumartist),
        album=repair_text(tag.album),
        genre=repair_text(tag.genre),
        duration_s=float(duration) if duration is not None else None,
        isrc=clean_isrc(_first(other.get("isrc", ""))),
    )


def read_tags(path: Path, root: Path | None = None) -> Tags:
    """Tags from the file, with whatever it lacks (title, artist, album) taken from its path."""
    own = read_file_tags(path)
    if own.title and own.artist and own.album:
        return own
    named = tags_from_path(path, root)
    return Tags(
        title=own.title or named.title,
        artist=own.artist or named.artist or UNKNOWN_ARTIST,
        album=own.album or named.album,
        genre=own.genre,
        duration_s=own.duration_s,
        isrc=own.isrc,
    )


def genres_text(genre: str) -> str:
    """The genre tag as the catalog keeps genres: lower-case, joined by ", " ("Rock/Pop" too)."""
    parts = re.split(r"\s*[,;/\x00]\s*", genre.lower())
    seen: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in seen:
            seen.append(part)
    return ", ".join(seen)
