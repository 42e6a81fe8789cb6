"""`tui-dj prep`: build the processed catalog from CSV files or the generator, whole or not at all.

A catalog that was imported is never replaced by the built-in one without `force`, and `add`
merges new files into it instead of replacing it. What the caller should tell the person (what was
replaced, a catalog too small to play from for long) comes back in `PrepResult.notes`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tui_dj.catalog.importer import ProgressFn
from tui_dj.catalog.model import Catalog, is_catalog_dir, load_catalog, save_catalog
from tui_dj.catalog.synthetic import DEFAULT_SIZE, builtin_catalog, write_kaggle_csv
from tui_dj.errors import TuiDjError
from tui_dj.paths import PROCESSED_DIR

# Below this many songs the DJ runs out of new songs within an hour: worth a word, not a refusal.
SMALL_CATALOG = 50
# Files a project keeps in an empty output folder (data/processed/README.md); prep keeps them too.
_PLACEHOLDERS = ("README", ".gitkeep")


@dataclass
class PrepResult:
    catalog: Catalog
    out: Path
    notes: list[str] = field(default_factory=list)


def _placeholders(out: Path) -> dict[str, bytes]:
    if not out.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name.startswith(_PLACEHOLDERS)}


def check_output(out: Path) -> None:
    """Refuse, before any work, an output folder that cannot be written or is not ours to replace."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise TuiDjError(f"Cannot write the catalog to {out}: it is a file, not a folder.")
        others = [p for p in out.iterdir() if not p.name.startswith(_PLACEHOLDERS)]
        if others and not is_catalog_dir(out):
            raise TuiDjError(
                f"{out} already holds other files and is not a tui-dj catalog; choose a new or empty folder."
            )
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise TuiDjError(f"Cannot write the catalog to {out}: {parent} is not a writable folder.")


def _existing(out: Path) -> Catalog | None:
    """The catalog in `out`, if it holds one that can be read: a damaged one is simply replaced."""
    if not is_catalog_dir(out):
        return None
    try:
        return load_catalog(out)
    except TuiDjError:
        return None


def _out_flag(out: Path) -> str:
    """` --out DIR` for a command that is to write where this one did; nothing for the default."""
    return "" if Path(out) == PROCESSED_DIR else f" --out {shlex.quote(str(out))}"


def _imported(catalog: Catalog) -> bool:
    return catalog.manifest.get("schema") != "synthetic"


def run_prep(files: list[Path], out: Path, synthetic: int | None = None, seed: int = 0,
             kaggle_csv: Path | None = None, force: bool = False, add: bool = False,
             on_progress: ProgressFn | None = None) -> PrepResult:
    """Build the catalog (from `files`, else the generator) and save it into `out` whole."""
    out = Path(out)
    if files and synthetic is not None:
        raise TuiDjError("Give either CSV files or --synthetic, not both.")
    if synthetic is not None and synthetic <= 0:
        raise TuiDjError(f"--synthetic must be a positive number of songs, not {synthetic}.")
    if add and not files:
        raise TuiDjError("--add adds files to the catalog: name the CSV files to add.")
    notes: list[str] = []
    if files:
        from tui_dj.catalog.importer import import_sources, merge_catalogs, open_sources

        sources = open_sources(files)
        check_output(out)
        before = _existing(out)
        catalog = import_sources(sources, on_progress)
        if add and before is not None:
            catalog = merge_catalogs(before, catalog)
            notes.append(f"Added to the catalog in {out}: {len(before):,} songs before, {len(catalog):,} now.")
        elif before is not None:
            notes.append(f"Replaced the catalog in {out} ({before.name}, {len(before):,} songs); "
                         f"`tui-dj prep --add FILES{_out_flag(out)}` adds to a catalog instead.")
    else:
        check_output(out)
        before = _existing(out)
        if before is not None and _imported(before) and not force:
            raise TuiDjError(f"{out} holds the catalog imported from {before.name} ({len(before):,} songs); "
                             f"`tui-dj prep --force{_out_flag(out)}` replaces it with the built-in one, or "
                             "--out writes that elsewhere.")
        n = synthetic or DEFAULT_SIZE
        catalog = builtin_catalog(n, seed)
        if kaggle_csv is not None:
            try:
                write_kaggle_csv(kaggle_csv, n, seed)
            except OSError as exc:
                raise TuiDjError(f"Cannot write {kaggle_csv}: {exc.strerror or exc}.") from None
            notes.append(f"Wrote {n:,} songs as a Kaggle-format CSV to {kaggle_csv}.")
    if len(catalog) < SMALL_CATALOG:
        notes.append(f"This catalog has only {len(catalog):,} songs: the DJ will soon repeat them, and a "
                     f"few dislikes leave nothing to play; import more songs with `tui-dj prep --add FILES{_out_flag(out)}`.")
    keep = _placeholders(out)
    save_catalog(catalog, out)
    for name, data in keep.items():
        with contextlib.suppress(OSError):
            (out / name).write_bytes(data)
    return PrepResult(catalog, out, notes)
