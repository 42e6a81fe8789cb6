"""Where a taste could be, given what was rejected: the search a DJ makes when nothing works.

A person's best songs, about the `BALL` share of the catalog, take one of two shapes here:
- a *ball*: the songs nearest some middle (a sound: "like this playlist");
- a *corner*: the songs furthest along two or three features at once, each up or down (words:
  "energetic and danceable", "quiet, with no words").
Before anything worked, every ball around a sampled song and every corner is possible, the
catalog's crowded parts more than its edges (people's tastes are where the music is). Each
rejected song makes the tastes whose best songs it lies among `MISS` times as likely (not
impossible: a person's day varies). A search offers the sampled songs that lie among the best
songs of the most likely tastes left, each pick counted as if it too were rejected before the
next (so the offers cover different places).

This is what a cold start needs: a skip says only "not here", and "not here" rules out the
tastes it belongs to, wherever they are, instead of pushing the search ever further one way.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np

MIDDLES = 1200  # sampled songs: the middles of the possible balls, and what a search offers
REFERENCE = 6000  # sampled songs that measure how far a ball's best `BALL` reach, and a corner's
BALL = 0.05  # the share of the catalog a taste's best songs are
CORNER_FEATURES = (2, 3)  # a corner goes up or down this many features at once
CORNER_REFERENCE = 2000  # of the reference songs, those that set the corners' bars
CORNERS_AT_ONCE = 128
BISECTIONS = 10  # halvings of the share that sets a corner's bars (to within 0.1% of songs)
MISS = 0.1  # a rejection is this many times as likely among a taste's best songs as outside them


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None]
    return np.sqrt(np.maximum(d, 0.0))


def _corners(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Every way of going up or down two or three of `d` features at once: (corners, 3) feature
    numbers and signs (+1 up, -1 down; 0 pads a corner of two features)."""
    features, signs = [], []
    for size in CORNER_FEATURES:
        for chosen in combinations(range(d), size):
            for way in product((-1.0, 1.0), repeat=size):
                features.append(list(chosen) + [0] * (3 - size))
                signs.append(list(way) + [0.0] * (3 - size))
    return np.array(features, np.int64), np.array(signs, np.float32)


def _corner_bars(features: np.ndarray, signs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(corners, 3): for each corner, the bar each of its features must clear (signed) so that
    `BALL` of the `reference` songs clear them all, every feature at the same share of songs.
    Worked out `CORNERS_AT_ONCE` corners at a time, which keeps the temporaries small."""
    n = len(reference)
    ordered = {1.0: np.sort(reference, axis=0), -1.0: np.sort(-reference, axis=0)}  # each (n, d)
    out = np.empty(signs.shape, np.float32)
    for start in range(0, len(features), CORNERS_AT_ONCE):
        chosen, way = features[start:start + CORNERS_AT_ONCE], signs[start:start + CORNERS_AT_ONCE]

        def bars_at(share: np.ndarray, chosen: np.ndarray = chosen, way: np.ndarray = way) -> np.ndarray:
            at = np.clip(((1.0 - share) * n).astype(np.int64), 0, n - 1)[:, None]  # (corners, 1)
            up, down = ordered[1.0][at, chosen], ordered[-1.0][at, chosen]
            return np.where(way > 0, up, np.where(way < 0, down, -np.inf))

        columns = (reference[:, chosen] * way).transpose(1, 2, 0)  # (corners, 3, n)
        low, high = np.full(len(chosen), BALL), np.ones(len(chosen))
        for _ in range(BISECTIONS):  # the share of songs each single bar lets through
            share = (low + high) / 2
            joint = (columns >= bars_at(share)[..., None]).all(1).mean(1)
            over = joint > BALL
            high, low = np.where(over, share, high), np.where(over, low, share)
        out[start:start + len(chosen)] = bars_at(low)
    return out


class Cover:
    """The possible tastes over one catalog's `features` (fixed by `seed`), or with the `rows`,
    `radius` and `bars` of one worked out before (`kept`, as `CandidateGenerator.index` keeps
    them: measuring the radii and bars is most of the work)."""

    def __init__(self, features: np.ndarray, seed: int = 0,
                 kept: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        n = len(features)
        rng = np.random.default_rng(seed)
        self.corner_features, self.corner_signs = _corners(features.shape[1])
        if kept is not None:
            self.rows, self.radius, self.bars = (np.asarray(kept[0], np.int64), np.asarray(kept[1], np.float32),
                                                 np.asarray(kept[2], np.float32))
            self.middles = np.asarray(features[self.rows], np.float32)
        else:
            self.rows = np.sort(rng.choice(n, size=min(n, MIDDLES), replace=False)).astype(np.int64)
            self.middles = np.asarray(features[self.rows], np.float32)
            reference = np.asarray(features[rng.choice(n, size=min(n, REFERENCE), replace=False)], np.float32)
            k = max(1, int(BALL * len(reference)))
            self.radius = np.empty(len(self.middles), np.float32)
            for start in range(0, len(self.middles), 64):  # a few MB of distances at a time
                d = _distances(self.middles[start:start + 64], reference)
                self.radius[start:start + len(d)] = np.partition(d, k - 1, axis=1)[:, k - 1]
            self.bars = _corner_bars(self.corner_features, self.corner_signs, reference[:CORNER_REFERENCE])
        # holds[h, j]: sampled song j is among the best songs of taste h (the balls, then the corners).
        self.holds = self._inside(self.middles).astype(np.float32)

    def _inside(self, songs: np.ndarray) -> np.ndarray:
        """(tastes, songs): whether each of `songs` (features, (m, 9)) is among each taste's best."""
        songs = np.asarray(songs, np.float32)
        out = np.empty((len(self.middles) + len(self.bars), len(songs)), bool)
        for start in range(0, len(songs), 256):  # a few MB at a time
            block = songs[start:start + 256]
            out[:len(self.middles), start:start + len(block)] = _distances(self.middles, block) <= self.radius[:, None]
            out[len(self.middles):, start:start + len(block)] = \
                (block[:, self.corner_features] * self.corner_signs >= self.bars).all(-1).T
        return out

    def likelihood(self, rejected: np.ndarray) -> np.ndarray:
        """How likely each taste still is after the `rejected` songs (features, (m, 9)): each one
        among a taste's best songs makes it `MISS` times as likely."""
        if len(rejected) == 0:
            return np.ones(len(self.holds), np.float32)
        return (MISS ** self._inside(rejected).sum(1)).astype(np.float32)

    def search(self, rejected: np.ndarray, blocked: np.ndarray, count: int) -> np.ndarray:
        """Up to `count` catalog rows, not `blocked` (a boolean mask over the catalog), that cover
        the most likely tastes left, the best first."""
        weight = self.likelihood(rejected)
        free = ~blocked[self.rows]
        picks: list[int] = []
        for _ in range(count):
            if not free.any():
                break
            score = weight @ self.holds
            score[~free] = -1.0
            j = int(np.argmax(score))
            picks.append(int(self.rows[j]))
            free[j] = False
            weight = weight * np.where(self.holds[:, j] > 0, MISS, 1.0).astype(np.float32)
        return np.array(picks, np.int64)
