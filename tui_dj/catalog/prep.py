"""`tui-dj prep`: build the processed catalog from CSV files or the generator, whole or not at all.

A catalog that was imported is never replaced by the built-in one without `force`, and `add`
merges new files into it instead of replacing it. What the caller should tell the person (what was
replaced, a catalog too small to play from for long) comes back in `PrepResult.notes`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_dj.catalog.importer import ProgressFn
from tui_dj.catalog.model import (
    FEATURES,
    SOURCE_WORDS,
    Catalog,
    is_catalog_dir,
    load_catalog,
    save_catalog,
)
from tui_dj.catalog.projection import MANIFEST_KEY, fit_projection
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


def _failure(failed: dict[str, str]) -> str:
    """A file left out, and why: `notes.mp3: not a readable audio file (...)`."""
    name = Path(failed["file"]).name
    return f"{name}: {failed['reason'].rstrip('.')}" if failed.get("reason") else name


def _described(catalog: Catalog) -> str:
    """`mine.csv, 1,200 songs`; the built-in catalog's name already counts its songs."""
    if catalog.name.startswith("built-in ("):
        return catalog.name
    return f"{catalog.name}, {len(catalog):,} songs"


def _imported(catalog: Catalog) -> bool:
    return catalog.manifest.get("schema") != "synthetic"


def _is_music(path: Path) -> bool:
    from tui_dj.catalog.music import AUDIO_EXTENSIONS

    return path.is_dir() or path.suffix.lower() in AUDIO_EXTENSIONS


def import_music_catalog(paths: list[Path], cache_dir: Path, features_from: list[Path] | None = None,
                         on_music: Callable[[Any], None] | None = None) -> Catalog:
    """Folders (and audio files) of music as a catalog: each song keeps its file (`path`) and where
    each feature came from (`sources`), and the manifest says so per song and feature."""
    from tui_dj.catalog.music import FeatureSource, import_music

    source = FeatureSource.from_csv(features_from) if features_from else None
    music = import_music(paths, cache_dir=cache_dir, features_from=source, progress=on_music)
    tracks = music.tracks.assign(sources=["".join(row) for row in music.provenance.tolist()])
    known = tracks["duration_ms"] > 0
    # A file whose length no tag or decoder told: the others' median, so its clock still runs.
    tracks.loc[~known, "duration_ms"] = int(tracks.loc[known, "duration_ms"].median()) if known.any() else 210_000
    counts = {f: {word: int((music.provenance[:, j] == code).sum()) for code, word in SOURCE_WORDS.items()}
              for j, f in enumerate(FEATURES)} if len(tracks) else {}
    summary = {k: v for k, v in music.summary.items() if k != "failed"}
    summary["failed"] = [{"file": str(f.get("path", f)), "reason": str(f.get("reason", ""))}
                         if isinstance(f, dict) else {"file": str(f), "reason": ""} for f in music.summary.get("failed", [])]
    names = [p.name or str(p) for p in paths]
    manifest = {
        "name": names[0] if len(names) == 1 else f"{names[0]} + {len(names) - 1} more",
        "schema": "music",
        "sources": [{"path": str(p.resolve()), "schema": "music folder", "schema_found": "music files",
                     "rows_read": int(music.summary.get("files", 0))} for p in paths],
        "rows_read": int(music.summary.get("files", 0)),
        "rows_kept": len(tracks),
        "music": summary,
        "feature_sources": {"legend": dict(SOURCE_WORDS), "features": list(FEATURES), "counts": counts,
                            "by_track": dict(zip(tracks["track_id"], tracks["sources"], strict=True))},
    }
    if len(tracks) == 0:
        failed = len(summary["failed"])
        raise TuiDjError(f"No playable music files were found in {', '.join(map(str, paths))}"
                         + (f" ({failed} could not be read)." if failed else
                            " (a folder is read as music: mp3, flac, ogg, opus, m4a or wav files; pass a CSV by its file name)."))
    return Catalog.from_raw(tracks, music.raw, manifest)


def run_prep(files: list[Path], out: Path, synthetic: int | None = None, seed: int = 0,
             kaggle_csv: Path | None = None, force: bool = False, add: bool = False,
             on_progress: ProgressFn | None = None, features_from: list[Path] | None = None,
             cache_dir: Path | None = None, on_music: Callable[[Any], None] | None = None) -> PrepResult:
    """Build the catalog (from `files`: CSV files, music folders or audio files; else the generator)
    and save it into `out` whole. A music folder's features are borrowed from `features_from`
    where it knows a song, and measured from the audio otherwise (cached in `cache_dir`)."""
    out = Path(out)
    if files and synthetic is not None:
        raise TuiDjError("Give either CSV files or --synthetic, not both.")
    if synthetic is not None and synthetic <= 0:
        raise TuiDjError(f"--synthetic must be a positive number of songs, not {synthetic}.")
    if add and not files:
        raise TuiDjError("--add adds files to the catalog: name the CSV files or music folders to add.")
    if features_from and not any(_is_music(Path(f)) for f in files):
        raise TuiDjError("--features-from lends features to a music folder's songs: name a music folder too.")
    notes: list[str] = []
    if files:
        from tui_dj.catalog.importer import import_sources, merge_catalogs, open_sources

        music = [f for f in files if _is_music(Path(f))]
        csvs = [f for f in files if not _is_music(Path(f))]
        sources = open_sources(csvs) if csvs else []
        check_output(out)
        before = _existing(out)
        parts = []
        if sources:
            parts.append(import_sources(sources, on_progress))
        if music:
            if cache_dir is None:
                from tui_dj.paths import data_dir

                cache_dir = data_dir() / "music-cache"
            parts.append(import_music_catalog([Path(m) for m in music], cache_dir, features_from, on_music))
        catalog = parts[0] if len(parts) == 1 else merge_catalogs(parts[0], parts[1])
        failed = catalog.manifest.get("music", {}).get("failed", [])
        if failed:
            shown = "; ".join(_failure(f) for f in failed[:5]) + (" …" if len(failed) > 5 else "")
            notes.append(f"{len(failed)} file(s) could not be read and were left out: {shown}.")
        if add and before is not None:
            catalog = merge_catalogs(before, catalog)
            notes.append(f"Added to the catalog in {out}: {len(before):,} songs before, {len(catalog):,} now.")
        elif before is not None:
            notes.append(f"Replaced the catalog in {out} ({_described(before)}); "
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
        notes.append(f"This catalog has only {len(catalog):,} song{'' if len(catalog) == 1 else 's'}: the DJ will soon repeat them, and a "
                     f"few dislikes leave nothing to play; import more songs with `tui-dj prep --add FILES{_out_flag(out)}`.")
    # The taste map's plane, fitted once here so the console never needs scikit-learn.
    catalog.manifest[MANIFEST_KEY] = fit_projection(catalog.features).to_dict()
    keep = _placeholders(out)
    save_catalog(catalog, out)
    for name, data in keep.items():
        with contextlib.suppress(OSError):
            (out / name).write_bytes(data)
    return PrepResult(catalog, out, notes)
