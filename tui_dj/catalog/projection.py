"""The catalog on a plane: a linear projection of the nine scaled features to two, for the taste map.

`tui-dj prep` fits it once with scikit-learn's PCA and stores it in the manifest as plain numbers
(the mean song and two rows of nine weights), so the console projects any song with one numpy
product and never imports scikit-learn. A catalog made in code (the built-in one) or saved before
projections existed gets the same PCA from numpy's SVD when it is first asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_dj.catalog.model import FEATURES, N_FEATURES

if TYPE_CHECKING:
    from tui_dj.catalog.model import Catalog

# The projection's place in the manifest.
MANIFEST_KEY = "projection"
# A PCA of two components from nine features settles long before this many songs; a sample keeps
# prep's fit and an unfitted catalog's first map at a few milliseconds whatever the catalog's size.
FIT_SAMPLE = 50_000


@dataclass(frozen=True)
class Projection:
    """`(features - mean) @ components.T`: each song's (x, y) from its nine scaled features."""

    mean: tuple[float, ...]
    components: tuple[tuple[float, ...], tuple[float, ...]]
    explained: tuple[float, float] = (0.0, 0.0)  # the share of the variance each axis keeps
    method: str = "pca"

    def project(self, features: np.ndarray) -> np.ndarray:
        """(n, 2) float32 coordinates of (n, 9) scaled features (or (2,) of one song's nine)."""
        components = np.asarray(self.components, np.float32).T
        # The mean comes off after the product: no (n, 9) copy of a 232,725-song catalog.
        xy = np.asarray(features, np.float32) @ components
        xy -= np.asarray(self.mean, np.float32) @ components
        return xy

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "features": list(FEATURES), "mean": list(self.mean),
                "components": [list(row) for row in self.components], "explained": list(self.explained)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Projection:
        components = data["components"]
        if (data.get("features") != list(FEATURES) or len(data["mean"]) != N_FEATURES
                or len(components) != 2 or any(len(row) != N_FEATURES for row in components)):
            raise ValueError("projection does not map the nine features to two")
        values = np.asarray([data["mean"], *components], np.float64)
        if not np.isfinite(values).all():
            raise ValueError("projection holds a number that is not finite")
        explained = data.get("explained", (0.0, 0.0))
        return cls(tuple(map(float, data["mean"])),
                   (tuple(map(float, components[0])), tuple(map(float, components[1]))),
                   (float(explained[0]), float(explained[1])), str(data.get("method", "pca")))


def _sample(features: np.ndarray, seed: int) -> np.ndarray:
    if len(features) <= FIT_SAMPLE:
        return np.asarray(features, np.float64)
    rows = np.random.default_rng(seed).choice(len(features), FIT_SAMPLE, replace=False)
    return np.asarray(features[np.sort(rows)], np.float64)


def _settled(mean: np.ndarray, components: np.ndarray, explained: np.ndarray, method: str) -> Projection:
    # A component's sign is arbitrary; pointing each one's largest weight up makes scikit-learn's
    # and numpy's fits (and two prep runs) draw the same picture, not its mirror image.
    for row in components:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return Projection(tuple(map(float, mean)), (tuple(map(float, components[0])), tuple(map(float, components[1]))),
                      (float(explained[0]), float(explained[1])), method)


def fit_projection(features: np.ndarray, seed: int = 0) -> Projection:
    """PCA of the scaled features with scikit-learn (imported here only: prep time)."""
    from sklearn.decomposition import PCA

    sample = _sample(features, seed)
    if len(sample) < 2:
        return pca_projection(features, seed)
    pca = PCA(n_components=2, svd_solver="full").fit(sample)
    return _settled(pca.mean_, np.array(pca.components_), pca.explained_variance_ratio_, "pca")


def pca_projection(features: np.ndarray, seed: int = 0) -> Projection:
    """The same PCA with numpy alone: for a catalog that was not fitted by prep."""
    sample = _sample(features, seed)
    mean = sample.mean(axis=0) if len(sample) else np.zeros(N_FEATURES)
    if len(sample) < 2:
        return _settled(mean, np.eye(2, N_FEATURES), np.zeros(2), "pca")
    _, singular, vt = np.linalg.svd(sample - mean, full_matrices=False)
    variance = singular ** 2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return _settled(mean, vt[:2].copy(), explained, "pca")


def projection_of(catalog: Catalog) -> Projection:
    """The catalog's stored projection; else (a built-in catalog, an old or damaged entry) a numpy
    PCA, kept in its manifest so that it is fitted once and saved with the catalog."""
    stored = catalog.manifest.get(MANIFEST_KEY)
    if isinstance(stored, dict):
        try:
            return Projection.from_dict(stored)
        except (KeyError, TypeError, ValueError, IndexError):
            pass  # a hand-edited manifest: fit afresh rather than refuse the catalog
    projection = pca_projection(catalog.features)
    catalog.manifest[MANIFEST_KEY] = projection.to_dict()
    return projection
