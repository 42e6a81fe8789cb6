"""`tui-dj prep`: build the processed catalog from CSV files or the generator, with a summary."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from tui_dj.catalog.model import FEATURES, Catalog, save_catalog
from tui_dj.catalog.synthetic import DEFAULT_SIZE, builtin_catalog, write_kaggle_csv
from tui_dj.errors import TuiDjError


def summary_table(catalog: Catalog) -> Table:
    m = catalog.manifest
    table = Table(title=f"Catalog: {len(catalog):,} songs", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("rows read", f"{m.get('rows_read', len(catalog)):,}")
    table.add_row("songs kept", f"{len(catalog):,}")
    for reason, count in sorted(m.get("dropped", {}).items()):
        table.add_row(f"dropped: {reason}", f"{count:,}")
    genres = catalog.tracks["genres"].str.split(", ").explode()
    table.add_row("genres", f"{genres[genres != ''].nunique():,}")
    raw = catalog.raw_features()
    for i, name in enumerate(FEATURES):
        table.add_row(name, f"{raw[:, i].min():.3g} .. {raw[:, i].max():.3g}")
    table.add_row("fingerprint", catalog.fingerprint)
    return table


def run_prep(files: list[Path], out: Path, synthetic: int | None, seed: int, kaggle_csv: Path | None) -> Catalog:
    console = Console(stderr=True)
    if files and synthetic is not None:
        raise TuiDjError("Give either CSV files or --synthetic, not both.")
    if synthetic is not None and synthetic <= 0:
        raise TuiDjError(f"--synthetic must be a positive number of songs, not {synthetic}.")
    if files:
        from tui_dj.catalog.importer import import_files

        catalog = import_files(files, console=console)
    else:
        n = synthetic or DEFAULT_SIZE
        catalog = builtin_catalog(n, seed)
        if kaggle_csv is not None:
            write_kaggle_csv(kaggle_csv, n, seed)
            console.print(f"Wrote {n:,} songs as a Kaggle-format CSV to {kaggle_csv}")
    save_catalog(catalog, out)
    Console().print(summary_table(catalog))
    console.print(f"Saved the catalog to {out}")
    return catalog
