"""Reading Spotify-format CSVs into one clean catalog, and the built-in catalog.

Importing this package imports no pandas: that waits for a catalog to be read or built, so the
console draws its first screen without it.
"""

from __future__ import annotations

from typing import Any

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


def builtin_catalog(*args: Any, **kwargs: Any) -> Catalog:
    """The built-in catalog (see `catalog.synthetic.builtin_catalog`)."""
    from tui_dj.catalog.synthetic import builtin_catalog as build

    return build(*args, **kwargs)


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
