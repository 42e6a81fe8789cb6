"""Borrow Spotify's own features for local files: match each file to a row of a Spotify-features
catalog by ISRC, else by normalised artist and title with a duration that agrees.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tui_dj.catalog.model import Catalog
from tui_dj.catalog.music.tags import Tags, clean_isrc

DURATION_TOLERANCE_S = 3.0

# Words that mark a version of the same recording (or a credit) rather than another song.
_VERSION_WORDS = (
    r"remaster(?:ed)?(?:\s+version)?|\d{4}\s+remaster(?:ed)?|remaster(?:ed)?\s+\d{4}|"
    r"radio\s+edit|single\s+version|album\s+version|original\s+mix|"
    r"live(?:\s+(?:at|in|from)\b.*)?|mono(?:\s+version)?|stereo(?:\s+version)?|explicit|clean|"
    r"bonus\s+track|deluxe(?:\s+edition)?"
)
_FEATURING = r"(?:feat\.?|ft\.?|featuring|with)\s"
_BRACKETED = re.compile(r"\s*[\(\[]\s*(?:" + _FEATURING + r"|(?:[^\)\]]*\b(?:" + _VERSION_WORDS + r")))[^\)\]]*[\)\]]", re.I)
_DASH_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+(?:.*\b(?:" + _VERSION_WORDS + r")\b.*|" + _FEATURING + r".*)$", re.I)
_INLINE_FEAT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s.*$", re.I)
_ARTIST_SPLIT = re.compile(r"\s*(?:,|;|/|\s&\s|\s+(?:feat\.?|ft\.?|featuring|x|vs\.?|with)\s+)\s*", re.I)
_NOT_WORD = re.compile(r"[^\w]+")
_SPOTIFY_ID = re.compile(r"([0-9A-Za-z]{22})\s*$")


def fold(text: str) -> str:
    """Case-folded, accents stripped ("Jóga" and "JOGA" agree), "&" read as "and"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("&", " and ").replace("\u00df", "ss")


def normalise_title(title: str) -> str:
    """The song, without version suffixes ("- Remastered 2011", "(Radio Edit)") or guest credits."""
    text = title.strip()
    for _ in range(3):  # "Song (feat. X) - Remastered 2009 [Live]" peels off in turns
        before = text
        text = _DASH_SUFFIX.sub("", _BRACKETED.sub("", text))
        text = _INLINE_FEAT.sub("", text)
        if text == before:
            break
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split()) or " ".join(_NOT_WORD.sub(" ", fold(title)).split())


def normalise_artist(artist: str) -> str:
    """The first artist of a list ("A, B", "A feat. B", "A & B" all give "a"), folded."""
    first = _ARTIST_SPLIT.split(artist.strip(), maxsplit=1)[0] or artist
    words = _NOT_WORD.sub(" ", fold(first)).split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]  # "The Beatles" / "Beatles"
    return " ".join(words)


def artist_keys(artist: str) -> tuple[str, ...]:
    """The first artist, and the whole credit folded: "Simon & Garfunkel" must meet both
    "Simon and Garfunkel" (whole) and a catalog's "Simon & Garfunkel, Paul Simon" (first)."""
    whole = " ".join(_NOT_WORD.sub(" ", fold(artist)).split())
    whole = whole[4:] if whole.startswith("the ") else whole
    first = normalise_artist(artist)
    return (first,) if whole == first else (first, whole)


def spotify_id(text: str) -> str:
    """The 22-character id from `spotify:track:ID`, an open.spotify.com link or a bare id."""
    found = _SPOTIFY_ID.search(str(text).split("?")[0].rstrip("/"))
    return found.group(1) if found else ""


@dataclass
class FeatureSource:
    """Rows to borrow from: `tracks` with the catalog's metadata columns (and `isrc` when known),
    `raw` their nine features unscaled, in FEATURES order."""

    tracks: pd.DataFrame
    raw: np.ndarray
    _by_isrc: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def from_catalog(cls, catalog: Catalog, isrcs: Mapping[str, str] | None = None) -> FeatureSource:
        """From a catalog; `isrcs` (track id -> ISRC) adds the ISRCs a catalog does not keep."""
        tracks = catalog.tracks.reset_index(drop=True)
        if isrcs:
            tracks = tracks.assign(isrc=tracks["track_id"].astype(str).map(dict(isrcs)).fillna(""))
        return cls(tracks, catalog.raw_features())

    @classmethod
    def from_csv(cls, paths: Sequence[Path]) -> FeatureSource:
        """Import Spotify-format CSVs as `tui-dj prep` does, keeping any ISRC column they have."""
        from tui_dj.catalog.importer import import_files

        return cls.from_catalog(import_files(list(paths)), read_isrcs(paths))

    def isrc_index(self) -> dict[str, int]:
        if self._by_isrc is None:
            self._by_isrc = {}
            if "isrc" in self.tracks.columns:
                for row, value in enumerate(self.tracks["isrc"].astype(str).tolist()):
                    code = clean_isrc(value)
                    if code:
                        self._by_isrc.setdefault(code, row)
        return self._by_isrc


def read_isrcs(paths: Iterable[Path]) -> dict[str, str]:
    """track id -> ISRC from CSVs that have an `ISRC` column (Exportify's legacy exports do)."""
    found: dict[str, str] = {}
    id_columns = ("Track URI", "Track ID", "Spotify ID", "track_id", "id", "Spotify URI")
    for path in paths:
        try:
            header = pd.read_csv(path, nrows=0, encoding_errors="replace").columns
        except (OSError, ValueError, pd.errors.ParserError):
            continue
        isrc_col = next((c for c in header if str(c).strip().lower() == "isrc"), None)
        id_col = next((c for c in id_columns if c in header), None)
        if isrc_col is None or id_col is None:
            continue
        frame = pd.read_csv(path, usecols=[id_col, isrc_col], dtype=str, encoding_errors="replace").fillna("")
        for raw_id, isrc in zip(frame[id_col].tolist(), frame[isrc_col].tolist(), strict=True):
            track, code = spotify_id(raw_id), clean_isrc(isrc)
            if track and code:
                found.setdefault(track, code)
    return found


@dataclass(frozen=True)
class MatchResult:
    """For each file, the source row it matched (or None) and how ("isrc", "name" or "")."""

    rows: tuple[int | None, ...]
    how: tuple[str, ...]

    @property
    def matched(self) -> int:
        return sum(row is not None for row in self.rows)

    @property
    def rate(self) -> float:
        return self.matched / len(self.rows) if self.rows else 0.0


def _close(a: float | None, b_ms: float, tolerance_s: float) -> bool:
    return a is not None and b_ms > 0 and abs(a - b_ms / 1000.0) <= tolerance_s


def match_tracks(files: Sequence[Tags], source: FeatureSource,
                 tolerance_s: float = DURATION_TOLERANCE_S) -> MatchResult:
    """Match each file's tags to a row of `source`.

    ISRC first (an ISRC names one recording, so the duration is not checked); else the same first
    artist and title once normalised, with durations at most `tolerance_s` apart (a file of unknown
    duration is not matched by name). Among several candidates the closest duration wins."""
    by_isrc = source.isrc_index()
    wanted_artists = {key for t in files if t.artist for key in artist_keys(t.artist)}
    tracks = source.tracks
    # Normalise only the catalog rows whose artist some file has: a 232,725-row catalog holds
    # ~30,000 distinct artist strings, a music folder a few hundred.
    artist_codes, artist_names = pd.factorize(tracks["artist"].astype(str))
    keys_of_artist = [artist_keys(a) for a in artist_names]
    wanted_codes = np.array([bool(wanted_artists.intersection(k)) for k in keys_of_artist], dtype=bool)
    candidates = np.flatnonzero(wanted_codes[artist_codes]) if len(artist_names) else np.array([], int)
    by_name: dict[tuple[str, str], list[int]] = {}
    names = tracks["name"].astype(str).to_numpy()
    for row in candidates.tolist():
        title = normalise_title(names[row])
        for key in keys_of_artist[artist_codes[row]]:
            by_name.setdefault((key, title), []).append(row)
    durations = tracks["duration_ms"].to_numpy(dtype=np.float64)

    rows: list[int | None] = []
    how: list[str] = []
    for tags in files:
        if tags.isrc and tags.isrc in by_isrc:
            rows.append(by_isrc[tags.isrc])
            how.append("isrc")
            continue
        title = normalise_title(tags.title)
        rows_named = {r for key in artist_keys(tags.artist) for r in by_name.get((key, title), [])}
        near = [r for r in sorted(rows_named) if _close(tags.duration_s, durations[r], tolerance_s)]
        if near:
            rows.append(min(near, key=lambda r: abs(durations[r] / 1000.0 - (tags.duration_s or 0.0))))
            how.append("name")
        else:
            rows.append(None)
            how.append("")
    return MatchResult(tuple(rows), tuple(how))
