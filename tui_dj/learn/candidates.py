"""The songs scored at each decision: near the taste, near the songs liked, and elsewhere.

Scoring a few dozen songs instead of the whole catalog keeps one decision in the microseconds on
232,725 songs. Big catalogs are split once into clusters around sampled songs, so "near a song"
only looks inside the few nearest clusters. That split (the `index`) depends on the catalog alone:
the session keeps it on disk (`session/caches.py`) and hands it back instead of clustering again.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import numpy as np

from tui_dj.learn.cover import Cover

EXACT_LIMIT = 8192  # below this many songs, distances to every song are cheaper than clusters
SONGS_PER_CLUSTER = 256
MAX_CLUSTERS = 1024
REGIONS = 48  # coarse regions of similar songs: where exploring looks, and where tastes are drawn


def regions(features: np.ndarray, k: int = REGIONS, seed: int = 0) -> list[np.ndarray]:
    """The catalog cut into about `k` regions of similar songs (two k-means steps from random
    songs, fitted on at most 20,000 of them), each a non-empty array of rows, niche regions as well
    as crowded ones."""
    rng = np.random.default_rng(seed)
    n = len(features)
    k = min(k, n)
    sample = features[rng.choice(n, size=min(n, 20_000), replace=False)].astype(np.float32)
    centres = sample[rng.choice(len(sample), size=k, replace=False)]

    def assign(x: np.ndarray) -> np.ndarray:
        out = np.empty(len(x), np.int64)
        c_sq = (centres * centres).sum(1)
        for start in range(0, len(x), 8192):
            block = x[start:start + 8192]
            out[start:start + len(block)] = (c_sq - 2.0 * block @ centres.T).argmin(1)
        return out

    for _ in range(2):
        labels = assign(sample)
        for j in np.flatnonzero(np.bincount(labels, minlength=k)):
            centres[j] = sample[labels == j].mean(axis=0)
    labels = assign(np.asarray(features, np.float32))
    order = np.argsort(labels, kind="stable")
    bounds = np.cumsum(np.bincount(labels, minlength=k))[:-1]
    return [part for part in np.split(order, bounds) if len(part)]


class CandidateGenerator:
    """`candidates(taste, exclude, rng, anchors, rejected)` -> up to `k` distinct song rows, never an
    excluded one.

    A quarter of the set is the songs nearest the taste vector, a quarter the songs nearest the
    latest liked songs (`anchors`: a person likes more than one kind of music, and the mean of two
    kinds is neither), a quarter songs from other regions of the catalog that sound least like
    what was rejected (`rejected`: where to look next), and the rest uniform random picks.
    """

    def __init__(self, features: np.ndarray, k: int = 64, seed: int = 0,
                 index: dict[str, np.ndarray] | None = None) -> None:
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.n = len(self.features)
        self.k = int(k)
        self.clustered = self.n > EXACT_LIMIT
        if index is not None and self._adopt(index):
            return
        if self.clustered:
            self._build_clusters(seed)
        self.regions = regions(self.features, seed=seed)

    def index(self) -> dict[str, np.ndarray]:
        """The clusters and regions as plain arrays, to be kept and given back as `index=`."""
        rows, _, sizes = self._region_table
        out = {"region_rows": rows, "region_sizes": sizes,
               "cover_rows": self.cover.rows, "cover_radius": self.cover.radius, "cover_bars": self.cover.bars}
        if self.clustered:
            out.update(centres=self.centres, order=self.order, offsets=self.offsets)
        return out

    def _adopt(self, index: dict[str, np.ndarray]) -> bool:
        """Take a kept index if it fits this catalog (every row in it once); False: build a new one."""
        try:
            rows, sizes = np.asarray(index["region_rows"], np.int64), np.asarray(index["region_sizes"], np.int64)
            if not _permutation(rows, self.n) or sizes.ndim != 1 or (sizes < 1).any() or sizes.sum() != self.n:
                return False
            if self.clustered:
                centres = np.asarray(index["centres"], np.float32)
                order, offsets = np.asarray(index["order"], np.int64), np.asarray(index["offsets"], np.int64)
                if (centres.ndim != 2 or centres.shape[1] != self.features.shape[1] or not _permutation(order, self.n)
                        or offsets.shape != (len(centres) + 1,) or offsets[0] != 0 or offsets[-1] != self.n
                        or (np.diff(offsets) < 0).any()):
                    return False
                self.centres, self.order, self.offsets = centres, order, offsets
        except (KeyError, TypeError, ValueError):
            return False
        self.regions = np.split(rows, np.cumsum(sizes)[:-1])
        # Kept with the regions, so that the first search that needs it (in a key) finds it.
        middles, radius, bars = index.get("cover_rows"), index.get("cover_radius"), index.get("cover_bars")
        if (middles is not None and radius is not None and bars is not None and np.ndim(middles) == 1
                and np.shape(radius) == np.shape(middles) and len(middles)
                and 0 <= np.min(middles) and np.max(middles) < self.n):
            cover = Cover(self.features, kept=(middles, radius, bars))
            if cover.bars.shape == cover.corner_signs.shape:
                self.__dict__["cover"] = cover
        return True

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

    def _mask(self, exclude: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.n, bool)
        mask[exclude] = True
        return mask

    def nearest(self, point: np.ndarray, count: int, exclude: np.ndarray,
                excluded: np.ndarray | None = None) -> np.ndarray:
        """The `count` songs nearest `point` that are not excluded, nearest first (`excluded`: the
        same as a boolean mask over the catalog, when the caller has it). Big catalogs are searched
        in the nearest clusters only (at least four, and eight times the songs wanted)."""
        point = np.asarray(point, np.float32)
        want = count + len(exclude)
        if self.clustered:
            d_c = ((self.centres - point) ** 2).sum(1)
            # The nearest few clusters in order (a partial sort), all of them when that is too few.
            top = np.argpartition(d_c, 15)[:16] if len(d_c) > 16 else np.arange(len(d_c))
            ranked = top[np.argsort(d_c[top])]
            sizes = np.cumsum(self.offsets[ranked + 1] - self.offsets[ranked])
            if sizes[-1] < 8 * want:
                ranked = np.argsort(d_c)
                sizes = np.cumsum(self.offsets[ranked + 1] - self.offsets[ranked])
            used = max(4, int(np.searchsorted(sizes, 8 * want)) + 1)
            pool = self._members(ranked[:used])
            d = ((self.features[pool] - point) ** 2).sum(1)
        else:
            pool = np.arange(self.n)
            diff = self.features - point
            d = np.einsum("ij,ij->i", diff, diff)
        if len(exclude):
            mask = excluded if excluded is not None else self._mask(exclude)
            d[mask[pool] if self.clustered else mask] = np.inf
        take = min(want, len(pool))
        part = np.argpartition(d, take - 1)[:take] if take < len(pool) else np.arange(len(pool))
        part = part[np.argsort(d[part], kind="stable")]
        part = part[np.isfinite(d[part])][:count]
        return pool[part]

    def candidates(self, taste: np.ndarray, exclude: Iterable[int] | np.ndarray = (),
                   rng: np.random.Generator | None = None, anchors: np.ndarray | None = None,
                   rejected: np.ndarray | None = None, k: int | None = None) -> np.ndarray:
        """Distinct song rows to score (int64), nearest the taste first; none of them in `exclude`."""
        rng = rng if rng is not None else np.random.default_rng()
        exclude = np.fromiter(exclude, dtype=np.int64) if not isinstance(exclude, np.ndarray) \
            else exclude.astype(np.int64, copy=False)
        k = self.k if k is None else int(k)
        quarter = max(1, k // 4)
        excluded = self._mask(exclude)
        picks = [self.nearest(taste, quarter, exclude, excluded)]
        anchors = np.zeros((0, self.features.shape[1]), np.float32) if anchors is None else np.asarray(anchors)
        for anchor in anchors:
            picks.append(self.nearest(anchor, max(2, quarter // len(anchors)), exclude, excluded))
        # Other regions, niche ones as likely as crowded ones: of three songs from each of a few
        # regions, the one least like anything rejected (where to look next).
        count = min(len(self.regions), quarter if len(anchors) else 2 * quarter)
        chosen = rng.choice(len(self.regions), size=count, replace=False)
        flat, starts, sizes = self._region_table
        # One draw for all regions: the same numbers, in the same order, as one draw per region.
        pool = flat[starts[chosen, None] + rng.integers(0, sizes[chosen, None], size=(count, 3))]
        if rejected is not None and len(rejected):
            x = self.features[pool]  # (q, 4, 9)
            far = np.sqrt(((x[:, :, None, :] - np.asarray(rejected)[None, None]) ** 2).sum(-1)).min(-1)
            picks.append(pool[np.arange(len(pool)), far.argmax(axis=1)])
        else:
            picks.append(pool[:, 0])
        picks.append(rng.integers(0, self.n, size=2 * k))
        merged = np.concatenate(picks).astype(np.int64)
        if len(exclude):
            merged = merged[~excluded[merged]]
        _, first = np.unique(merged, return_index=True)
        out = merged[np.sort(first)][:k]
        if len(out) < min(k, self.n - len(np.unique(exclude))):
            # Tiny catalogs: top up from everything still allowed.
            allowed = np.setdiff1d(np.arange(self.n), np.concatenate([exclude, out]))
            out = np.concatenate([out, rng.permutation(allowed)[: k - len(out)]])
        return out.astype(np.int64)

    @cached_property
    def _region_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The regions as one array of rows, with where each region starts and its size."""
        sizes = np.array([len(r) for r in self.regions], np.int64)
        return np.concatenate(self.regions), np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes

    @cached_property
    def cover(self) -> Cover:
        """Where a taste could be, given what was rejected (`learn.cover`): a cold start's search."""
        return Cover(self.features)


def _permutation(rows: np.ndarray, n: int) -> bool:
    """Whether `rows` holds each of 0..n-1 exactly once."""
    if rows.shape != (n,) or (n and (rows.min() < 0 or rows.max() >= n)):
        return False
    return bool(np.bincount(rows, minlength=n).max(initial=1) == 1) if n else True
