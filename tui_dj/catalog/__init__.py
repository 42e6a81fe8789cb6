"""Reading Spotify-format CSVs into one clean catalog, and the built-in catalog."""

from tui_dj.catalog.model import (
    FEATURES,
    N_FEATURES,
    Catalog,
    FeatureScaler,
    Track,
    chosen_catalog_dir,
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
    "chosen_catalog_dir",
    "is_catalog_dir",
    "load_catalog",
    "save_catalog",
]
