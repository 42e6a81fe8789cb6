"""Which known song-table format a CSV header belongs to, and where each catalog field sits in it.

Headers are matched by name, whatever their order, case, underscores or spaces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tui_dj.catalog.model import FEATURES
from tui_dj.errors import TuiDjError

# Fields an importer fills; the required ones are what a song needs to be learned from.
TEXT_FIELDS = ("track_id", "name", "artist", "album", "genres")
NUMBER_FIELDS = ("popularity", "duration_ms", *FEATURES)
EXTRA_FIELDS = ("key", "mode", "time_signature")
REQUIRED = ("track_id", "name", "artist", *FEATURES)

# How a file joins several artists: TidyTuesday, Exportify and maharshipandya write `A;B`.
ArtistFormat = Literal["plain", "semicolon"]
GenreFormat = Literal["single", "comma_list"]

_FEATURE_COLUMNS = {f: (f,) for f in FEATURES}
_EXTRA_COLUMNS = {"key": ("key",), "mode": ("mode",), "time_signature": ("time signature",)}


def normalise_name(name: str) -> str:
    """`Track_ID`, ` track id ` and `TRACK-ID` all become `track id`."""
    name = name.replace("\ufeff", "").strip().strip('"').lower()
    return re.sub(r"[\s_\-]+", " ", name).strip()


@dataclass(frozen=True)
class Schema:
    """One known layout: the columns that identify it and where each field is read from."""

    key: str
    title: str
    marks: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    header: str = ""
    artists: ArtistFormat = "plain"
    genres: GenreFormat = "single"

    def locate(self, names: Sequence[str]) -> dict[str, int]:
        """Field -> column index, for the fields this header has (first candidate found wins)."""
        where: dict[str, int] = {}
        for i, name in enumerate(names):
            where.setdefault(name, i)
        found: dict[str, int] = {}
        for fld, candidates in self.columns.items():
            for candidate in candidates:
                if candidate in where:
                    found[fld] = where[candidate]
                    break
        return found

    def known_names(self) -> set[str]:
        return {c for cands in self.columns.values() for c in cands} | set(self.marks)

    def shown(self, fld: str) -> str:
        """How this format spells `fld` in its own header, for messages."""
        spelled = {normalise_name(h): h for h in self.header.split(",")}
        first = self.columns[fld][0] if self.columns.get(fld) else fld
        return spelled.get(first, first.replace(" ", "_"))


def _columns(**fields: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {**_FEATURE_COLUMNS, **_EXTRA_COLUMNS, **fields}


KAGGLE = Schema(
    "kaggle",
    "Kaggle Ultimate Spotify Tracks DB",
    ("genre", "artist name", "track name", "track id"),
    _columns(track_id=("track id",), name=("track name",), artist=("artist name",), genres=("genre",),
             popularity=("popularity",), duration_ms=("duration ms",)),
    "genre,artist_name,track_name,track_id,popularity,acousticness,danceability,duration_ms,energy,"
    "instrumentalness,key,liveness,loudness,mode,speechiness,tempo,time_signature,valence",
)
TIDYTUESDAY = Schema(
    "tidytuesday",
    "TidyTuesday spotify_songs",
    ("track id", "track name", "track artist", "playlist genre"),
    _columns(track_id=("track id",), name=("track name",), artist=("track artist",),
             album=("track album name",), genres=("playlist genre",), popularity=("track popularity",),
             duration_ms=("duration ms",)),
    "track_id,track_name,track_artist,track_popularity,track_album_id,track_album_name,"
    "track_album_release_date,playlist_name,playlist_id,playlist_genre,playlist_subgenre,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,duration_ms",
    artists="semicolon",
)
MAHARSHIPANDYA = Schema(
    "maharshipandya",
    "maharshipandya spotify-tracks-dataset",
    ("track id", "artists", "track name", "track genre"),
    _columns(track_id=("track id",), name=("track name",), artist=("artists",), album=("album name",),
             genres=("track genre",), popularity=("popularity",), duration_ms=("duration ms",)),
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,energy,key,"
    "loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,"
    "track_genre",
    artists="semicolon",
)
TRACKS_600K = Schema(
    "tracks600k",
    "600k tracks.csv",
    ("id", "name", "artists", "id artists"),
    _columns(track_id=("id",), name=("name",), artist=("artists",), popularity=("popularity",),
             duration_ms=("duration ms",)),
    "id,name,popularity,duration_ms,explicit,artists,id_artists,release_date,danceability,energy,key,"
    "loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature",
)
_EXPORTIFY_IDS = ("track uri", "track id", "spotify id", "spotify uri")
EXPORTIFY_LEGACY = Schema(
    "exportify_legacy",
    "Exportify (legacy exporter)",
    ("track name", "track duration (ms)"),
    _columns(track_id=_EXPORTIFY_IDS, name=("track name",), artist=("artist name(s)", "artist name"),
             album=("album name",), genres=("artist genres", "genres"), popularity=("popularity",),
             duration_ms=("track duration (ms)",)),
    "Track URI,Track Name,Artist URI(s),Artist Name(s),Album URI,Album Name,Album Artist URI(s),"
    "Album Artist Name(s),Album Release Date,Album Image URL,Disc Number,Track Number,Track Duration (ms),"
    "Track Preview URL,Explicit,Popularity,ISRC,Added By,Added At,Artist Genres,Danceability,Energy,Key,"
    "Loudness,Mode,Speechiness,Acousticness,Instrumentalness,Liveness,Valence,Tempo,Time Signature",
    genres="comma_list",
    artists="semicolon",
)
EXPORTIFY = Schema(
    "exportify",
    "Exportify",
    ("track name", "artist name(s)", "duration (ms)"),
    _columns(track_id=_EXPORTIFY_IDS, name=("track name",), artist=("artist name(s)",),
             album=("album name",), genres=("genres",), popularity=("popularity",),
             duration_ms=("duration (ms)",)),
    "Track URI,Track Name,Album Name,Artist Name(s),Release Date,Duration (ms),Popularity,Explicit,"
    "Added By,Added At,Genres,Record Label,Danceability,Energy,Key,Loudness,Mode,Speechiness,"
    "Acousticness,Instrumentalness,Liveness,Valence,Tempo,Time Signature",
    genres="comma_list",
    artists="semicolon",
)
GENERIC = Schema(
    "generic",
    "generic Spotify-format CSV",
    (),
    _columns(
        track_id=("track id", "track uri", "spotify id", "spotify uri", "id", "uri", "track url",
                  "spotify url"),
        name=("track name", "name", "title", "song name", "song", "track title", "track"),
        artist=("artist name", "artist names", "artist name(s)", "artists", "artist", "artist(s)",
                "track artist"),
        album=("album name", "album", "track album name"),
        genres=("genres", "genre", "track genre", "playlist genre", "artist genres"),
        popularity=("popularity", "track popularity"),
        duration_ms=("duration ms", "duration (ms)", "track duration (ms)"),
    ),
    "track_id,track_name,artist_name,album_name,genre,popularity,duration_ms," + ",".join(FEATURES),
    artists="semicolon",
)
KNOWN: tuple[Schema, ...] = (KAGGLE, TIDYTUESDAY, MAHARSHIPANDYA, TRACKS_600K, EXPORTIFY_LEGACY, EXPORTIFY)
_HINTS = {
    "kaggle": "SpotifyFeatures.csv",
    "tidytuesday": "spotify_songs.csv",
    "maharshipandya": "dataset.csv",
    "tracks600k": "tracks.csv",
    "exportify_legacy": "an Exportify playlist export",
    "exportify": "an Exportify playlist export",
    "generic": "any CSV with a track id, name, artist and the nine audio features",
}
EXPORTIFY_FEATURES_HELP = (
    "re-export it at https://exportify.net, whose exports include Danceability, Energy and the other "
    "audio-feature columns (the old exporter only added them with its 'Include audio features' setting on)"
)


@dataclass(frozen=True)
class Detected:
    """A header matched to a format: `positions` maps each field found to its column index."""

    schema: Schema
    positions: dict[str, int] = field(default_factory=dict)
    variant: str = ""

    @property
    def description(self) -> str:
        return f"{self.schema.title} ({self.variant})" if self.variant else self.schema.title


def printable(text: str, limit: int = 40) -> str:
    """A header name fit for a one-line message: no control characters, not too long."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text.replace("\ufeff", "")).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _found_list(header: Sequence[str], limit: int = 12) -> str:
    shown = [printable(h) or "(empty)" for h in header[:limit]]
    more = f" and {len(header) - limit} more" if len(header) > limit else ""
    return ", ".join(shown) + more


_EXPORTIFY_ID_HEADERS = {"track id": "Track ID", "spotify id": "Spotify ID", "spotify uri": "Spotify URI"}


def _variant(schema: Schema, names: Sequence[str], positions: dict[str, int]) -> str:
    """Exportify's first column was renamed over the years; say which one this file has."""
    if schema.key.startswith("exportify") and "track_id" in positions:
        spelled = _EXPORTIFY_ID_HEADERS.get(names[positions["track_id"]])
        if spelled:
            return f"older header with {spelled}"
    return ""


def _nearest(names: Sequence[str]) -> Schema:
    present = set(names)
    scores = [(len(present & s.known_names()) / len(s.known_names()), s) for s in (*KNOWN, GENERIC)]
    score, best = max(scores, key=lambda pair: pair[0])
    return best if score > 0 else GENERIC


def detect_schema(header: Sequence[str], source: str) -> Detected:
    """Match `header` to a known format, or say in one sentence what is missing and what is near."""
    names = [normalise_name(h) for h in header]
    marked: Schema | None = None
    for schema in KNOWN:
        if not set(schema.marks) <= set(names):
            continue
        positions = schema.locate(names)
        missing = [f for f in REQUIRED if f not in positions]
        if not missing:
            return Detected(schema, positions, _variant(schema, names, positions))
        if schema.key.startswith("exportify") and set(FEATURES) <= set(missing):
            raise TuiDjError(
                f"{source} is an Exportify export without audio features, so there is nothing to learn "
                f"from; {EXPORTIFY_FEATURES_HELP}."
            )
        marked = marked or schema
    positions = GENERIC.locate(names)
    if all(f in positions for f in REQUIRED):
        return Detected(GENERIC, positions)
    raise TuiDjError(_missing_message(source, header, names, marked))


def _article(title: str) -> str:
    return "an" if title[:1].lower() in "aeiou" else "a"


def _missing_message(source: str, header: Sequence[str], names: Sequence[str], marked: Schema | None) -> str:
    near = marked or _nearest(names)
    positions = near.locate(names)
    missing = [near.shown(f) for f in REQUIRED if f not in positions]
    found = _found_list(header)
    if marked is not None:
        return (
            f"{source} looks like {_article(near.title)} {near.title} file but lacks the column(s) "
            f"{', '.join(missing)} (its header has: {found})."
        )
    header_start = ",".join(near.header.split(",")[:8])
    return (
        f"{source} lacks columns tui-dj needs (missing: {', '.join(missing)}; found: {found}); "
        f"the nearest known format is {near.title} ({_HINTS[near.key]}), whose header starts "
        f"{header_start},…"
    )
