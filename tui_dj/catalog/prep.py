"""`tui-dj prep`: build the processed catalog from CSV files or the generator, with a summary."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from tui_dj.catalog.model import FEATURES, GENRE_SEP, Catalog, is_catalog_dir, save_catalog
from tui_dj.catalog.synthetic import DEFAULT_SIZE, builtin_catalog, write_kaggle_csv
from tui_dj.errors import TuiDjError


def _genre_count(catalog: Catalog) -> int:
    # Split the few distinct genre strings, not every row's.
    joined = catalog.tracks["genres"].dropna().unique()
    return len({g for text in joined for g in str(text).split(GENRE_SEP) if g})


def summary_table(catalog: Catalog) -> Table:
    """Where the songs came from, what was dropped or adjusted and why, and the feature ranges."""
    m = catalog.manifest
    table = Table(title=f"Catalog: {len(catalog):,} songs", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    sources = m.get("sources", [])
    for i, source in enumerate(sources):
        name = Path(str(source.get("path", ""))).name or str(source.get("path"))
        rows = source.get("rows_read", source.get("rows", 0))
        table.add_row(f"{name}: {source.get('schema_found', source.get('schema', ''))}", f"{rows:,} rows",
                      end_section=i == len(sources) - 1)
    table.add_row("rows read", f"{m.get('rows_read', len(catalog)):,}")
    if m.get("duplicates_merged"):
        table.add_row("duplicate rows merged (genres kept)", f"{m['duplicates_merged']:,}")
    if "unique_tracks" in m:
        table.add_row("unique tracks", f"{m['unique_tracks']:,}")
    for reason, count in m.get("dropped", {}).items():
        table.add_row(f"dropped: {reason}", f"{count:,}")
    for reason, count in m.get("adjusted", {}).items():
        table.add_row(f"kept, {reason}", f"{count:,}")
    table.add_row("[bold]songs kept[/]", f"[bold]{len(catalog):,}[/]", end_section=True)
    table.add_row("genres", f"{_genre_count(catalog):,}")
    raw = catalog.raw_features()
    low, high = np.min(raw, axis=0), np.max(raw, axis=0)
    for i, name in enumerate(FEATURES):
        table.add_row(name, f"{low[i]:.3g} .. {high[i]:.3g}")
    table.add_row("fingerprint", catalog.fingerprint)
    return table


# Files a project keeps in an empty output folder (data/processed/README.md); prep keeps them too.
_PLACEHOLDERS = ("README", ".gitkeep")


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


def run_prep(files: list[Path], out: Path, synthetic: int | None, seed: int, kaggle_csv: Path | None) -> Catalog:
    """Build the catalog (from `files`, else the generator), save it into `out` whole, print a summary."""
    console = Console(stderr=True)
    if files and synthetic is not None:
        raise TuiDjError("Give either CSV files or --synthetic, not both.")
    if synthetic is not None and synthetic <= 0:
        raise TuiDjError(f"--synthetic must be a positive number of songs, not {synthetic}.")
    if files:
        from tui_dj.catalog.importer import import_sources, open_sources

        sources = open_sources(files)
        check_output(out)
        catalog = import_sources(sources, console=console)
    else:
        check_output(out)
        n = synthetic or DEFAULT_SIZE
        catalog = builtin_catalog(n, seed)
        if kaggle_csv is not None:
            try:
                write_kaggle_csv(kaggle_csv, n, seed)
            except OSError as exc:
                raise TuiDjError(f"Cannot write {kaggle_csv}: {exc.strerror or exc}.") from None
            console.print(f"Wrote {n:,} songs as a Kaggle-format CSV to {kaggle_csv}", soft_wrap=True)
    keep = _placeholders(out)
    save_catalog(catalog, out)
    for name, data in keep.items():
        with contextlib.suppress(OSError):
            (out / name).write_bytes(data)
    Console().print(summary_table(catalog))
    console.print(f"Saved the catalog to {out}", soft_wrap=True)
    return catalog
