"""What an opening would otherwise compute again every time, kept on disk: the candidate index
(it depends on the catalog alone) and the warm start (on the catalog, the model that plays it, and
the warm start's own settings).

Each file is named and stamped by a key made of everything it depends on, written atomically, and
checked when read: a file that is stale, damaged or does not fit is ignored and written again, so a
session opens with the very same index and replay whether a file was there or not. Where a catalog
folder can be written, the index lies beside it; otherwise (a read-only folder, the built-in or an
in-memory catalog) both lie under the data folder's `cache/`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_dj.atomic import atomic_write
from tui_dj.catalog import Catalog
from tui_dj.config import EnvConfig
from tui_dj.errors import TuiDjError
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.songs import SongTable

if TYPE_CHECKING:  # torch: only a network that learns by gradient steps while playing needs it
    from tui_dj.learn.agent import DQNAgent

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # raise when what a cached file holds, or how it is computed, changes
INDEX_SEED = 0  # the index depends on the catalog only, never on a session's seed
WARM_START_SEED = 0  # the simulated listeners of a warm start: the same for every opening


def cache_folders(base: Path, catalog_dir: Path | None) -> list[Path]:
    """Where cached files may lie, the preferred first: beside the catalog when its folder can be
    written, then the data folder's `cache/`."""
    folders = [Path(base) / "cache"]
    if catalog_dir is not None and os.access(catalog_dir, os.W_OK):
        folders.insert(0, Path(catalog_dir) / "cache")
    return folders


def file_hash(path: Path) -> str:
    """A model file's content hash: a model saved again is another model."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({**parts, "cache_version": CACHE_VERSION}, sort_keys=True,
                                     default=str).encode()).hexdigest()


def _read(folders: list[Path], name: str, key: str) -> dict[str, np.ndarray] | None:
    """The arrays of the first file called `name` stamped with `key`; None where none is sound."""
    for folder in folders:
        path = folder / name
        if not path.is_file():
            continue
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) == key:
                    return {k: data[k] for k in data.files if k != "key"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.info("ignoring the cache file %s (%s)", path, type(exc).__name__)
    return None


def _write(folders: list[Path], name: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Keep `arrays` in the first folder that takes them; a cache nobody can write is no error."""
    stamped: dict[str, Any] = {"key": np.array(key), **arrays}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **stamped)

    for folder in folders:
        try:
            atomic_write(folder / name, write)
            return
        except TuiDjError as exc:
            log.info("could not keep %s in %s (%s)", name, folder, exc)


def candidate_generator(catalog: Catalog, k: int, folders: list[Path]) -> CandidateGenerator:
    """The catalog's candidate generator, its index read from the cache when one fits."""
    key = _key({"what": "candidate index", "catalog": catalog.fingerprint, "songs": len(catalog),
                "seed": INDEX_SEED})
    name = f"candidate-index-{catalog.fingerprint}.npz"
    index = _read(folders, name, key)
    generator = CandidateGenerator(catalog.features, k=k, seed=INDEX_SEED, index=index)
    if index is None or generator.index().keys() != index.keys():
        _write(folders, name, key, generator.index())
    return generator


def warm_replay(agent: DQNAgent, songs: SongTable, generator: CandidateGenerator, transitions: int,
                player: str, load_player: Callable[[], DQNAgent], catalog: Catalog,
                folders: list[Path]) -> int:
    """Fill `agent`'s empty replay with its warm start (`warm_start.warm_start`), played by the
    network `player` names (a model file's hash, or "untrained:<seed>") and loaded by `load_player`
    only when nothing is cached. Returns how many transitions it holds."""
    config = EnvConfig()
    key = _key({"what": "warm start", "catalog": catalog.fingerprint, "player": player,
                "transitions": transitions, "seed": WARM_START_SEED, "env": asdict(config),
                "candidates": generator.k, "index": generator.clustered})
    name = f"warm-start-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    replay = agent.replay
    kept = _read(folders, name, key)
    if kept is not None and _fits(kept, replay.arrays):
        size = len(kept["reward"])
        for field, array in replay.arrays.items():
            array[:size] = kept[field]
        replay.size, replay.pos = size, size % replay.capacity
        return size
    from tui_dj.learn.warm_start import warm_start

    player_agent = load_player()
    scratch = player_agent.new_replay(replay.capacity)
    added = warm_start(player_agent, songs, generator, transitions, seed=WARM_START_SEED, config=config)
    size = min(scratch.size, replay.capacity)
    for field, array in replay.arrays.items():
        array[:size] = scratch.arrays[field][:size]
    replay.size, replay.pos = size, size % replay.capacity
    if player_agent is agent:
        agent.replay = replay
    _write(folders, name, key, {field: array[:size] for field, array in replay.arrays.items()})
    return added


def _fits(kept: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> bool:
    """Whether kept rows have the replay's fields, shapes and types, and no more rows than it."""
    with contextlib.suppress(KeyError):
        size = len(kept["reward"])
        return (kept.keys() == arrays.keys() and 0 < size <= len(arrays["reward"])
                and all(kept[f].shape == (size, *a.shape[1:]) and kept[f].dtype == a.dtype
                        for f, a in arrays.items()))
    return False
