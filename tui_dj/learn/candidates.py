"""The songs scored at each decision: near the taste vector, plus diverse and exploratory picks.

Scoring a few dozen songs instead of the whole catalog keeps one decision in the microseconds on
232,725 songs. Big catalogs are split once into clusters around sampled songs, so "near the taste"
only looks inside the few nearest clusters.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

EXACT_LIMIT = 8192  # below this many songs, distances to every song are cheaper than clusters
SONGS_PER_CLUSTER = 256
MAX_CLUSTERS = 1024


class CandidateGenerator:
    """`candidates(taste, exclude, rng)` -> up to `k` distinct song rows, never an excluded one.

    Half the set is the songs nearest the taste, a quarter comes from further clusters (different
    sounds that are still plausible) and the rest are uniform random picks (exploration).
    """

    def __init__(self, features: np.ndarray, k: int = 64, seed: int = 0,
                 near_share: float = 0.5, diverse_share: float = 0.25) -> None:
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.n = len(self.features)
        self.k = int(k)
        self.n_near = max(1, int(round(self.k * near_share)))
        self.n_diverse = max(0, int(round(self.k * diverse_share)))
        self.n_random = max(0, self.k - self.n_near - self.n_diverse)
        self.clustered = self.n > EXACT_LIMIT
        if self.clustered:
            self._build_clusters(seed)

    def _build_clusters(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        m = min(MAX_CLUSTERS, max(2, self.n // SONGS_PER_CLUSTER))
        centres = self.features[rng.choice(self.n, size=m, replace=False)]
        labels = np.empty(self.n, dtype=np.int32)
        c_sq = (centres * centres).sum(1)
        for start in range(0, self.n, 1024):  # small chunks keep the distance block (and BLAS buffers) small
            d = self.features[start:start + 1024] @ centres.T
            d *= -2.0  # in place: one (1024, m) block, not three
            d += c_sq
            labels[start:start + len(d)] = np.argmin(d, axis=1)
        # One Lloyd step moves the centres to the middle of their songs.
        counts = np.bincount(labels, minlength=m)
        # Per-feature bincounts sum each cluster's songs: one pass each, unlike np.add.at's slow
        # unbuffered scatter, and with no (n, 9) temporary.
        sums = np.stack([np.bincount(labels, weights=self.features[:, j], minlength=m)
                         for j in range(self.features.shape[1])], axis=1)
        nonempty = counts > 0
        centres[nonempty] = (sums[nonempty] / counts[nonempty, None]).astype(np.float32)
        self.centres = centres[nonempty]
        remap = np.cumsum(nonempty) - 1
        labels = remap[labels].astype(np.int32)
        self.order = np.argsort(labels, kind="stable").astype(np.int64)
        counts = np.bincount(labels, minlength=len(self.centres))
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def _members(self, clusters: np.ndarray) -> np.ndarray:
        return np.concatenate([self.order[self.offsets[c]:self.offsets[c + 1]] for c in clusters])

    def nearest(self, taste: np.ndarray, count: int, exclude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The `count` songs nearest `taste` that are not excluded, nearest first; and the clusters used."""
        taste = np.asarray(taste, np.float32)
        want = count + len(exclude)
        if self.clustered:
            ranked = np.argsort(((self.centres - taste) ** 2).sum(1))
            sizes = np.cumsum(self.offsets[ranked + 1] - self.offsets[ranked])
            used = int(np.searchsorted(sizes, 2 * want)) + 1
            pool = self._members(ranked[:used])
        else:
            ranked = np.zeros(0, np.int64)
            used = 0
            pool = np.arange(self.n)
        d = ((self.features[pool] - taste) ** 2).sum(1)
        if len(exclude):
            d[np.isin(pool, exclude)] = np.inf
        take = min(want, len(pool))
        part = np.argpartition(d, take - 1)[:take] if take < len(pool) else np.arange(len(pool))
        part = part[np.argsort(d[part], kind="stable")]
        part = part[np.isfinite(d[part])][:count]
        return pool[part], ranked[used:]

    def candidates(self, taste: np.ndarray, exclude: Iterable[int] | np.ndarray = (),
                   rng: np.random.Generator | None = None, k: int | None = None) -> np.ndarray:
        """Distinct song rows to score (int64), near ones first; none of them in `exclude`."""
        rng = rng if rng is not None else np.random.default_rng()
        exclude = np.fromiter(exclude, dtype=np.int64) if not isinstance(exclude, np.ndarray) \
            else exclude.astype(np.int64, copy=False)
        k = self.k if k is None else int(k)
        n_near = self.n_near if k == self.k else max(1, k // 2)
        n_div = self.n_diverse if k == self.k else k // 4
        if self.clustered:
            near, further = self.nearest(taste, n_near, exclude)
            picks = [near]
            if n_div and len(further):
                # One random song from each of several further clusters: other sounds, still close.
                chosen = further[np.sort(rng.choice(min(len(further), 4 * n_div),
                                                    size=min(n_div, len(further)), replace=False))]
                lo, hi = self.offsets[chosen], self.offsets[chosen + 1]
                picks.append(self.order[lo + (rng.random(len(chosen)) * (hi - lo)).astype(np.int64)])
        else:
            d = ((self.features - np.asarray(taste, np.float32)) ** 2).sum(1)
            if len(exclude):
                d[exclude] = np.inf
            count = min(self.n, 8 * k)
            part = np.argpartition(d, count - 1)[:count] if count < self.n else np.arange(self.n)
            part = part[np.argsort(d[part], kind="stable")]
            part = part[np.isfinite(d[part])]
            picks = [part[:n_near]]
            ring = part[n_near:]
            if n_div and len(ring):
                # Random songs from the next-nearest few hundred: other sounds, still close.
                picks.append(rng.choice(ring, size=min(n_div, len(ring)), replace=False))
        picks.append(rng.integers(0, self.n, size=2 * (k - n_near - n_div) + 4))
        merged = np.concatenate(picks)
        if len(exclude):
            merged = merged[~np.isin(merged, exclude)]
        _, first = np.unique(merged, return_index=True)
        out = merged[np.sort(first)][:k]
        if len(out) < min(k, self.n - len(np.unique(exclude))):
            # Tiny catalogs: top up from everything still allowed.
            allowed = np.setdiff1d(np.arange(self.n), np.concatenate([exclude, out]))
            out = np.concatenate([out, rng.permutation(allowed)[: k - len(out)]])
        return out.astype(np.int64)
