"""A simulated listener with a hidden state: what they like, how bored they are, how patient.

A model of a person, not one tuned for any policy:
- one to three taste centres, each at a real song (tastes live where music is), drawn evenly over
  the catalog's sounds, niche ones as often as the crowded middle; a weighting of the nine
  features and a tolerance;
- habits: they like a few songs (the best few percent of the catalog for them), let most of what
  fits play to the end (the next fifth or so), skip the rest, and dislike rarely (only what is
  far below their bar); so a taste is never one no catalog could satisfy;
- popularity is a small hint of quality;
- boredom comes from near-repeats of the last songs and from the same artist again, not from
  staying in a taste; the very same song twice in a session is a repeat (switchable);
- the taste drifts toward the songs they enjoyed (switchable);
- patience wears down with every skip or dislike and comes back with a like or a song heard to
  the end; when it runs out they leave (switchable).
The reaction is chosen by bars on a noisy utility, set from the shares of the catalog the person
likes and lets play. `SimilarityListener` is the
original design's "listener": it rewards a song by its cosine similarity to the mean of the last
five songs, minus 0.5.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from tui_dj.catalog.model import N_FEATURES
from tui_dj.config import EnvConfig
from tui_dj.learn.rewards import REWARDS
from tui_dj.learn.songs import SongTable

NEAR_REPEAT_WIDTH = 0.06  # songs closer than about this sound like the same song again
BOREDOM_DECAY = 0.5
BOREDOM_ALIKE = 0.3
BOREDOM_ARTIST = 0.25
REPEAT_PENALTY = 0.4  # hearing the very same song again in one session
MEAN_POPULARITY = 0.45
LIKE_FLOOR = 0.4  # appeal 0.4: about 1.35 widths from the taste
FINISH_FLOOR = 0.2  # about 1.8 widths; twice the day-to-day noise above a song that does not fit
# Below: a dislike. Only a song that does not fit and also bores (a near-repeat, the same artist
# again) or is very unpopular gets this low: dislikes are rare.
DISLIKE_BAR = -0.25
PATIENCE_CHANGE = {"like": 1.0, "finish": 0.5, "skip": -1.0, "dislike": -1.5}


@dataclass(frozen=True)
class Habits:
    """How a person reacts: how picky they are (the shares of the catalog they would like and let
    play to the end), how many bad songs they sit through, and how much a song's effect varies."""

    like_share: float = 0.05  # the best 5% of the catalog for them: they press like
    finish_share: float = 0.2  # the next fifth: they let it play to the end
    patience: float = 6.0
    noise: float = 0.1  # the day-to-day variation in how a song lands

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Habits:
        return cls(float(rng.uniform(0.02, 0.08)), float(rng.uniform(0.15, 0.3)), float(rng.uniform(4.0, 16.0)), 0.1)


class Listener:
    """One person for one session. `hear` returns a reaction (or "quit") and its reward, and updates
    the hidden state."""

    def __init__(self, centres: np.ndarray, importance: np.ndarray, width: float, popularity_weight: float,
                 habits: Habits, config: EnvConfig | None = None) -> None:
        self.config = config or EnvConfig()
        self.centres = np.asarray(centres, np.float32).reshape(-1, N_FEATURES).copy()
        self.importance = np.asarray(importance, np.float32).reshape(N_FEATURES)
        self.width = float(width)
        self.popularity_weight = float(popularity_weight)
        self.habits = habits
        self.patience = habits.patience
        self.like_bar = self.finish_bar = self.dislike_bar = 0.0
        self.boredom = 0.0
        self.recent: deque[np.ndarray] = deque(maxlen=3)
        self.recent_artists: deque[int] = deque(maxlen=3)
        self.heard: set[int] = set()

    def calibrate(self, songs: SongTable) -> Listener:
        """Set the bars from the catalog: the songs above the like bar are the `like_share` of it
        that fits this taste best, the next `finish_share` are heard out (measured on up to 20,000
        of them), short of a floor for a taste the catalog holds little of."""
        rows = np.arange(len(songs)) if len(songs) <= 20_000 else \
            np.random.default_rng(0).choice(len(songs), size=20_000, replace=False)
        fit = self.appeal(songs.features[rows]) + self.popularity_weight * (songs.popularity[rows] - MEAN_POPULARITY)
        h = self.habits
        # Never below a floor: a song that does not fit at all is not liked, or heard out, just
        # because the catalog holds little of this taste.
        self.like_bar = max(LIKE_FLOOR, float(np.quantile(fit, 1.0 - h.like_share)))
        self.finish_bar = max(FINISH_FLOOR, float(np.quantile(fit, max(0.0, 1.0 - h.like_share - h.finish_share))))
        self.dislike_bar = DISLIKE_BAR
        return self

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator, config: EnvConfig | None = None) -> Listener:
        """A person from the simulator's population: tastes spread evenly over the sounds of the
        catalog (`SongTable.taste_weights`), niche ones as likely as the crowded middle."""
        m = int(rng.integers(1, 4))
        picked = rng.choice(len(songs), size=m, p=songs.taste_weights)
        centres = np.clip(songs.features[picked] + rng.normal(0.0, 0.03, (m, N_FEATURES)), 0.0, 1.0)
        importance = rng.dirichlet(np.full(N_FEATURES, 4.0)) * N_FEATURES
        listener = cls(centres, importance, float(rng.uniform(0.28, 0.42)), float(rng.uniform(0.05, 0.25)),
                       Habits.draw(rng), config)
        return listener.calibrate(songs)

    def appeal(self, x: np.ndarray) -> np.ndarray:
        """How well songs (k, 9) fit the nearest taste centre, in (0, 1]."""
        x = np.asarray(x, np.float32).reshape(-1, N_FEATURES)
        d2 = (((x[:, None, :] - self.centres[None]) ** 2) * self.importance).sum(-1)
        return np.exp(-d2.min(axis=1) / (2 * self.width**2))

    def _boredom_after(self, x: np.ndarray, artists: np.ndarray | list[int]) -> np.ndarray:
        if not self.config.boredom:
            return np.zeros(len(x), np.float32)
        alike = np.zeros(len(x), np.float32)
        if self.recent:
            recent = np.asarray(self.recent)
            d2 = ((x[:, None, :] - recent[None]) ** 2).sum(-1)
            alike = np.exp(-d2 / (2 * NEAR_REPEAT_WIDTH**2)).max(axis=1)
        repeat = np.isin(np.asarray(artists, np.int64), list(self.recent_artists)).astype(np.float32)
        return BOREDOM_DECAY * self.boredom + BOREDOM_ALIKE * alike + BOREDOM_ARTIST * repeat

    def utility(self, indices: np.ndarray, x: np.ndarray, popularity: np.ndarray,
                artists: np.ndarray | list[int]) -> np.ndarray:
        """The expected (noise-free) utility of each song if it were played next."""
        x = np.asarray(x, np.float32).reshape(-1, N_FEATURES)
        u = self.appeal(x) + self.popularity_weight * (np.asarray(popularity, np.float32) - MEAN_POPULARITY)
        u = u - self._boredom_after(x, artists)
        if self.config.boredom and self.heard:
            u = u - REPEAT_PENALTY * np.isin(np.asarray(indices), list(self.heard))
        return u

    def reaction_for(self, u: float) -> str:
        if u > self.like_bar:
            return "like"
        if u > self.finish_bar:
            return "finish"
        if u > self.dislike_bar:
            return "skip"
        return "dislike"

    def hear_features(self, row: int, x: np.ndarray, popularity: float, artist: int,
                      rng: np.random.Generator) -> str:
        """Hear one song given by its features `x`, popularity and artist (catalog row `row`): return
        like, finish, skip, dislike or quit."""
        x = np.asarray(x, np.float32).reshape(N_FEATURES)
        u = float(self.utility(np.array([row]), x[None], np.array([popularity]), [artist])[0])
        u += float(rng.normal(0.0, self.habits.noise))
        reaction = self.reaction_for(u)
        c = self.config
        if c.boredom:
            self.boredom = float(self._boredom_after(x[None], [artist])[0])
        self.recent.append(x)
        self.recent_artists.append(int(artist))
        self.heard.add(int(row))
        if c.drift and reaction in ("like", "finish"):
            j = int(np.argmin((((self.centres - x) ** 2) * self.importance).sum(1)))
            step = 0.15 if reaction == "like" else 0.05
            self.centres[j] += step * (x - self.centres[j])
        self.patience = min(self.habits.patience, self.patience + PATIENCE_CHANGE[reaction])
        if c.quit and self.patience <= 0:
            return "quit"
        return reaction

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
        """Hear catalog row `row`: the outcome (a reaction or "quit") and its reward."""
        outcome = self.hear_features(row, songs.features[row], float(songs.popularity[row]), int(songs.artists[row]), rng)
        return outcome, REWARDS[outcome]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denom if denom > 0 else 0.0


class SimilarityListener:
    """The original design: reward = cosine(song, mean of the last `history` songs) - 0.5; every
    song is heard to the end. It starts with `history` random songs already played."""

    def __init__(self, songs: SongTable, rng: np.random.Generator, history: int = 5) -> None:
        self.start = [int(i) for i in rng.choice(len(songs), size=history, replace=False)]
        self.recent: deque[np.ndarray] = deque((songs.features[i] for i in self.start), maxlen=history)

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
        reward = cosine(songs.features[row], np.mean(self.recent, axis=0)) - 0.5
        self.recent.append(songs.features[row])
        return "finish", reward
