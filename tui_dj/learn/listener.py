"""A simulated listener with a hidden state: what they like, how bored they are, how patient.

A fair model of a person, not one tuned for any policy:
- one to three taste centres, each placed at a real song of the catalog (tastes live where music
  is), with a per-listener weighting of the nine features and a tolerance;
- a song's popularity is a hint of quality that nudges every listener a little;
- boredom grows when a song sounds like the last few or its artist was just played, and fades
  otherwise (switchable);
- the taste drifts toward the songs they enjoyed (switchable);
- patience wears down with every skip or dislike and comes back a little with a like; when it runs
  out the listener quits (switchable).
The reaction to a song is one of the console's reactions (or quitting), chosen by thresholds on
a noisy utility. `SimilarityListener` is the original design's "listener": it rewards a song by its
cosine similarity to the mean of the last five songs, minus 0.5.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from tui_dj.catalog.model import N_FEATURES
from tui_dj.config import EnvConfig
from tui_dj.learn.rewards import REWARDS
from tui_dj.learn.songs import SongTable

ALIKE_WIDTH = 0.2  # songs closer than about this sound alike to the listener
BOREDOM_DECAY = 0.5
BOREDOM_ALIKE = 0.3
BOREDOM_ARTIST = 0.2
REPEAT_PENALTY = 0.3  # hearing the very same song again in one session
NOISE = 0.12
MEAN_POPULARITY = 0.45


class Listener:
    """One person for one session. `react` returns an event and updates the hidden state."""

    def __init__(self, features: np.ndarray, rng: np.random.Generator, config: EnvConfig | None = None) -> None:
        self.config = config or EnvConfig()
        n = len(features)
        m = int(rng.integers(1, 4))
        self.centres = np.clip(features[rng.choice(n, size=m, replace=n < m)]
                               + rng.normal(0.0, 0.03, (m, N_FEATURES)), 0.0, 1.0).astype(np.float32)
        self.importance = (rng.dirichlet(np.full(N_FEATURES, 4.0)) * N_FEATURES).astype(np.float32)
        self.width = float(rng.uniform(0.25, 0.4))
        self.popularity_weight = float(rng.uniform(0.1, 0.4))
        self.threshold = float(rng.uniform(0.35, 0.5))
        self.start_patience = float(rng.uniform(3.0, 6.0))
        self.patience = self.start_patience
        self.boredom = 0.0
        self.recent: deque[np.ndarray] = deque(maxlen=3)
        self.recent_artists: deque[int] = deque(maxlen=3)
        self.heard: set[int] = set()

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
            alike = np.exp(-d2 / (2 * ALIKE_WIDTH**2)).max(axis=1)
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
        if u > self.threshold + 0.25:
            return "like"
        if u > self.threshold:
            return "finish"
        if u > self.threshold - 0.4:
            return "skip"
        return "dislike"

    def react(self, index: int, x: np.ndarray, popularity: float, artist: int, rng: np.random.Generator) -> str:
        """Hear one song; return like, finish, skip, dislike or quit."""
        x = np.asarray(x, np.float32).reshape(N_FEATURES)
        u = float(self.utility(np.array([index]), x[None], np.array([popularity]), [artist])[0])
        u += float(rng.normal(0.0, NOISE))
        event = self.reaction_for(u)
        c = self.config
        if c.boredom:
            self.boredom = float(self._boredom_after(x[None], [artist])[0])
        self.recent.append(x)
        self.recent_artists.append(int(artist))
        self.heard.add(int(index))
        if c.drift and event in ("like", "finish"):
            j = int(np.argmin((((self.centres - x) ** 2) * self.importance).sum(1)))
            step = 0.15 if event == "like" else 0.05
            self.centres[j] += step * (x - self.centres[j])
        self.patience = min(self.start_patience, self.patience + {"like": 0.5, "finish": 0.25,
                                                                  "skip": -1.0, "dislike": -1.5}[event])
        if c.quit and self.patience <= 0:
            return "quit"
        return event

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
        """Hear catalog row `row`: the outcome (a reaction or "quit") and its reward."""
        outcome = self.react(row, songs.features[row], float(songs.popularity[row]), int(songs.artists[row]), rng)
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
