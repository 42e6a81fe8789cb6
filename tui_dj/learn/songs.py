"""The catalog as the learner needs it: scaled features, popularity in [0, 1], artist codes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from tui_dj.catalog.model import Catalog
from tui_dj.learn.candidates import regions

CROWD_RADIUS = 0.3  # songs closer than this (scaled features) sound alike to a listener's taste
SAMPLE = 20_000  # songs a taste is calibrated on in a big catalog


@dataclass
class SongTable:
    """`features[i]`, `popularity[i]` and `artists[i]` describe catalog row i.

    Artists are small integer codes: the learner only compares them for equality, and codes cost a
    twentieth of the memory of 232,725 strings.
    """

    features: np.ndarray
    popularity: np.ndarray
    artists: np.ndarray
    fingerprint: str = ""

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> SongTable:
        codes, _ = pd.factorize(catalog.tracks["artist"])
        return cls(
            features=catalog.features,
            popularity=(catalog.tracks["popularity"].to_numpy(np.float32) / 100.0).clip(0.0, 1.0),
            artists=codes.astype(np.int32),
            fingerprint=catalog.fingerprint,
        )

    def __len__(self) -> int:
        return len(self.features)

    @cached_property
    def regions(self) -> list[np.ndarray]:
        """The catalog cut into regions of similar songs (`candidates.regions`)."""
        return regions(self.features)

    @cached_property
    def taste_weights(self) -> np.ndarray:
        """How likely each song is to be the centre of a simulated listener's taste: in inverse
        proportion to how many songs sound like it (within `CROWD_RADIUS`, counted among 2,000
        sampled ones), so a niche sound is as likely a taste as the crowded middle of the catalog.
        Big catalogs draw among 20,000 sampled songs."""
        rng = np.random.default_rng(0)
        n = len(self.features)
        rows = np.arange(n) if n <= 20_000 else np.sort(rng.choice(n, size=20_000, replace=False))
        reference = self.features[rng.choice(n, size=min(n, 2000), replace=False)]
        ref_sq = (reference * reference).sum(1)[None]
        crowd = np.ones(len(rows))
        for start in range(0, len(rows), 1024):  # blocks of (1024, 2000): a few MB, not 160
            x = self.features[rows[start:start + 1024]]
            d2 = (x * x).sum(1)[:, None] + ref_sq - 2.0 * x @ reference.T
            crowd[start:start + len(x)] += (d2 < CROWD_RADIUS**2).sum(1)
        weights = np.zeros(n)
        weights[rows] = 1.0 / crowd
        return weights / weights.sum()

    @cached_property
    def sample_rows(self) -> np.ndarray:
        """The rows a taste is calibrated on: all of them, or `SAMPLE` of a big catalog (the same
        ones for every person; drawn once, not for each of a training run's 500)."""
        n = len(self.features)
        return np.arange(n) if n <= SAMPLE else np.random.default_rng(0).choice(n, size=SAMPLE, replace=False)

    @cached_property
    def spread(self) -> np.ndarray:
        """Each feature's spread over the catalog (its standard deviation, at least 1e-3):
        distances in standardised space divide by it."""
        return np.maximum(self.features[self.sample_rows].std(axis=0), 1e-3).astype(np.float32)

    @cached_property
    def prior(self) -> np.ndarray:
        """The catalog's mean song: the taste assumed before any reaction (never changed in place)."""
        return self.features.mean(axis=0).astype(np.float32)

    @cached_property
    def variance(self) -> np.ndarray:
        """Each feature's variance over the catalog (centres the person layer's squared inputs)."""
        return self.features.var(axis=0).astype(np.float32)
