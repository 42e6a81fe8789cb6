"""The processed catalog format and the built-in generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tui_dj.catalog import FEATURES, builtin_catalog, load_catalog, save_catalog
from tui_dj.catalog.model import MANIFEST_FILE, TRACKS_FILE, Catalog, FeatureScaler
from tui_dj.catalog.synthetic import generate_frame, write_kaggle_csv
from tui_dj.errors import TuiDjError


def test_builtin_is_deterministic_and_seeded() -> None:
    a, b, c = builtin_catalog(400, 1), builtin_catalog(400, 1), builtin_catalog(400, 2)
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint
    assert a.features.dtype == np.float32
    assert a.features.min() >= 0.0 and a.features.max() <= 1.0


def test_generator_has_realistic_correlations() -> None:
    frame = generate_frame(5000, 0)
    corr = frame[list(FEATURES)].corr()
    assert corr.loc["energy", "loudness"] > 0.6
    assert corr.loc["energy", "acousticness"] < -0.4
    by_genre = frame.groupby("genres")[["speechiness", "instrumentalness", "energy"]].mean()
    assert by_genre.loc["rap", "speechiness"] > by_genre.loc["classical", "speechiness"]
    assert by_genre.loc["classical", "instrumentalness"] > by_genre.loc["pop", "instrumentalness"]
    assert by_genre.loc["metal", "energy"] > by_genre.loc["ambient", "energy"]
    assert frame["loudness"].max() <= 0.0
    assert frame["track_id"].str.len().eq(22).all()
    assert frame["track_id"].is_unique


def test_scaler_round_trip() -> None:
    catalog = builtin_catalog(300)
    raw = catalog.raw_features()
    np.testing.assert_allclose(catalog.scaler.transform(raw), catalog.features, atol=1e-5)
    again = FeatureScaler.from_dict(catalog.scaler.to_dict())
    assert again == catalog.scaler


def test_a_feature_every_song_shares_keeps_its_place_in_its_natural_range() -> None:
    # A small folder of instrumentals: min-max alone would scale instrumentalness 1.0 to 0.
    raw = np.array([[0.8, 0.5, 0.3, 1.0, 0.08, -15.0, 0.0, 100.0, 0.1],
                    [0.9, 0.7, 0.4, 1.0, 0.08, -16.0, 0.0, 180.0, 0.5]])
    scaler = FeatureScaler.fit(raw)
    scaled = scaler.transform(raw)
    at = {name: FEATURES.index(name) for name in ("instrumentalness", "liveness", "speechiness", "tempo")}
    assert np.allclose(scaled[:, at["instrumentalness"]], 1.0)
    assert np.allclose(scaled[:, at["liveness"]], 0.08)
    assert np.allclose(scaled[:, at["speechiness"]], 0.0)
    assert np.allclose(scaled[:, at["tempo"]], [0.0, 1.0])  # a feature that varies spans the catalog
    assert np.allclose(scaler.inverse(scaled), raw, atol=1e-4)


def test_track_shows_raw_values() -> None:
    catalog = builtin_catalog(300)
    track = catalog.track(5)
    assert set(track.features) == set(FEATURES)
    assert -60 <= track.features["loudness"] <= 0
    assert 40 <= track.features["tempo"] <= 250
    assert track.genres and track.genre == track.genres[0]


def test_save_and_load(tmp_path: Path) -> None:
    catalog = builtin_catalog(300)
    save_catalog(catalog, tmp_path / "cat")
    loaded = load_catalog(tmp_path / "cat")
    assert loaded.fingerprint == catalog.fingerprint
    np.testing.assert_array_equal(loaded.features, catalog.features)
    pd.testing.assert_frame_equal(loaded.tracks, catalog.tracks)
    assert loaded.scaler == catalog.scaler


def test_training_reads_only_the_columns_it_needs_and_the_same_songs(tmp_path: Path) -> None:
    # `tui-dj train` loads the artist and popularity alone (232,725 titles, albums and genres are
    # ~130 MB it never reads); the songs, their order and the fingerprint models are tied to stay.
    from tui_dj.learn.songs import SongTable
    from tui_dj.learn.train import TRAIN_COLUMNS, resolve_catalog

    cat = builtin_catalog(n=300, seed=5)
    save_catalog(cat, tmp_path / "c")
    whole, lean = load_catalog(tmp_path / "c"), resolve_catalog(tmp_path / "c", lean=True)
    assert list(lean.tracks.columns) == list(TRAIN_COLUMNS)
    assert lean.fingerprint == whole.fingerprint == cat.fingerprint and len(lean) == len(whole)
    a, b = SongTable.from_catalog(whole), SongTable.from_catalog(lean)
    assert np.array_equal(a.features, b.features) and np.array_equal(a.popularity, b.popularity)
    assert np.array_equal(a.artists, b.artists)
    # A catalog whose manifest lacks its fingerprint (an older one) still gets it from the track ids.
    manifest = json.loads((tmp_path / "c" / MANIFEST_FILE).read_text())
    del manifest["fingerprint"]
    (tmp_path / "c" / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert resolve_catalog(tmp_path / "c", lean=True).fingerprint == cat.fingerprint


def test_search_and_index() -> None:
    catalog = builtin_catalog(1000)
    track = catalog.track(17)
    hits = catalog.search(f"{track.name} {track.artist}")
    assert 17 in hits
    assert catalog.search("   ") == []
    assert catalog.index_of(track.track_id) == 17
    assert catalog.index_of("nope") is None


def test_search_ranks_title_and_artist_matches_before_album_only_ones() -> None:
    catalog = builtin_catalog(40, seed=3)
    tracks = catalog.tracks.copy()
    names = {0: ("Zorblax Lights", "Ava Moreau", "Blue", 10), 1: ("Quiet Song", "Leo Vale", "Zorblax Nights", 99),
             2: ("Other", "The Zorblax Band", "Red", 50), 3: ("Zorblax", "Ava Moreau", "Zorblax", 5)}
    for row, (name, artist, album, popularity) in names.items():
        tracks.loc[row, ["name", "artist", "album", "popularity"]] = [name, artist, album, popularity]
    catalog = Catalog(catalog.features, tracks, catalog.scaler, dict(catalog.manifest))
    # The album-only match is the most popular, and still comes last; popularity orders the rest.
    assert catalog.search("zorblax") == [2, 0, 3, 1]
    assert catalog.search("zorblax ava") == [0, 3]
    assert catalog.search("nights zorblax") == [1]  # found through its album alone: still found


@pytest.mark.parametrize("damage", ["no_manifest", "bad_json", "truncated_parquet", "not_a_dir"])
def test_damaged_catalog_is_one_sentence(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "cat"
    save_catalog(builtin_catalog(200), path)
    if damage == "no_manifest":
        (path / MANIFEST_FILE).unlink()
    elif damage == "bad_json":
        (path / MANIFEST_FILE).write_text("{oops")
    elif damage == "truncated_parquet":
        data = (path / TRACKS_FILE).read_bytes()
        (path / TRACKS_FILE).write_bytes(data[: len(data) // 2])
    else:
        path = tmp_path / "file.csv"
        path.write_text("a,b\n")
    with pytest.raises(TuiDjError) as err:
        load_catalog(path)
    assert "\n" not in str(err.value)


def test_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(TuiDjError, match="tui-dj prep"):
        load_catalog(tmp_path / "absent")


def test_kaggle_csv_writer(tmp_path: Path) -> None:
    path = write_kaggle_csv(tmp_path / "k.csv", 50, 3)
    frame = pd.read_csv(path)
    assert list(frame.columns)[:4] == ["genre", "artist_name", "track_name", "track_id"]
    assert len(frame) == 50
    assert set(frame["mode"]) <= {"Major", "Minor"}
