"""Reading Spotify-format CSVs into one clean catalog, and the built-in catalog."""

from tui_dj.catalog.model import (
    FEATURES,
    N_FEATURES,
    Catalog,
    FeatureScaler,
    Track,
    is_catalog_dir,
    load_catalog,
    save_catalog,
)
from tui_dj.catalog.synthetic import builtin_catalog

__all__ = [
    "FEATURES",
    "N_FEATURES",
    "Catalog",
    "FeatureScaler",
    "Track",
    "builtin_catalog",
    "is_catalog_dir",
    "load_catalog",
    "save_catalog",
]
