"""Personas: people whose hidden tastes are placed across the whole feature space on purpose.

One person at each extreme of acousticness, instrumentalness, valence, speechiness, energy and
tempo (the song in the middle of that feature's top or bottom tenth of the catalog), and one at the
middle of each genre. They all share one set of habits, a person's: they like a few songs (the 5%
of the catalog that fits them best), let most that fit play to the end (the next 20%), skip
quickly what does not fit, dislike rarely, and tire of the same artist. They are the simulator's `Listener`, with their tastes set rather than drawn,
and, like the issue's listeners, they stay for the whole session (60 songs, a reaction after each)
rather than walking away; nothing in them was changed after seeing how any policy did.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from tui_dj.catalog import FEATURES, Catalog
from tui_dj.catalog.model import GENRE_SEP
from tui_dj.config import EnvConfig
from tui_dj.learn.listener import Habits, Listener
from tui_dj.learn.songs import SongTable

EXTREMES = ("acousticness", "instrumentalness", "valence", "speechiness", "energy", "tempo")
DECILE = 0.1
WIDTH = 0.35  # the middle of the simulator's range (0.28-0.42)
POPULARITY_WEIGHT = 0.15
# A persona named for a feature cares about it three times as much as about each other one.
FOCUS = 3.0


@dataclass(frozen=True)
class Persona:
    name: str
    centre: np.ndarray  # scaled features of the song their taste is centred on
    importance: np.ndarray
    seed: int

    def listener(self, songs: SongTable) -> Listener:
        person = Listener(self.centre, self.importance, WIDTH, POPULARITY_WEIGHT, Habits(), EnvConfig(quit=False))
        return person.calibrate(songs)


def _medoid(features: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The song of `rows` nearest their mean: a real song in the middle of them."""
    x = features[rows]
    return x[np.argmin(((x - x.mean(axis=0)) ** 2).sum(1))]


def _seed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def personas(catalog: Catalog) -> list[Persona]:
    """The personas of `catalog`: two per extreme feature, then one per genre (genres with at least
    20 songs), each with a seed of its own."""
    f = catalog.features
    out = []
    for feature in EXTREMES:
        j = FEATURES.index(feature)
        importance = np.full(len(FEATURES), (len(FEATURES) - FOCUS) / (len(FEATURES) - 1), np.float32)
        importance[j] = FOCUS
        order = np.argsort(f[:, j], kind="stable")
        tenth = max(1, int(len(f) * DECILE))
        for side, rows in (("high", order[-tenth:]), ("low", order[:tenth])):
            name = f"{side} {feature}"
            out.append(Persona(name, _medoid(f, rows), importance, _seed(name)))
    genres = catalog.tracks["genres"].fillna("").astype(str).str.split(GENRE_SEP).str[0].to_numpy()
    for genre in sorted(set(genres) - {""}):
        rows = np.flatnonzero(genres == genre)
        if len(rows) >= 20:
            name = f"genre {genre}"
            out.append(Persona(name, _medoid(f, rows), np.ones(len(FEATURES), np.float32), _seed(name)))
    return out
