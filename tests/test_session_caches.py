"""The opening's caches (candidate index, warm start): the same session with and without them, and a
damaged or stale file is rebuilt, never trusted. The warm start is played only for the original
per-song network, whose online update is a gradient step on replay; the feature network refits its
output layer and needs none."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tui_dj import open_session
from tui_dj.catalog import builtin_catalog, save_catalog
from tui_dj.learn.candidates import EXACT_LIMIT

SONGS = EXACT_LIMIT + 1000  # big enough to be clustered: the index is worth keeping


@pytest.fixture(scope="module")
def saved_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("catalog") / "processed"
    save_catalog(builtin_catalog(SONGS, seed=3), folder)
    return folder


@pytest.fixture
def catalog_dir(saved_catalog: Path, tmp_path: Path) -> Path:
    """A catalog folder of this test's own, with nothing cached yet."""
    return Path(shutil.copytree(saved_catalog, tmp_path / "processed"))


@pytest.fixture(scope="module")
def per_song_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An (untrained) model of the original one-output-per-song network for this catalog."""
    from tui_dj.config import AgentConfig
    from tui_dj.learn.agent import DQNAgent
    from tui_dj.learn.model_file import save_agent

    path = tmp_path_factory.mktemp("model") / "per-song.pt"
    save_agent(DQNAgent(AgentConfig(network="per-song"), n_songs=SONGS, seed=0), path)
    return path


def _played(catalog: object, data_dir: Path,
            model: Path | None = None) -> list[tuple[str, tuple[str, ...], tuple[float, ...]]]:
    """What a seeded session shows over a few reactions: the song, Up next, the Q-table."""
    seen = []
    with open_session(catalog=catalog, data_dir=data_dir, seed=5, model=model) as session:
        view = session.start()
        for reaction in ("like", "skip", "dislike", "skip", "like"):
            seen.append((view.now_playing.track_id, tuple(e.track.track_id for e in view.queue),
                         tuple(round(r.q, 6) for r in view.q_rows)))
            view = session.react(reaction)
    return seen


def _cached(folder: Path) -> dict[str, Path]:
    return {p.name.split("-")[0]: p for p in (folder / "cache").glob("*.npz")}


@pytest.mark.parametrize("network", ["features", "per-song"])
def test_the_same_session_with_and_without_the_caches(catalog_dir: Path, tmp_path: Path, network: str,
                                                      per_song_model: Path) -> None:
    model = per_song_model if network == "per-song" else None
    without = _played(catalog_dir, tmp_path / "a", model)  # nothing cached yet: built and kept
    wanted = {"candidate", "warm"} if network == "per-song" else {"candidate"}
    assert set(_cached(catalog_dir)) == wanted  # beside the catalog, its folder writable
    assert set(_cached(tmp_path / "a")) == set()
    kept = {p.name: p.stat().st_mtime_ns for p in (catalog_dir / "cache").glob("*.npz")}
    with_cache = _played(catalog_dir, tmp_path / "b", model)
    assert with_cache == without
    assert {p.name: p.stat().st_mtime_ns for p in (catalog_dir / "cache").glob("*.npz")} == kept  # read, not rebuilt


def test_the_warm_start_is_kept_once_per_model_and_catalog(catalog_dir: Path, tmp_path: Path,
                                                            per_song_model: Path) -> None:
    _played(catalog_dir, tmp_path / "a", per_song_model)
    warm = [p for p in (catalog_dir / "cache").glob("warm-start-*.npz")]
    assert len(warm) == 1
    before = warm[0].stat().st_mtime_ns
    _played(catalog_dir, tmp_path / "b", per_song_model)  # another data folder, the same model: the same file
    assert [p.stat().st_mtime_ns for p in (catalog_dir / "cache").glob("warm-start-*.npz")] == [before]


@pytest.mark.parametrize("damage", ["garbage", "stale", "truncated"])
def test_a_damaged_or_stale_cache_is_rebuilt(catalog_dir: Path, tmp_path: Path, damage: str) -> None:
    expected = _played(catalog_dir, tmp_path / "a")
    for path in (catalog_dir / "cache").glob("*.npz"):
        if damage == "garbage":
            path.write_bytes(b"not a cache file")
        elif damage == "truncated":
            path.write_bytes(path.read_bytes()[:200])
        else:  # a sound file stamped for something else (another catalog, say)
            with np.load(path) as data:
                arrays = {k: data[k] for k in data.files if k != "key"}
            with open(path, "wb") as handle:
                np.savez(handle, key=np.array("another catalog"), **arrays)
    assert _played(catalog_dir, tmp_path / "b") == expected
    for path in (catalog_dir / "cache").glob("*.npz"):  # written again, soundly
        with np.load(path) as data:
            assert str(data["key"]) != "another catalog"


def test_an_in_memory_catalog_caches_under_the_data_folder(tmp_path: Path) -> None:
    catalog = builtin_catalog(SONGS, seed=4)
    first = _played(catalog, tmp_path / "data")
    assert set(_cached(tmp_path / "data")) == {"candidate"}
    assert _played(catalog, tmp_path / "data2") == first
