"""Hidden tastes for the listener families: how much a person would enjoy each song, noise-free.

A taste is only an appeal over songs; how appeal becomes a reaction is a habit
(`families.Habit`). Each taste is calibrated on the catalog it listens to: `rank` turns appeal into
the share of the catalog a song beats (0 the worst song for this person, 1 the best), so a habit
set by shares ("likes the best 5%") can always be satisfied, whatever the catalog holds. Tastes are
written apart from the training simulator (`learn.listener`); only `CentreTaste` shares its shape.
"""

from __future__ import annotations

import numpy as np

from tui_dj.catalog.model import N_FEATURES
from tui_dj.learn.songs import SongTable

MEAN_POPULARITY = 0.45


def first_sorted(values: np.ndarray, m: int) -> np.ndarray:
    """`np.argsort(values, kind="stable")[:m]`, the same rows in the same order, without sorting
    the whole array (a person drawn on 232,725 songs needs the best 60 or 2,327 of them)."""
    if m >= len(values):
        return np.argsort(values, kind="stable")
    bar = np.partition(values, m - 1)[m - 1]
    below = np.flatnonzero(values < bar)
    rows = np.sort(np.concatenate([below, np.flatnonzero(values == bar)[: m - len(below)]]))
    return rows[np.argsort(values[rows], kind="stable")]


def last_sorted(values: np.ndarray, m: int) -> np.ndarray:
    """`np.argsort(values, kind="stable")[-m:]` (m ≥ 1), without sorting the whole array."""
    n = len(values)
    if m >= n:
        return np.argsort(values, kind="stable")
    bar = np.partition(values, n - m)[n - m]
    above = np.flatnonzero(values > bar)
    ties = np.flatnonzero(values == bar)
    rows = np.sort(np.concatenate([above, ties[len(ties) - (m - len(above)):]]))
    return rows[np.argsort(values[rows], kind="stable")]


class Taste:
    """An appeal over songs, ranked against the catalog. `centres`: points in scaled feature space
    near which the best songs lie (what the oracle searches near)."""

    centres: np.ndarray
    _sorted: np.ndarray

    def appeal(self, x: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def calibrate(self, songs: SongTable) -> Taste:
        rows = songs.sample_rows
        self._sorted = np.sort(self.appeal(songs.features[rows], songs.popularity[rows]))
        return self

    def rank(self, x: np.ndarray, popularity: np.ndarray, heard: int = 0) -> np.ndarray:
        """The share of the catalog each song (k, 9) beats for this person, in [0, 1]. `heard`: songs
        heard so far this session (a mood reads it)."""
        a = self.appeal(np.asarray(x, np.float32).reshape(-1, N_FEATURES), np.asarray(popularity, np.float32))
        return np.searchsorted(self._sorted, a, side="right") / len(self._sorted)


class CentreTaste(Taste):
    """Songs near one to three favourite sounds, some features mattering more (the simulator's
    shape of taste), with popularity a small hint of quality."""

    def __init__(self, centres: np.ndarray, importance: np.ndarray, width: float, popularity_weight: float) -> None:
        self.centres = np.asarray(centres, np.float32).reshape(-1, N_FEATURES)
        self.importance = np.asarray(importance, np.float32).reshape(N_FEATURES)
        self.width = float(width)
        self.popularity_weight = float(popularity_weight)

    def appeal(self, x: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        d2 = (((x[:, None, :] - self.centres[None]) ** 2) * self.importance).sum(-1).min(axis=1)
        return np.exp(-d2 / (2 * self.width**2)) + self.popularity_weight * (popularity - MEAN_POPULARITY)

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator, count: int | None = None) -> CentreTaste:
        """Favourite sounds at real songs, drawn evenly over the catalog's sounds."""
        m = int(rng.integers(1, 4)) if count is None else count
        picked = rng.choice(len(songs), size=m, p=songs.taste_weights)
        importance = rng.dirichlet(np.full(N_FEATURES, 4.0)) * N_FEATURES
        return cls(songs.features[picked], importance, float(rng.uniform(0.25, 0.45)), float(rng.uniform(0.0, 0.2)))

    @classmethod
    def extreme(cls, songs: SongTable, rng: np.random.Generator) -> CentreTaste:
        """A taste at one end of one feature (the song in the middle of its top or bottom tenth),
        that feature mattering three times as much as each other one."""
        j = int(rng.integers(N_FEATURES))
        column = songs.features[:, j]
        tenth = max(1, len(column) // 10)
        rows = last_sorted(column, tenth) if rng.random() < 0.5 else first_sorted(column, tenth)
        x = songs.features[rows]
        centre = x[np.argmin(((x - x.mean(axis=0)) ** 2).sum(1))]
        importance = np.full(N_FEATURES, (N_FEATURES - 3.0) / (N_FEATURES - 1), np.float32)
        importance[j] = 3.0
        return cls(centre, importance, 0.35, 0.1)


class ThresholdTaste(Taste):
    """A person who describes their taste by rules on a few features ("energetic and danceable",
    "quiet, no words"): the more of the rules a song clears, and the further, the better."""

    def __init__(self, features: np.ndarray, signs: np.ndarray, bars: np.ndarray, softness: np.ndarray) -> None:
        self.features, self.signs = np.asarray(features, np.int64), np.asarray(signs, np.float32)
        self.bars, self.softness = np.asarray(bars, np.float32), np.asarray(softness, np.float32)
        self.centres = np.zeros((0, N_FEATURES), np.float32)

    def appeal(self, x: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        margin = self.signs * (x[:, self.features] - self.bars) / self.softness
        return -np.logaddexp(0.0, -margin).sum(axis=1)  # the log of every rule holding, softly

    def calibrate(self, songs: SongTable) -> ThresholdTaste:
        super().calibrate(songs)
        # The oracle searches near up to three of the best songs, far apart from each other.
        a = self.appeal(songs.features, songs.popularity)
        best = first_sorted(-a, max(3, len(a) // 100))
        picked = [int(best[0])]
        for _ in range(2):
            d = ((songs.features[best][:, None] - songs.features[picked][None]) ** 2).sum(-1).min(axis=1)
            picked.append(int(best[int(np.argmax(d))]))
        self.centres = songs.features[sorted(set(picked))].astype(np.float32)
        return self

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator) -> ThresholdTaste:
        """Two or three rules, each that a feature is above (or below) a bar the catalog's middle
        third to two thirds of songs clear."""
        k = int(rng.integers(2, 4))
        features = rng.choice(N_FEATURES, size=k, replace=False)
        signs = rng.choice([-1.0, 1.0], size=k)
        bars = np.empty(k, np.float32)
        for i, (j, s) in enumerate(zip(features, signs, strict=True)):
            q = float(rng.uniform(0.35, 0.65))
            bars[i] = np.quantile(songs.features[:, j], q if s > 0 else 1.0 - q)
        return cls(features, signs, bars, 0.1 * songs.spread[features])


class RadiusTaste(Taste):
    """A person who loves the songs of a playlist: a song is as good as it is close to the
    nearest of them, in standardised feature space, measured in units of how close the playlist's
    songs are to each other."""

    def __init__(self, points: np.ndarray, scale: np.ndarray) -> None:
        self.centres = np.asarray(points, np.float32).reshape(-1, N_FEATURES)
        self.scale = np.asarray(scale, np.float32)
        z = self.centres / self.scale
        if len(z) >= 2:
            d = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
            np.fill_diagonal(d, np.inf)
            self.r = max(float(np.median(d.min(axis=1))), 1e-3)
        else:
            self.r = 0.5

    def appeal(self, x: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        z, c = x / self.scale, self.centres / self.scale
        d2 = (z * z).sum(1)[:, None] + (c * c).sum(1)[None] - 2 * z @ c.T
        return -np.sqrt(np.maximum(d2.min(axis=1), 0.0)) / self.r

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator) -> RadiusTaste:
        """A playlist made up on the spot: 10 to 25 of the 60 songs nearest a song drawn evenly
        over the catalog's sounds (they stay in the catalog)."""
        scale = songs.spread
        seed = int(rng.choice(len(songs), p=songs.taste_weights))
        d = (((songs.features - songs.features[seed]) / scale) ** 2).sum(1)
        near = first_sorted(d, min(60, len(songs)))
        size = min(len(near), int(rng.integers(10, 26)))
        return cls(songs.features[rng.choice(near, size=size, replace=False)], scale)


class TwoTastes(Taste):
    """A person with two unrelated tastes (say, metal and jazz), equally happy with either."""

    def __init__(self, first: Taste, second: Taste) -> None:
        self.parts = (first, second)

    @property
    def centres(self) -> np.ndarray:  # type: ignore[override]
        return np.concatenate([p.centres for p in self.parts])

    def appeal(self, x: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        # Each part ranked on its own, so neither taste drowns the other.
        return np.maximum(*(p.rank(x, popularity) for p in self.parts))

    def calibrate(self, songs: SongTable) -> TwoTastes:
        for p in self.parts:
            p.calibrate(songs)
        return super().calibrate(songs)  # type: ignore[return-value]

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator) -> TwoTastes:
        """Two single-sound tastes at least as far apart as half the catalog's songs are."""
        first = CentreTaste.draw(songs, rng, count=1)
        typical = np.median(((songs.features[rng.choice(len(songs), 200)] - first.centres[0]) ** 2).sum(1))
        for _ in range(20):
            second = CentreTaste.draw(songs, rng, count=1)
            if ((second.centres[0] - first.centres[0]) ** 2).sum() >= typical:
                break
        return cls(first, second)


class MoodTaste(Taste):
    """A person whose mood turns mid-session (from winding down to going out): one taste for the
    first `switch` songs, another after."""

    def __init__(self, before: Taste, after: Taste, switch: int) -> None:
        self.before, self.after, self.switch = before, after, int(switch)
        self.heard = 0

    @property
    def current(self) -> Taste:
        return self.before if self.heard < self.switch else self.after

    @property
    def centres(self) -> np.ndarray:  # type: ignore[override]
        return self.current.centres

    def appeal(self, x: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        return self.current.appeal(x, popularity)

    def calibrate(self, songs: SongTable) -> MoodTaste:
        self.before.calibrate(songs)
        self.after.calibrate(songs)
        return self

    def rank(self, x: np.ndarray, popularity: np.ndarray, heard: int = 0) -> np.ndarray:
        self.heard = heard
        return self.current.rank(x, popularity)

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator) -> MoodTaste:
        """Two drawn tastes; the mood turns after 15 to 40 songs."""
        return cls(CentreTaste.draw(songs, rng), CentreTaste.draw(songs, rng), int(rng.integers(15, 41)))


def draw_taste(songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None = None) -> Taste:
    """Any one taste: around `playlist` (scaled features of a real playlist's songs) when given,
    else favourite sounds, one extreme, rules, or a made-up playlist, equally often."""
    if playlist is not None:
        return RadiusTaste(playlist, songs.spread)
    kind = int(rng.integers(4))
    if kind == 0:
        return CentreTaste.draw(songs, rng)
    if kind == 1:
        return CentreTaste.extreme(songs, rng)
    if kind == 2:
        return ThresholdTaste.draw(songs, rng)
    return RadiusTaste.draw(songs, rng)
