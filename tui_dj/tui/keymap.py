"""The user's key remapping: `keymap.toml` in the data folder, binding id -> keys."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tui_dj.errors import TuiDjError

KEYMAP_FILE = "keymap.toml"
EXAMPLE = '[keys]\n"dj.like" = "plus"\n"dj.skip" = "n,right,j"\n'


def load_keymap(path: Path) -> dict[str, str]:
    """Read `{binding id: "key,key"}` from a TOML file's `[keys]` table (or its top level).

    A missing file is an empty keymap; a malformed one is one clear sentence.
    """
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TuiDjError(f"The keymap {path} cannot be read ({exc}); fix it or remove it.") from None
    table = data.get("keys", data)
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in table.items()
    ):
        raise TuiDjError(
            f"The keymap {path} must map binding ids to key names, like:\n{EXAMPLE}"
        )
    return {k: v.strip() for k, v in table.items()}
