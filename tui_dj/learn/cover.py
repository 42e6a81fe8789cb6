"""Where a taste could be, given what was rejected: the search a DJ makes when nothing works.

A person's best songs lie together somewhere in the catalog: about the `BALL` share of it nearest
some middle. Before anything worked, every middle is possible, the catalog's crowded parts more
than its edges (people's tastes are where the music is). Each rejected song makes the middles
whose best songs it lies among much less likely (not impossible: a person's day varies). A search
offers the songs whose best-songs neighbourhoods hold the most of the likely middles left, each
pick counted as if it too were rejected before the next (so the offers cover different places).

This is what a cold start needs: a skip says only "not here", and "not here" rules out the
middles near it, wherever they are, instead of pushing the search ever further one way.
"""

from __future__ import annotations

import numpy as np

MIDDLES = 1200  # sampled songs that stand for the possible middles (and are what a search offers)
REFERENCE = 6000  # sampled songs that measure how far a middle's best `BALL` reach
BALL = 0.05  # the share of the catalog a taste's best songs are
MISS = 0.1  # how much likelier a rejection is outside a taste's best songs than inside


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None]
    return np.sqrt(np.maximum(d, 0.0))


class Cover:
    """The possible middles of a taste over one catalog's `features` (fixed by `seed`), or the
    `rows` and `radius` of one worked out before (`kept`, as `CandidateGenerator.index` keeps them:
    measuring the radii is most of the work)."""

    def __init__(self, features: np.ndarray, seed: int = 0, kept: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if kept is not None:
            self.rows, self.radius = np.asarray(kept[0], np.int64), np.asarray(kept[1], np.float32)
            self.middles = np.asarray(features[self.rows], np.float32)
        else:
            rng = np.random.default_rng(seed)
            n = len(features)
            self.rows = np.sort(rng.choice(n, size=min(n, MIDDLES), replace=False)).astype(np.int64)
            self.middles = np.asarray(features[self.rows], np.float32)
            reference = np.asarray(features[rng.choice(n, size=min(n, REFERENCE), replace=False)], np.float32)
            k = max(1, int(BALL * len(reference)))
            self.radius = np.empty(len(self.middles), np.float32)
            for start in range(0, len(self.middles), 256):
                d = _distances(self.middles[start:start + 256], reference)
                self.radius[start:start + len(d)] = np.partition(d, k - 1, axis=1)[:, k - 1]
        # holds[i, j]: song j (of the sampled ones) is among the best songs of a taste with middle i.
        self.holds = (_distances(self.middles, self.middles) <= self.radius[:, None]).astype(np.float32)

    def likelihood(self, rejected: np.ndarray) -> np.ndarray:
        """How likely each middle still is after the `rejected` songs (features, (m, 9)): each one
        among a middle's best songs makes it `MISS` times as likely."""
        weight = np.ones(len(self.middles), np.float32)
        if len(rejected):
            inside = (_distances(self.middles, np.asarray(rejected, np.float32)) <= self.radius[:, None]).sum(1)
            weight *= MISS ** inside.astype(np.float32)
        return weight

    def search(self, rejected: np.ndarray, blocked: np.ndarray, count: int) -> np.ndarray:
        """Up to `count` catalog rows, not `blocked` (a boolean mask over the catalog), that cover
        the most likely middles left, the best first."""
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
