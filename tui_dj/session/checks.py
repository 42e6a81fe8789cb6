"""The options of `tui-dj play` checked before anything heavy loads, so a typo is one sentence on
the terminal rather than a flash of the console."""

from __future__ import annotations

from pathlib import Path

from tui_dj.catalog import chosen_catalog_dir, is_catalog_dir, load_catalog
from tui_dj.errors import TuiDjError
from tui_dj.paths import check_profile_name


def check_play_options(catalog: Path | None, model: Path | None, profile: str,
                       builtin: bool = False) -> Path | None:
    """The catalog folder to play from (None: the built-in one, always so with `builtin`), or one
    sentence on what is wrong."""
    check_profile_name(profile)
    catalog = None if builtin else chosen_catalog_dir(catalog)
    if catalog is not None and not is_catalog_dir(catalog):
        load_catalog(catalog)  # raises the sentence that says why it is not one
    if model is not None and not Path(model).is_file():
        raise TuiDjError(f"There is no model file at {model}; leave out --model to use the bundled one.")
    return catalog
