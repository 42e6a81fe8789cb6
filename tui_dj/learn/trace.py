"""What a real session can see: the songs played and the reaction to each, turned into vectors.

`SessionTrace.observation()` is the agent's state and `song_inputs()` describes candidate songs
relative to it; neither ever sees the simulated listener's hidden taste, boredom or patience. The
song playing now is in the trace before anyone reacts to it (its reaction is None): the DJ picks
what plays next while it plays.

A candidate is described by the evidence around it: how much liked, finished, skipped and
disliked music lies near it (kernel sums at two widths, recent reactions weighing more), how far
the nearest liked and rejected songs are, how crowded with reactions its neighbourhood already is
(little evidence: worth finding out), and whether it would repeat the last songs or artists. So
the network scores "a song near two likes and far from every skip", which holds for any taste,
rather than a place in feature space; and a like raises the scores of the songs around it at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tui_dj.catalog.model import N_FEATURES
from tui_dj.learn.rewards import NEGATIVE, REACTIONS

# How much each reaction says "more of this": the weights of the liked-songs mean and the taste.
# A like says "this, exactly"; a song heard to the end only "around here".
_POSITIVE_WEIGHT = {"like": 1.0, "finish": 0.25}
TASTE_SONGS = 8  # the latest liked (and heard-out) songs the taste is the weighted mean of
_CODE = {r: i for i, r in enumerate(REACTIONS)}  # like 0, finish 1, skip 2, dislike 3
WIDTHS = (0.1, 0.25)  # kernel widths in scaled feature space: "the same sound" and "that kind of music"
RECENCY = 0.97  # a reaction `a` songs ago weighs RECENCY ** a
FAR = 1.5  # the distance reported when there is no such song yet (the catalog spans about 1 to 2)
_ALIKE_WIDTH = 0.1

OBS_DIM = 24
SONG_DIM = 23
PERSON_DIM = 2 * N_FEATURES  # what the person layer reads: a song's features and their squares


def _alike(distance: np.ndarray | float) -> np.ndarray:
    d = np.asarray(distance, dtype=np.float32)
    return np.exp(-(d * d) / (2 * _ALIKE_WIDTH**2)).astype(np.float32)


class SessionTrace:
    """The songs of one session so far with their features, artists and the reactions given.

    `prior` is the taste assumed before any reaction (the catalog's mean song by default).
    """

    def __init__(self, history: int = 5, max_steps: int = 60, prior: np.ndarray | None = None) -> None:
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

    def record(self, row: int, features: np.ndarray, artist: int, reaction: str | None = None) -> None:
        """Add one song played (and the reaction to it, when it is already known)."""
        if reaction is not None and reaction not in REACTIONS:
            raise ValueError(f"unknown reaction {reaction!r}; expected one of {', '.join(REACTIONS)}")
        self.played.append(int(row))
        self.features.append(np.asarray(features, np.float32).reshape(N_FEATURES).copy())
        self.reactions.append(reaction)
        self.artists.append(int(artist))
        self._cached = None

    def label(self, reaction: str | None, at: int = -1) -> None:
        """Label the song at position `at` (the last by default) with its reaction, or, with None,
        clear the label."""
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

    def labels(self) -> list[str]:
        """The reactions the songs are labelled with so far, in order (songs still playing left out)."""
        return [r for r in self.reactions if r is not None]

    def _weighted_mean(self, weights: np.ndarray) -> np.ndarray | None:
        total = float(weights.sum())
        if total <= 0:
            return None
        return (weights @ np.asarray(self.features)) / total

    def _means(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Recency-weighted means of the liked and of the rejected songs (None when there are none)."""
        if self._cached is None:
            # The last few liked songs (a like counts four times a finish) and the last `history`
            # rejected ones: recent enough to follow a taste that moves, many enough to be steady.
            pos_w = np.zeros(len(self.played), np.float32)
            neg_w = np.zeros(len(self.played), np.float32)
            n_pos = n_neg = 0
            for i in range(len(self.reactions) - 1, -1, -1):
                reaction = self.reactions[i]
                if reaction in _POSITIVE_WEIGHT and n_pos < TASTE_SONGS:
                    pos_w[i] = _POSITIVE_WEIGHT[reaction]
                    n_pos += 1
                elif reaction in NEGATIVE and n_neg < self.history:
                    neg_w[i] = 1.0
                    n_neg += 1
            self._cached = (self._weighted_mean(pos_w), self._weighted_mean(neg_w))
        return self._cached

    def _taste(self, pos: np.ndarray | None, neg: np.ndarray | None) -> np.ndarray:
        base = self.prior if pos is None else pos
        if neg is not None:
            # Lean away from what was rejected; more so while nothing has been liked yet.
            base = base + (0.1 if pos is not None else 0.3) * (base - neg)
        return np.clip(base, 0.0, 1.0).astype(np.float32)

    def taste(self) -> np.ndarray:
        """The (9,) scaled estimate of what this listener wants now (what the console shows)."""
        pos, neg = self._means()
        return self._taste(pos, neg)

    def liked_any(self) -> bool:
        """Whether any song was liked or listened to the end (the taste is more than the prior)."""
        return self._means()[0] is not None

    def anchors(self, count: int = 3) -> np.ndarray:
        """The features of the latest songs liked (else heard to the end), newest first: where to
        look for more. (0, 9) before any."""
        for wanted in (("like",), ("like", "finish")):
            rows = [i for i in range(len(self.reactions) - 1, -1, -1) if self.reactions[i] in wanted][:count]
            if rows:
                return np.asarray([self.features[i] for i in rows], np.float32)
        return np.zeros((0, N_FEATURES), np.float32)

    def rejected(self) -> np.ndarray:
        """The features of the songs skipped or disliked, (m, 9)."""
        rows = [i for i, r in enumerate(self.reactions) if r in NEGATIVE]
        return np.asarray([self.features[i] for i in rows], np.float32).reshape(-1, N_FEATURES)

    def recent(self) -> np.ndarray:
        """The scaled features of the last `history` songs, oldest first (possibly empty)."""
        if not self.features:
            return np.zeros((0, N_FEATURES), np.float32)
        return np.asarray(self.features[-self.history:], np.float32)

    def skip_streak(self) -> int:
        streak = 0
        for reaction in reversed(self.labels()):
            if reaction not in NEGATIVE:
                break
            streak += 1
        return streak

    def observation(self) -> np.ndarray:
        """The agent's state: a float32 vector of `OBS_DIM` values, all from visible history."""
        n = len(self.played)
        labels = self.labels()
        out = np.zeros(OBS_DIM, np.float32)
        out[0] = min(n / max(self.max_steps, 1), 1.0)
        counts = np.bincount([_CODE[r] for r in labels], minlength=4) if labels else np.zeros(4)
        out[1:5] = np.minimum(counts / 10.0, 1.0)
        out[5:9] = counts / max(len(labels), 1)
        out[9] = min(self.skip_streak() / 3.0, 1.0)
        if labels:
            out[10 + _CODE[labels[-1]]] = 1.0
        out[14] = float(self.liked_any())
        out[15:24] = self.taste()
        return out

    def song_inputs(self, features: np.ndarray, popularity: np.ndarray,
                    artists: Sequence[int] | np.ndarray) -> np.ndarray:
        """Describe candidate songs relative to this session: (k, `SONG_DIM`) float32.

        `features` are the songs' scaled features (k, 9), `popularity` in [0, 1], `artists` their
        artist codes. See the module's docstring for what is in it.
        """
        x = np.asarray(features, np.float32).reshape(-1, N_FEATURES)
        k = len(x)
        out = np.zeros((k, SONG_DIM), np.float32)
        out[:, 0] = np.asarray(popularity, np.float32).reshape(k)
        out[:, 1] = np.linalg.norm(x - self.taste(), axis=1)
        n = len(self.played)
        if n == 0:
            out[:, 2:8] = FAR
            return out
        past = np.asarray(self.features, np.float32)  # (n, 9)
        d2 = np.maximum(((x * x).sum(1)[:, None] + (past * past).sum(1)[None, :] - 2.0 * x @ past.T), 0.0)
        dist = np.sqrt(d2)  # (k, n)
        codes = np.array([-1 if r is None else _CODE[r] for r in self.reactions])
        age = (n - 1) - np.arange(n)
        recency = RECENCY ** age
        last = dist[:, -1]
        out[:, 2] = last  # the song playing (or the last one)
        out[:, 3] = dist[:, -self.history:].min(axis=1)

        def nearest(mask: np.ndarray) -> np.ndarray:
            return dist[:, mask].min(axis=1) if mask.any() else np.full(k, FAR, np.float32)

        out[:, 4] = nearest(codes == 0)  # the nearest liked song
        out[:, 5] = nearest((codes == 0) | (codes == 1))  # liked or heard to the end
        out[:, 6] = nearest(codes >= 2)  # skipped or disliked
        out[:, 7] = nearest(codes == 3)
        col = 8
        labelled = codes >= 0
        for width in WIDTHS:
            kernel = np.exp(-d2 / (2 * width * width)) * recency  # (k, n)
            for code in range(4):
                mask = codes == code
                out[:, col] = np.log1p(kernel[:, mask].sum(axis=1)) if mask.any() else 0.0
                col += 1
            out[:, col] = np.log1p(kernel[:, labelled].sum(axis=1)) if labelled.any() else 0.0
            col += 1
        candidate_artists = np.asarray(artists, np.int64).reshape(k).tolist()
        played = self.artists
        for column, group in ((18, played[-self.history:]), (19, played),
                              (20, [a for a, c in zip(played, codes, strict=True) if c == 0]),
                              (21, [a for a, c in zip(played, codes, strict=True) if c >= 2])):
            among = set(group)  # a few dozen artists: set lookups beat np.isin's sort
            out[:, column] = [a in among for a in candidate_artists]
        out[:, 22] = _alike(last)
        return out
