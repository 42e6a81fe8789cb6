"""Where things live: the project folders, the user's data folder, and their overrides."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tui_dj.errors import TuiDjError

APP_NAME = "tui-dj"
DATA_DIR_ENV = "TUI_DJ_DATA_DIR"

# `tui-dj prep` writes here unless told `--out`; `play` and `train` read from here when it holds a
# catalog, and fall back to the built-in catalog otherwise.
PROCESSED_DIR = Path("data") / "processed"
MODELS_DIR = Path("models")

# The folder that holds the bundled default model, inside the installed package.
PACKAGE_ASSETS = Path(__file__).resolve().parent / "assets"


def data_dir(override: str | Path | None = None) -> Path:
    """The user's data folder: `--data-dir`, then $TUI_DJ_DATA_DIR, then the platform's."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def history_db(base: Path) -> Path:
    return base / "history.sqlite3"


def profiles_dir(base: Path) -> Path:
    return base / "profiles"


def logs_dir(base: Path) -> Path:
    return base / "logs"


_PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_profile_name(name: str) -> str:
    """Return `name` if it is safe as a folder name, else raise one clear sentence."""
    if not _PROFILE_RE.fullmatch(name) or name in {".", ".."} or ".." in name:
        shown = name.encode("unicode_escape").decode("ascii")
        if len(shown) > 40:
            shown = shown[:40] + "..."
        raise TuiDjError(
            f"Profile name {shown!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def profile_dir(base: Path, name: str) -> Path:
    return profiles_dir(base) / check_profile_name(name)
