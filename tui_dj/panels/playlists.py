"""Real playlists as listeners: a person who likes songs near their playlist's songs.

Each playlist of the TidyTuesday file (its `playlist_id`) and the Exportify liked songs become one
listener. The playlist's own songs are taken out of the catalog the session plays from, so none can
be found by lookup: the DJ has to find songs like them. The listener judges a song by how close it
is to the nearest song of their playlist, measured against how close the playlist's songs are to
each other (`r`, the median distance from one of them to the nearest other):
- as close as the playlist's songs are to each other (d <= r): like;
- within twice that: they let it play to the end; further: skip; far away (d > 4r): one time in
  five a dislike;
- the same artist again within three songs lands one step lower (a like is only heard out);
- like the personas, they stay for the whole session.
The distance is the plain one over the nine scaled features, with a day-to-day variation of ±10%.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tui_dj.catalog import Catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.rewards import REWARDS
from tui_dj.learn.songs import SongTable

MIN_SONGS = 10  # playlists with fewer songs say too little about a taste
_DEMOTE = {"like": "finish", "finish": "skip", "skip": "skip", "dislike": "dislike"}


@dataclass(frozen=True)
class Playlist:
    name: str
    track_ids: tuple[str, ...]
    seed: int


def _seed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def tidytuesday_playlists(path: Path) -> list[Playlist]:
    """Every playlist of the TidyTuesday `spotify_songs.csv` with at least `MIN_SONGS` songs."""
    try:
        frame = pd.read_csv(path, usecols=["track_id", "playlist_id", "playlist_name"], dtype=str)
    except (OSError, ValueError) as exc:
        raise TuiDjError(f"{path} is not the TidyTuesday spotify_songs.csv ({exc}).") from None
    out = []
    for playlist_id, group in frame.groupby("playlist_id", sort=True):
        ids = tuple(dict.fromkeys(group["track_id"].dropna()))
        if len(ids) >= MIN_SONGS:
            name = f"{group['playlist_name'].iloc[0]} ({playlist_id})"
            out.append(Playlist(name, ids, _seed(str(playlist_id))))
    return out


def exportify_playlist(path: Path, name: str = "Exportify liked songs") -> Playlist:
    """An Exportify export (its `Track URI` or `Track ID` column) as one playlist."""
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise TuiDjError(f"{path} cannot be read as an Exportify export ({exc}).") from None
    column = next((c for c in ("Track URI", "Track ID", "Spotify ID") if c in frame.columns), None)
    if column is None:
        raise TuiDjError(f"{path} has no Track URI column; it is not an Exportify export.")
    ids = tuple(dict.fromkeys(str(v).rsplit(":", 1)[-1] for v in frame[column].dropna()))
    return Playlist(name, ids, _seed(name))


def without(catalog: Catalog, rows: np.ndarray, name: str) -> Catalog:
    """`catalog` with `rows` taken out (scaled as before, so distances compare)."""
    keep = np.ones(len(catalog), bool)
    keep[rows] = False
    manifest = {k: v for k, v in catalog.manifest.items() if k != "fingerprint"}
    manifest["name"] = name
    return Catalog(catalog.features[keep], catalog.tracks.loc[keep].reset_index(drop=True), catalog.scaler, manifest)


class PlaylistListener:
    """Listens as the owner of a playlist would (see the module's docstring)."""

    def __init__(self, songs: np.ndarray) -> None:
        self.centres = np.asarray(songs, np.float32)  # the playlist's songs (what the oracle reads)
        self.recent_artists: deque[int] = deque(maxlen=3)
        self.heard: set[int] = set()
        m = len(self.centres)
        if m >= 2:
            d = np.sqrt(((self.centres[:, None] - self.centres[None]) ** 2).sum(-1))
            np.fill_diagonal(d, np.inf)
            self.r = float(np.median(d.min(axis=1)))
        else:
            self.r = 0.1

    def distance(self, x: np.ndarray) -> np.ndarray:
        """Distance of songs (k, 9) to the nearest song of the playlist, in units of `r`."""
        x = np.asarray(x, np.float32).reshape(-1, self.centres.shape[1])
        d2 = ((x * x).sum(1)[:, None] + (self.centres * self.centres).sum(1)[None] - 2 * x @ self.centres.T)
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0)) / max(self.r, 1e-6)

    def utility(self, indices: np.ndarray, x: np.ndarray, popularity: np.ndarray,
                artists: np.ndarray) -> np.ndarray:
        """Higher is better: minus the distance in units of r, a step lower for an artist repeat."""
        repeat = np.isin(np.asarray(artists, np.int64), list(self.recent_artists))
        heard = np.isin(np.asarray(indices), list(self.heard))
        return -self.distance(x) - 1.0 * repeat - 10.0 * heard

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
        d = float(self.distance(songs.features[row])[0]) * float(np.exp(rng.normal(0.0, 0.1)))
        if d <= 1.0:
            reaction = "like"
        elif d <= 2.0:
            reaction = "finish"
        elif d > 4.0 and rng.random() < 0.2:
            reaction = "dislike"
        else:
            reaction = "skip"
        artist = int(songs.artists[row])
        if artist in self.recent_artists or row in self.heard:
            reaction = _DEMOTE[reaction]
        self.recent_artists.append(artist)
        self.heard.add(int(row))
        return reaction, REWARDS[reaction]
