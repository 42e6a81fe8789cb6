"""The catalog as the learner needs it: scaled features, popularity in [0, 1], artist codes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from tui_dj.catalog.model import Catalog


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
    def prior(self) -> np.ndarray:
        """The catalog's mean song: the taste assumed before any reaction (never changed in place)."""
        return self.features.mean(axis=0).astype(np.float32)
