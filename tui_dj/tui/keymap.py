"""The user's key remapping: `keymap.toml` in the data folder, binding id -> keys."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path

from tui_dj.errors import TuiDjError

KEYMAP_FILE = "keymap.toml"
EXAMPLE = '[keys]\n"dj.like" = "l,f"\n"dj.skip" = "n,j"\n'


def load_keymap(path: Path, known: Collection[str] = ()) -> dict[str, str]:
    """Read `{binding id: "key,key"}` from a TOML file's `[keys]` table (or its top level).

    A missing file is an empty keymap; a malformed one, or one naming an id that is not in `known`
    (when given), is one clear sentence.
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
    if known:
        for binding_id in table:
            if binding_id not in known:
                raise TuiDjError(_unknown(path, binding_id, known))
    return {k: v.strip() for k, v in table.items()}


def check_clashes(path: Path, keymap: Mapping[str, str], screens: Collection[Mapping[str, str]]) -> None:
    """Refuse, in one sentence, a keymap that leaves one key to two bindings of the same screen.

    `screens` holds each screen's `{binding id: default keys}`; the keymap's keys replace the
    defaults of the ids it names.
    """
    for defaults in screens:
        owner: dict[str, str] = {}
        for binding_id, keys in defaults.items():
            for key in keymap.get(binding_id, keys).split(","):
                key = key.strip()
                other = owner.setdefault(key, binding_id)
                if other != binding_id and (binding_id in keymap or other in keymap):
                    raise TuiDjError(
                        f"The keymap {path} leaves the key {key!r} to both {other!r} and {binding_id!r}; "
                        "give each key to one binding."
                    )


def _unknown(path: Path, binding_id: str, known: Collection[str]) -> str:
    """One sentence: the id that is not a binding, the nearest one that is, where the list is."""
    near = difflib.get_close_matches(binding_id, sorted(known), n=1, cutoff=0.5)
    hint = f"did you mean {near[0]!r}?" if near else f"the ids are: {', '.join(sorted(known))}."
    return (f"The keymap {path} names {binding_id[:40]!r}, which is not the id of a tui-dj key; {hint} "
            "(? in the console lists every id.)")
