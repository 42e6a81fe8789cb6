"""A profile's liked songs as an Exportify-style CSV (which `tui-dj prep` reads back) or M3U.

A song of a music folder is written as its file (a `file:` URI in the CSV's Track URI, the path in
the M3U), found in the catalog it was played from; the history keeps no paths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from tui_dj.atomic import atomic_write_bytes
from tui_dj.catalog.files import file_uri, is_local
from tui_dj.errors import TuiDjError
from tui_dj.paths import history_db
from tui_dj.store.history import HistoryStore
from tui_dj.store.profiles import profile_paths
from tui_dj.store.records import LikedSong

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


def track_uri(track_id: str, path: str | None = None) -> str:
    """Where a reader finds the song: its file's URI when it has one, else its Spotify URI."""
    if path:
        return file_uri(path)
    return track_id if track_id.startswith("spotify:") else f"spotify:track:{track_id}"


def _number(value: float) -> str:
    # repr-style floats keep every digit; numbers are never neutralised, so -7.5 stays a number.
    return format(float(value), ".7g") if value == value else ""


def _csv_row(song: LikedSong, path: str | None) -> list[str]:
    added = datetime.fromtimestamp(song.liked_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = {
        "Track URI": track_uri(song.track_id, path),
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


def liked_csv(songs: Sequence[LikedSong], paths: Mapping[str, str] | None = None) -> str:
    """`paths`: track id -> file, for the songs of a music folder."""
    paths = paths or {}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(EXPORTIFY_HEADER)
    writer.writerows(_csv_row(song, paths.get(song.track_id)) for song in songs)
    return buffer.getvalue()


def _one_line(text: str) -> str:
    # M3U is line-based: a newline inside a title would start a bogus entry.
    return " ".join(text.split())


def liked_m3u(songs: Sequence[LikedSong], paths: Mapping[str, str] | None = None) -> str:
    """`paths`: track id -> file, for the songs of a music folder (written as plain paths, which
    every player reads)."""
    paths = paths or {}
    lines = ["#EXTM3U"]
    for song in songs:
        seconds = max(1, round(song.duration_ms / 1000))
        lines.append(f"#EXTINF:{seconds},{_one_line(song.artist)} - {_one_line(song.name)}")
        path = paths.get(song.track_id)
        lines.append(_one_line(path) if path else track_uri(_one_line(song.track_id)))
    return "\n".join(lines) + "\n"


def export_liked(base: Path, profile: str, fmt: ExportFormat = "csv", out: Path | None = None,
                 catalog: Path | None = None) -> tuple[str, int]:
    """A profile's liked songs as CSV or M3U text; written atomically to `out` when given. The
    files of a music folder's songs are looked up in `catalog` (default: the one `play` uses).

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
    if not songs:
        raise TuiDjError(_nothing_liked(base, profile))
    paths = _file_paths([s.track_id for s in songs if is_local(s.track_id)], catalog)
    text = liked_csv(songs, paths) if fmt == "csv" else liked_m3u(songs, paths)
    if out is not None:
        atomic_write_bytes(Path(out), text.encode("utf-8"))
    return text, len(songs)


def _file_paths(local: list[str], catalog: Path | None) -> dict[str, str]:
    """The file of each music-folder song in `local`, from the catalog; one sentence when the
    catalog does not hold them all (an export without the file would name nothing playable)."""
    if not local:
        return {}
    from tui_dj.catalog import chosen_catalog_dir, load_catalog

    where = chosen_catalog_dir(catalog)
    paths: dict[str, str] = {}
    if where is not None:
        tracks = load_catalog(where).tracks
        if "path" in tracks.columns:
            paths = {str(t): str(p) for t, p in zip(tracks["track_id"], tracks["path"], strict=True)
                     if isinstance(p, str) and p}
    missing = sum(1 for track_id in local if track_id not in paths)
    if missing:
        held = f"the catalog in {where}" if where is not None else "the built-in catalog"
        verb = "is a file" if missing == 1 else "are files"
        raise TuiDjError(f"{missing} of the liked songs {verb} of a music folder that {held} does not hold, "
                         "so where they are is unknown; name the catalog they were played from with --catalog.")
    return paths


def _nothing_liked(base: Path, profile: str) -> str:
    path = history_db(Path(base))
    profiles: list[str] = []
    if path.exists():
        with HistoryStore(path, read_only=True) as store:
            profiles = store.profiles()
    if profile not in profiles:
        known = f" (profiles here: {', '.join(profiles)})" if profiles else ""
        return f"There is no profile {profile!r} in {base}{known}; nothing to export."
    return f"Profile {profile!r} has no liked songs yet; press l on a song in `tui-dj play --profile {profile}`."
