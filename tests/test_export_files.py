"""`tui-dj export` of a profile that liked songs of a music folder: the M3U names their files, the
CSV gives each file's URI (and `tui-dj prep` reads that back as the same songs, files and all), and
without a catalog that knows the files it says so in one sentence."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tui_dj.catalog import Catalog, builtin_catalog, load_catalog, save_catalog
from tui_dj.catalog.files import local_track_id
from tui_dj.store import HistoryStore


@pytest.fixture
def liked(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A catalog of two music-folder songs (one with a space and a '#' in its name) and a Spotify
    song, and a history in which profile ana liked all three. Returns (data, catalog, files)."""
    music = tmp_path / "My Music"
    files = [str(music / "01 First #1.flac"), str(music / "02 Second.mp3")]
    base = builtin_catalog(50)
    tracks = base.tracks.iloc[:3].copy()
    tracks["path"] = [*files, None]
    tracks.loc[:1, "track_id"] = [local_track_id(f) for f in files]
    catalog = Catalog.from_raw(tracks.reset_index(drop=True), base.raw_features()[:3], {"name": "music"})
    folder = tmp_path / "catalog"
    save_catalog(catalog, folder)
    data = tmp_path / "data"
    with HistoryStore.open(data) as store:
        session = store.start_session("ana", catalog.name, "default")
        for i in range(3):
            store.add_event(profile="ana", session=session, kind="like", track=catalog.track(i), reward=1.0)
        store.end_session(session)
    return data, folder, files


def test_m3u_names_the_files(liked: tuple[Path, Path, list[str]]) -> None:
    data, folder, files = liked
    code, out, err = run_cli("export", "-p", "ana", "-f", "m3u", "--catalog", folder, "--data-dir", data)
    assert code == 0, err
    entries = [line for line in out.splitlines() if not line.startswith("#")]
    assert entries[:2] == files
    assert entries[2].startswith("spotify:track:") and "local" not in out


def test_csv_gives_file_uris_that_prep_reads_back(liked: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    data, folder, files = liked
    target = tmp_path / "liked.csv"
    code, _, err = run_cli("export", "-p", "ana", "--catalog", folder, "--out", target, "--data-dir", data)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["Track URI"] for r in rows[:2]] == [Path(f).as_uri() for f in files]
    assert "spotify:track:local" not in target.read_text()

    code, _, err = run_cli("prep", target, "--out", tmp_path / "again", "--data-dir", data)
    assert code == 0, err
    again = load_catalog(tmp_path / "again")
    kept = load_catalog(folder)
    # The same songs as the music folder's: the same ids, and the files to play.
    assert set(again.tracks["track_id"]) == set(kept.tracks["track_id"])
    by_id = dict(zip(again.tracks["track_id"], again.tracks["path"], strict=True))
    assert [by_id[local_track_id(f)] for f in files] == files


def test_without_the_catalog_of_the_files_it_says_so(liked: tuple[Path, Path, list[str]], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    data, _, _ = liked
    monkeypatch.chdir(tmp_path)  # no data/processed here: the built-in catalog, which has no files
    code, out, err = run_cli("export", "-p", "ana", "-f", "m3u", "--data-dir", data)
    assert code == 1 and out == ""
    assert "2 of the liked songs are files of a music folder" in err and "--catalog" in err
    assert err.count("\n") == 1
