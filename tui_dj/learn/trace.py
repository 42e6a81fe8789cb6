"""What a real session can see: the songs played and the reaction to each, turned into vectors.

`SessionTrace.observation()` is the agent's state and `song_inputs()` describes candidate songs
relative to it; neither ever sees the simulated listener's hidden taste, boredom or patience. The
song playing now is in the trace before anyone reacts to it (its reaction is None): the DJ picks
what plays next while it plays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tui_dj.catalog.model import N_FEATURES
from tui_dj.learn.rewards import NEGATIVE, REACTIONS

# How much each event says "more of this": the weights of the liked-songs mean and the taste.
_POSITIVE_WEIGHT = {"like": 1.0, "finish": 0.5}
_ALIKE_WIDTH = 0.2  # songs closer than about this (in scaled feature space) sound alike
_REACTIONS = REACTIONS

OBS_DIM = 5 * N_FEATURES + 13
SONG_DIM = N_FEATURES + 10


def _alike(distance: np.ndarray | float) -> np.ndarray:
    d = np.asarray(distance, dtype=np.float32)
    return np.exp(-(d * d) / (2 * _ALIKE_WIDTH**2)).astype(np.float32)


class SessionTrace:
    """The songs of one session so far with their features, artists and the reactions given.

    `prior` is the taste assumed before any reaction (the catalog's mean song by default).
    """

    def __init__(self, history: int = 5, max_steps: int = 20, prior: np.ndarray | None = None) -> None:
        self.history = int(history)
        self.max_steps = int(max_steps)
        self.prior = (np.full(N_FEATURES, 0.5, np.float32) if prior is None
                      else np.asarray(prior, np.float32).copy())
        self.played: list[int] = []
        self.features: list[np.ndarray] = []
        self.reactions: list[str | None] = []  # None: playing, no reaction yet
        self.artists: list[int] = []
        self._cached: tuple[np.ndarray | None, np.ndarray | None] | None = None

    def __len__(self) -> int:
        return len(self.played)

    def record(self, index: int, features: np.ndarray, artist: int, reaction: str | None = None) -> None:
        """Add one song played (and the reaction to it, when it is already known)."""
        if reaction is not None and reaction not in REACTIONS:
            raise ValueError(f"unknown reaction {reaction!r}; expected one of {', '.join(REACTIONS)}")
        self.played.append(int(index))
        self.features.append(np.asarray(features, np.float32).reshape(N_FEATURES).copy())
        self.reactions.append(reaction)
        self.artists.append(int(artist))
        self._cached = None

    def react(self, reaction: str | None, at: int = -1) -> None:
        """Set (or, with None, clear) the reaction to the song at position `at` (the last by default)."""
        if not self.played:
            raise IndexError("no song has been played yet")
        if reaction is not None and reaction not in REACTIONS:
            raise ValueError(f"unknown reaction {reaction!r}; expected one of {', '.join(REACTIONS)}")
        self.reactions[at] = reaction
        self._cached = None

    def keep_last(self, n: int) -> None:
        """Forget all but the last `n` songs, so a long session costs the same per step."""
        cut = max(0, len(self.played) - n)
        if cut:
            for items in (self.played, self.features, self.reactions, self.artists):
                del items[:cut]
            self._cached = None

    def copy(self) -> SessionTrace:
        other = SessionTrace(self.history, self.max_steps, self.prior)
        other.played = list(self.played)
        other.features = list(self.features)  # the arrays themselves are never changed in place
        other.reactions = list(self.reactions)
        other.artists = list(self.artists)
        return other

    # -- summaries -----------------------------------------------------------------------------

    def _weighted_mean(self, weights: np.ndarray) -> np.ndarray | None:
        total = float(weights.sum())
        if total <= 0:
            return None
        return (weights @ np.asarray(self.features)) / total

    def _means(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Recency-weighted means of the liked and of the rejected songs (None when there are none)."""
        if self._cached is None:
            self._cached = self._compute_means()
        return self._cached

    def _compute_means(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        # The last `history` liked songs (a like counts twice a finish) and the last `history`
        # rejected ones: recent enough to follow a taste that moves, many enough to be steady.
        pos_w = np.zeros(len(self.played), np.float32)
        neg_w = np.zeros(len(self.played), np.float32)
        n_pos = n_neg = 0
        for i in range(len(self.reactions) - 1, -1, -1):
            reaction = self.reactions[i]
            if reaction in _POSITIVE_WEIGHT and n_pos < self.history:
                pos_w[i] = _POSITIVE_WEIGHT[reaction]
                n_pos += 1
            elif reaction in NEGATIVE and n_neg < self.history:
                neg_w[i] = 1.0
                n_neg += 1
        return self._weighted_mean(pos_w), self._weighted_mean(neg_w)

    def _taste(self, pos: np.ndarray | None, neg: np.ndarray | None) -> np.ndarray:
        base = self.prior if pos is None else pos
        if neg is not None:
            # Lean away from what was rejected; more so while nothing has been liked yet.
            base = base + (0.1 if pos is not None else 0.3) * (base - neg)
        return np.clip(base, 0.0, 1.0).astype(np.float32)

    def taste(self) -> np.ndarray:
        """The (9,) scaled estimate of what this listener wants now."""
        pos, neg = self._means()
        return self._taste(pos, neg)

    def liked_any(self) -> bool:
        """Whether any song of the session was liked or listened to the end (the taste is more than the prior)."""
        return self._means()[0] is not None

    def recent(self) -> np.ndarray:
        """The scaled features of the last `history` songs, oldest first (possibly empty)."""
        if not self.features:
            return np.zeros((0, N_FEATURES), np.float32)
        return np.asarray(self.features[-self.history:], np.float32)

    def rated(self) -> list[str]:
        """The reactions given so far, in order (songs still playing left out)."""
        return [r for r in self.reactions if r is not None]

    def skip_streak(self) -> int:
        streak = 0
        for reaction in reversed(self.rated()):
            if reaction not in NEGATIVE:
                break
            streak += 1
        return streak

    def observation(self) -> np.ndarray:
        """The agent's state: a float32 vector of `OBS_DIM` values, all from visible history."""
        n = len(self.played)
        pos, neg = self._means()
        taste = self._taste(pos, neg)
        recent = self.recent()
        prior = self.prior
        out = np.zeros(OBS_DIM, np.float32)
        out[0:9] = recent.mean(axis=0) if n else prior
        out[9:18] = prior if pos is None else pos
        out[18:27] = prior if neg is None else neg
        out[27:36] = self.features[-1] if n else prior
        out[36:45] = taste
        k = 45
        out[k] = min(n / max(self.max_steps, 1), 1.0)
        out[k + 1] = min(self.skip_streak() / 3.0, 1.0)
        if len(recent) >= 2:
            gaps = np.linalg.norm(np.diff(recent, axis=0), axis=1)
            out[k + 2] = float(_alike(gaps).mean())
            last_artists = self.artists[-self.history:]
            out[k + 3] = (len(last_artists) - len(set(last_artists))) / (len(last_artists) - 1)
        rated = self.rated()
        if rated:
            out[k + 4 + _REACTIONS.index(rated[-1])] = 1.0
            out[k + 8] = rated.count("like") / n
            out[k + 9] = sum(r in _POSITIVE_WEIGHT for r in rated) / n
        out[k + 10] = float(pos is not None)
        out[k + 11] = float(neg is not None)
        out[k + 12] = float(n == 0)
        return out

    def song_inputs(self, features: np.ndarray, popularity: np.ndarray,
                    artists: Sequence[int] | np.ndarray) -> np.ndarray:
        """Describe candidate songs relative to this session: (k, `SONG_DIM`) float32.

        `features` are the songs' scaled features (k, 9), `popularity` in [0, 1], `artists` their
        artist codes. Besides the song itself: distances to the taste, the recent songs and the
        rejected ones, and whether its artist was just played (what boredom would react to).
        """
        x = np.asarray(features, np.float32).reshape(-1, N_FEATURES)
        k = len(x)
        n = len(self.played)
        pos, neg = self._means()
        taste = self._taste(pos, neg)
        out = np.zeros((k, SONG_DIM), np.float32)
        out[:, :9] = x
        out[:, 9] = np.asarray(popularity, np.float32).reshape(k)
        out[:, 10] = np.linalg.norm(x - taste, axis=1)
        if n:
            recent = self.recent()
            gaps = np.sqrt(((x[:, None, :] - recent[None, :, :]) ** 2).sum(-1))  # (k, h)
            out[:, 11] = np.linalg.norm(x - recent.mean(axis=0), axis=1)
            out[:, 12] = gaps[:, -1]
            out[:, 13] = gaps.min(axis=1)
            out[:, 14] = _alike(gaps[:, -1])
            codes = np.asarray(artists, np.int64).reshape(k)
            out[:, 16] = np.isin(codes, self.artists[-self.history:])
            out[:, 17] = np.isin(codes, self.artists)
        else:
            out[:, 11] = out[:, 10]
            out[:, 12] = out[:, 10]
            out[:, 13] = out[:, 10]
        out[:, 15] = 1.0 if neg is None else np.linalg.norm(x - neg, axis=1)
        out[:, 18] = out[:, 10] if pos is None else np.linalg.norm(x - pos, axis=1)
        return out
