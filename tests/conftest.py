"""Shared fixtures. Each group's fixtures share a prefix (`csv_` for the CSV importer's)."""

from __future__ import annotations

import csv
import io
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import configuration as _hypothesis_configuration

# Tests write only to temporary folders: hypothesis would otherwise make .hypothesis/ in the
# working directory, which in CI is a clone of the project.
_hypothesis_configuration.set_hypothesis_home_dir(tempfile.mkdtemp(prefix="tui-dj-hypothesis-"))

# --- a home of its own: no test reads or writes the user's ---------------------------------------

# Everything that finds a folder through the environment: the data folder (and so the music cache),
# the platform's folders, and what audio libraries write when they probe a sound server
# (libpulse makes ~/.config/pulse). Subprocesses inherit os.environ, so they are covered too.
HOME_VARIABLES = ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "TUI_DJ_DATA_DIR")


@pytest.fixture(autouse=True)
def scratch_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home per test (outside the test's own tmp_path, which some tests list), with the XDG
    folders and $TUI_DJ_DATA_DIR inside it."""
    home = tmp_path_factory.mktemp("home")
    folders = {"HOME": home, "XDG_DATA_HOME": home / ".local" / "share", "XDG_CONFIG_HOME": home / ".config",
               "XDG_CACHE_HOME": home / ".cache", "XDG_STATE_HOME": home / ".local" / "state",
               "TUI_DJ_DATA_DIR": home / ".local" / "share" / "tui-dj"}
    for name in HOME_VARIABLES:
        monkeypatch.setenv(name, os.fspath(folders[name]))
    monkeypatch.delenv("PULSE_COOKIE", raising=False)
    return home


@pytest.fixture(autouse=True)
def _no_desktop_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the desktop's D-Bus session bus (a console offering MPRIS finds none, and
    so does a `tui-dj play` the test starts); tests/test_mpris.py starts a private one."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tui-dj-tests-have-no-bus")


# --- csv_: small song tables in every format the importer knows, written by the tests themselves --

_CSV_PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_CSV_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CSV_FEATURES = ("acousticness", "danceability", "energy", "instrumentalness", "liveness", "loudness",
                 "speechiness", "tempo", "valence")
_CSV_GENRES = ["pop", "rock", "rap", "jazz", "edm"]


def _csv_song(rng: random.Random, i: int) -> dict[str, Any]:
    features = {f: round(rng.uniform(0.01, 0.99), 4) for f in _CSV_FEATURES}
    features["loudness"] = round(rng.uniform(-30, -1), 3)
    features["tempo"] = round(rng.uniform(60, 200), 3)
    return {
        "id": "".join(rng.choice(_CSV_BASE62) for _ in range(22)),
        "name": f"Song {i}",
        "artists": [f"Artist {i % 7}"] + ([f"Guest {i}"] if i % 5 == 0 else []),
        "album": f"Album {i % 4}",
        "genre": _CSV_GENRES[i % len(_CSV_GENRES)],
        "popularity": rng.randint(0, 100),
        "duration_ms": rng.randint(90_000, 400_000),
        "key": rng.randint(0, 11),
        "mode": rng.randint(0, 1),
        "time_signature": rng.choice([3, 4, 4, 4, 5]),
        **features,
    }


def _csv_features(song: dict[str, Any], capitalise: bool = False) -> dict[str, Any]:
    return {(f.capitalize() if capitalise else f): song[f] for f in _CSV_FEATURES}


def _csv_kaggle(s: dict[str, Any]) -> dict[str, Any]:
    return {"genre": s["genre"].capitalize(), "artist_name": ", ".join(s["artists"]), "track_name": s["name"],
            "track_id": s["id"], "popularity": s["popularity"], "duration_ms": s["duration_ms"],
            "key": _CSV_PITCHES[s["key"]], "mode": "Major" if s["mode"] else "Minor",
            "time_signature": f"{s['time_signature']}/4", **_csv_features(s)}


def _csv_tidytuesday(s: dict[str, Any]) -> dict[str, Any]:
    return {"track_id": s["id"], "track_name": s["name"], "track_artist": s["artists"][0],
            "track_popularity": s["popularity"], "track_album_id": s["id"][::-1],
            "track_album_name": s["album"], "track_album_release_date": "2019-06-14",
            "playlist_name": f"{s['genre']} mix", "playlist_id": "37i9dQZF1DXcZDD7cfEKhW",
            "playlist_genre": s["genre"], "playlist_subgenre": f"dance {s['genre']}",
            "key": s["key"], "mode": s["mode"], "duration_ms": s["duration_ms"], **_csv_features(s)}


def _csv_exportify(s: dict[str, Any], id_header: str = "Track URI") -> dict[str, Any]:
    track = f"spotify:track:{s['id']}" if id_header == "Track URI" else s["id"]
    return {id_header: track, "Track Name": s["name"], "Album Name": s["album"],
            "Artist Name(s)": ",".join(s["artists"]), "Release Date": "6/25/2013",
            "Duration (ms)": s["duration_ms"], "Popularity": s["popularity"], "Explicit": "FALSE",
            "Added By": "", "Added At": "2024-07-29T17:58:15Z", "Genres": f"{s['genre']},indie {s['genre']}",
            "Record Label": "Label", "Key": s["key"], "Mode": s["mode"],
            "Time Signature": s["time_signature"], **_csv_features(s, capitalise=True)}


def _csv_exportify_legacy(s: dict[str, Any], features: bool = True) -> dict[str, Any]:
    row = {"Track URI": f"spotify:track:{s['id']}", "Track Name": s["name"],
           "Artist URI(s)": "spotify:artist:1", "Artist Name(s)": ", ".join(s["artists"]),
           "Album URI": "spotify:album:1", "Album Name": s["album"], "Album Artist URI(s)": "",
           "Album Artist Name(s)": s["artists"][0], "Album Release Date": "1990-07-16",
           "Album Image URL": "", "Disc Number": 1, "Track Number": 1,
           "Track Duration (ms)": s["duration_ms"], "Track Preview URL": "", "Explicit": "false",
           "Popularity": s["popularity"], "ISRC": "USPR36400012", "Added By": "", "Added At": ""}
    if features:
        row |= {"Artist Genres": s["genre"], "Key": s["key"], "Mode": s["mode"],
                "Time Signature": s["time_signature"], **_csv_features(s, capitalise=True)}
    return row


def _csv_maharshipandya(s: dict[str, Any]) -> dict[str, Any]:
    return {"": s["popularity"] * 7, "track_id": s["id"], "artists": ";".join(s["artists"]),
            "album_name": s["album"], "track_name": s["name"], "popularity": s["popularity"],
            "duration_ms": s["duration_ms"], "explicit": "False", "key": s["key"], "mode": s["mode"],
            "time_signature": s["time_signature"], "track_genre": s["genre"], **_csv_features(s)}


def _csv_tracks600k(s: dict[str, Any]) -> dict[str, Any]:
    return {"id": s["id"], "name": s["name"], "popularity": s["popularity"],
            "duration_ms": s["duration_ms"], "explicit": 0, "artists": repr(s["artists"]),
            "id_artists": repr(["1" * 22]), "release_date": "1922-02-22", "key": s["key"],
            "mode": s["mode"], "time_signature": s["time_signature"], **_csv_features(s)}


def _csv_generic(s: dict[str, Any]) -> dict[str, Any]:
    return {"Spotify URI": f"spotify:track:{s['id']}", "Title": s["name"], "Artist": ", ".join(s["artists"]),
            **_csv_features(s)}


CSV_FORMATS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "kaggle": _csv_kaggle,
    "tidytuesday": _csv_tidytuesday,
    "exportify": _csv_exportify,
    "exportify_track_id": lambda s: _csv_exportify(s, "Track ID"),
    "exportify_spotify_id": lambda s: _csv_exportify(s, "Spotify ID"),
    "exportify_legacy": _csv_exportify_legacy,
    "exportify_legacy_no_features": lambda s: _csv_exportify_legacy(s, features=False),
    "maharshipandya": _csv_maharshipandya,
    "tracks600k": _csv_tracks600k,
    "generic": _csv_generic,
}


@pytest.fixture
def csv_songs() -> Callable[..., list[dict[str, Any]]]:
    """`csv_songs(n, seed)`: plain song dicts (id, name, artists list, genre, the nine features, ...)."""
    return lambda n=20, seed=0: [_csv_song(random.Random(seed * 100_003 + i), i) for i in range(n)]


@pytest.fixture
def csv_text() -> Callable[..., str]:
    """`csv_text(fmt, songs, shuffle_seed=None)`: the songs as CSV text in one of `CSV_FORMATS`."""

    def make(fmt: str, songs: list[dict[str, Any]], shuffle_seed: int | None = None) -> str:
        rows = [CSV_FORMATS[fmt](s) for s in songs]
        header = list(rows[0])
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(header)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    return make


@pytest.fixture
def csv_file(tmp_path: Path, csv_songs: Callable[..., list[dict[str, Any]]], csv_text: Callable[..., str]) -> Callable[..., Path]:
    """`csv_file(fmt, songs=None, name=None, text=None, bom=False, encoding="utf-8")`: write a CSV
    under tmp_path (`text` given: exactly that text) and return its path."""

    def make(fmt: str = "kaggle", songs: list[dict[str, Any]] | None = None, name: str | None = None,
             text: str | None = None, bom: bool = False, encoding: str = "utf-8") -> Path:
        body = text if text is not None else csv_text(fmt, songs if songs is not None else csv_songs())
        path = tmp_path / (name or f"{fmt}.csv")
        path.write_bytes(("\ufeff" if bom else "").encode(encoding) + body.encode(encoding))
        return path

    return make


@pytest.fixture
def csv_real_data() -> Path:
    """The real files beside the project (../shared/data); the test is skipped where they are absent."""
    folder = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not (folder / "spotify_songs_tidytuesday.csv").is_file():
        pytest.skip(f"the real data files are not at {folder} (they live beside the project, not in it)")
    return folder
