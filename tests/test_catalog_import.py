"""Importing song tables: every format, every quirk real files have, merging, and the manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tui_dj.catalog import load_catalog, save_catalog
from tui_dj.catalog.importer import (
    clean_ids,
    import_files,
    key_number,
    list_text,
    mode_number,
    time_signature_number,
)
from tui_dj.catalog.model import FEATURES, Catalog
from tui_dj.errors import TuiDjError


def _import(*paths: Path) -> Catalog:
    return import_files(list(paths))


def _raw(catalog: Catalog, track_id: str) -> dict[str, float]:
    index = catalog.index_of(track_id)
    assert index is not None, f"{track_id} not in the catalog"
    return catalog.track(index).features


ALL_FORMATS = ["kaggle", "tidytuesday", "exportify", "exportify_track_id", "exportify_spotify_id",
               "exportify_legacy", "maharshipandya", "tracks600k", "generic"]


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_format_imports_its_songs(csv_file, csv_songs, fmt: str) -> None:
    songs = csv_songs(12)
    catalog = _import(csv_file(fmt, songs))
    assert len(catalog) == 12
    assert list(catalog.tracks["track_id"]) == [s["id"] for s in songs]
    first = catalog.track(0)
    assert first.name == songs[0]["name"]
    assert first.features["tempo"] == pytest.approx(songs[0]["tempo"], rel=1e-5)
    assert first.features["loudness"] == pytest.approx(songs[0]["loudness"], rel=1e-5)
    assert catalog.features.dtype == np.float32
    assert catalog.features.min() >= 0 and catalog.features.max() <= 1
    assert catalog.manifest["sources"][0]["schema"] == fmt.removesuffix("_track_id").removesuffix("_spotify_id")


def test_several_artists_become_one_comma_joined_string(csv_file, csv_songs) -> None:
    songs = csv_songs(6)  # song 0 and 5 have a guest
    for fmt in ("maharshipandya", "tracks600k", "kaggle"):
        catalog = _import(csv_file(fmt, songs))
        assert catalog.track(0).artist == "Artist 0, Guest 0", fmt
        assert catalog.track(1).artist == "Artist 1", fmt


@pytest.mark.parametrize("fmt", ["tidytuesday", "exportify", "exportify_legacy", "generic", "maharshipandya"])
def test_artists_joined_by_semicolons_show_as_a_list(csv_file, csv_songs, csv_text, fmt: str) -> None:
    # TidyTuesday and Exportify files join several artists with ";" ("Khea;Omar Varela").
    songs = csv_songs(6)
    text = csv_text(fmt, songs).replace("Artist 2", "Matt Maeson;Lennon Stella").replace("Artist 3", "A ; B")
    catalog = _import(csv_file(fmt, text=text))
    artists = {catalog.track(i).artist for i in range(len(catalog))}
    assert "Matt Maeson, Lennon Stella" in artists and "A, B" in artists
    assert not any(";" in a for a in artists)


def test_the_real_files_keep_no_semicolon_between_artists(csv_real_data: Path) -> None:
    for name in ("exportify_liked_songs.csv", "spotify_songs_tidytuesday.csv"):
        artists = _import(csv_real_data / name).tracks["artist"]
        assert not artists.str.contains(";").any(), name
    liked = _import(csv_real_data / "exportify_liked_songs.csv").tracks["artist"]
    assert "Bad Bunny, Los Pleneros de la Cresta" in set(liked)


def test_python_list_artists_are_parsed_never_evaluated(csv_file, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        "id,name,popularity,duration_ms,explicit,artists,id_artists,release_date,danceability,energy,key,"
        "loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature\n"
        "35iwgR4jXetI318WEWsa1Q,Carve,6,126903,0,\"['Uli', \"\"Guns N' Roses\"\"]\",['x'],1922-02-22,0.645,0.445,0,"
        "-13.338,1,0.451,0.674,0.744,0.151,0.127,104.851,3\n"
        f"4BJqT0PrAfrxzMOxytFOIz,Bad,6,98200,0,\"[__import__('pathlib').Path('{marker}').touch()]\",['x'],1922,"
        "0.695,0.263,0,-22.136,1,0.957,0.797,0,0.148,0.655,102.009,1\n"
        "5BJqT0PrAfrxzMOxytFOIz,Odd,6,98200,0,\"['unclosed\",['x'],1922,0.695,0.263,0,-22.136,1,0.957,0.797,"
        "0,0.148,0.655,102.009,1\n"
    )
    catalog = _import(csv_file(text=text, name="tracks.csv"))
    assert catalog.track(0).artist == "Uli, Guns N' Roses"
    assert not marker.exists()
    assert catalog.track(2).artist == "['unclosed"  # not a list: kept as written
    assert list_text("['a', 'b']") == "a, b"
    assert list_text("[" * 300 + "]" * 300) == ""


def test_bom_crlf_and_bare_or_uri_ids(csv_file, csv_songs, csv_text) -> None:
    songs = csv_songs(5)
    text = csv_text("kaggle", songs).replace("\n", "\r\n")
    text = text.replace(songs[1]["id"], f"spotify:track:{songs[1]['id']}")
    text = text.replace(songs[2]["id"], f"https://open.spotify.com/track/{songs[2]['id']}?si=abc")
    catalog = _import(csv_file(text=text, bom=True))
    assert list(catalog.tracks["track_id"]) == [s["id"] for s in songs]
    assert catalog.manifest["sources"][0]["schema"] == "kaggle"
    assert catalog.track(4).name == songs[4]["name"]  # no stray \r


def test_key_mode_and_time_signature_spellings_are_decoded() -> None:
    assert [key_number(k) for k in ("C", "C#", "Db", "B", "A#", "7", "7.0", "-1", "H", "")] == [
        0, 1, 1, 11, 10, 7, 7, -1, -1, -1]
    assert [mode_number(m) for m in ("Major", "minor", "1", "0", "1.0", "?")] == [1, 0, 1, 0, 1, -1]
    # `x/4` read as a date: day x of April, or (month-first) day 4 of month x.
    assert [time_signature_number(t) for t in ("4", "4/4", "3/4", "4-Apr", "04-Apr", "3-Apr", "4-Mar",
                                               "4-May", "4-Jan", "0/4", "5-Jun", "x", "")] == [
        4, 4, 3, 4, 4, 3, 3, 5, 1, 0, -1, -1, -1]


def test_kaggle_quirks_are_kept_as_decoded_columns(csv_file, csv_songs, csv_text) -> None:
    songs = csv_songs(4)
    text = csv_text("kaggle", songs)
    text = text.replace(f"{songs[0]['time_signature']}/4", "4-Apr", 1)
    catalog = _import(csv_file(text=text))
    assert len(catalog) == 4
    assert int(catalog.tracks["time_signature"][0]) == 4
    assert list(catalog.tracks["key"]) == [s["key"] for s in songs]
    assert list(catalog.tracks["mode"]) == [s["mode"] for s in songs]


def test_scientific_notation_and_spaces_around_numbers(csv_file) -> None:
    text = (
        "track_id,track_name,artist_name,acousticness,danceability,energy,instrumentalness,liveness,"
        "loudness,speechiness,tempo,valence\n"
        "0BRjO6ga9RKCKjfDqeFgWV,A,B,8.19E-06,0.389,0.91,2.33e-5, 0.346 ,-1.828,0.0525,1.66969E2,0.814\n"
    )
    raw = _raw(_import(csv_file(text=text)), "0BRjO6ga9RKCKjfDqeFgWV")
    assert raw["acousticness"] == pytest.approx(8.19e-6, rel=1e-4)
    assert raw["instrumentalness"] == pytest.approx(2.33e-5, rel=1e-4)
    assert raw["liveness"] == pytest.approx(0.346, rel=1e-5)
    assert raw["tempo"] == pytest.approx(166.969, rel=1e-5)


@pytest.mark.parametrize("cut", ["mid_number", "mid_quoted_field"])
def test_a_cut_off_last_line_is_reported_not_fatal(csv_file, csv_songs, csv_text, cut: str) -> None:
    songs = csv_songs(6)
    fmt = "kaggle" if cut == "mid_number" else "exportify"
    text = csv_text(fmt, songs).rstrip("\n")
    last = text.rsplit("\n", 1)[1]
    cut_at = last.index(",", 60) + 3 if cut == "mid_number" else last.index('"') + 4
    path = csv_file(text=text[: len(text) - len(last) + cut_at])
    catalog = _import(path)
    assert len(catalog) == 5
    assert catalog.manifest["dropped"] == {"truncated last line": 1}
    assert catalog.manifest["rows_read"] == 6


def test_a_malformed_row_in_the_middle_is_not_called_truncated(csv_file, csv_songs, csv_text) -> None:
    lines = csv_text("kaggle", csv_songs(5)).splitlines()
    lines[2] = lines[2] + ",extra,fields"
    catalog = _import(csv_file(text="\n".join(lines) + "\n"))
    assert len(catalog) == 4
    assert catalog.manifest["dropped"] == {"malformed row (wrong number of fields)": 1}


def _with(songs: list[dict], index: int, **values: object) -> list[dict]:
    songs = [dict(s) for s in songs]
    songs[index].update(values)
    return songs


def test_all_zero_or_empty_features_are_dropped_as_no_audio_features(csv_file, csv_songs) -> None:
    songs = csv_songs(5)
    songs = _with(songs, 1, **{f: 0 for f in FEATURES})
    songs = _with(songs, 3, **{f: "" for f in FEATURES})
    catalog = _import(csv_file("exportify", songs))
    assert len(catalog) == 3
    assert catalog.manifest["dropped"] == {"no audio features": 2}
    assert catalog.index_of(songs[1]["id"]) is None


def test_missing_values_policy(csv_file, csv_songs) -> None:
    songs = csv_songs(7)
    songs = _with(songs, 0, tempo=0)
    songs = _with(songs, 1, tempo="")
    songs = _with(songs, 2, danceability="")  # one of the other features: cannot be made up
    songs = _with(songs, 3, energy="n/a")
    songs = _with(songs, 4, popularity="", duration_ms="")
    catalog = _import(csv_file("kaggle", songs))
    m = catalog.manifest
    assert len(catalog) == 5
    assert m["dropped"] == {"incomplete audio features": 2}
    median = float(np.median([s["tempo"] for s in songs[4:]]))
    assert m["tempo_median"] == pytest.approx(median)
    assert m["adjusted"]["tempo missing or 0, set to the catalog median"] == 2
    assert _raw(catalog, songs[0]["id"])["tempo"] == pytest.approx(median, rel=1e-5)
    assert _raw(catalog, songs[1]["id"])["tempo"] == pytest.approx(median, rel=1e-5)
    assert m["adjusted"]["popularity missing, set to 0"] == 1
    assert m["adjusted"]["duration missing or under a second, set to the catalog median"] == 1
    track = catalog.track(catalog.index_of(songs[4]["id"]))
    assert track.popularity == 0 and track.duration_ms > 0


def test_loudness_above_zero_is_clipped_and_out_of_range_values_too(csv_file, csv_songs) -> None:
    songs = _with(csv_songs(4), 0, loudness=1.8)
    songs = _with(songs, 1, valence=1.7, tempo=1e9)
    catalog = _import(csv_file("tidytuesday", songs))
    assert _raw(catalog, songs[0]["id"])["loudness"] == 0
    assert _raw(catalog, songs[1]["id"])["valence"] == pytest.approx(1.0)
    assert _raw(catalog, songs[1]["id"])["tempo"] == pytest.approx(300.0)
    assert catalog.manifest["adjusted"]["loudness above 0 dB, set to 0"] == 1
    assert catalog.manifest["adjusted"]["feature values outside their range, clipped"] == 1


def test_empty_names_and_na_are_filled_not_dropped(csv_file, csv_songs) -> None:
    songs = _with(csv_songs(3), 0, name="", artists=[""])
    songs = _with(songs, 1, name="NA", artists=["NA"], album="NA")
    catalog = _import(csv_file("tidytuesday", songs))
    assert len(catalog) == 3
    assert catalog.track(0).name == "Unknown title" and catalog.track(0).artist == "Unknown artist"
    assert catalog.track(1).album == ""
    assert catalog.manifest["adjusted"]["title missing, shown as 'Unknown title'"] == 2


def test_rows_without_a_track_id_are_dropped(csv_file, csv_songs) -> None:
    songs = _with(csv_songs(3), 1, id="")
    catalog = _import(csv_file("kaggle", songs))
    assert len(catalog) == 2 and catalog.manifest["dropped"] == {"no track id": 1}


def test_duplicates_become_one_song_with_all_genres(csv_file, csv_songs) -> None:
    songs = csv_songs(4)
    again = [dict(songs[0], genre="rock"), dict(songs[0], genre="jazz"), dict(songs[2], genre="rap"),
             dict(songs[0], genre="rock")]
    catalog = _import(csv_file("tidytuesday", songs + again))
    assert len(catalog) == 4
    assert catalog.track(0).genres == ("pop", "rock", "jazz")
    assert catalog.track(2).genres == ("rap",)
    assert catalog.manifest["duplicates_merged"] == 4
    assert catalog.manifest["unique_tracks"] == 4


def test_a_duplicate_with_features_wins_over_one_without(csv_file, csv_songs) -> None:
    songs = csv_songs(2)
    empty = dict(songs[0], **{f: "" for f in FEATURES}, genre="jazz")
    catalog = _import(csv_file("kaggle", [empty, *songs]))
    assert len(catalog) == 2 and not catalog.manifest["dropped"]
    assert _raw(catalog, songs[0]["id"])["energy"] == pytest.approx(songs[0]["energy"], rel=1e-5)
    assert set(catalog.track(catalog.index_of(songs[0]["id"])).genres) == {"jazz", "pop"}


def test_several_files_of_different_formats_merge(csv_file, csv_songs) -> None:
    songs = csv_songs(8)
    kaggle = csv_file("kaggle", songs[:5])
    exportify = csv_file("exportify", songs[3:])
    catalog = _import(kaggle, exportify)
    assert len(catalog) == 8
    assert catalog.manifest["schema"] == "mixed"
    assert [s["schema"] for s in catalog.manifest["sources"]] == ["kaggle", "exportify"]
    assert catalog.manifest["duplicates_merged"] == 2
    genres = catalog.track(catalog.index_of(songs[3]["id"])).genres
    assert genres[0] == songs[3]["genre"] and f"indie {songs[3]['genre']}" in genres


def test_manifest_accounts_for_every_row(csv_file, csv_songs) -> None:
    songs = csv_songs(10)
    songs = _with(songs, 2, **{f: 0 for f in FEATURES})
    path = csv_file("kaggle", songs + [songs[0]])
    catalog = _import(path)
    m = catalog.manifest
    source = m["sources"][0]
    assert source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert source["bytes"] == path.stat().st_size
    assert source["schema_found"] == "Kaggle Ultimate Spotify Tracks DB"
    assert source["path"] == str(path.resolve())
    assert m["rows_read"] == 11 == m["rows_kept"] + m["duplicates_merged"] + sum(m["dropped"].values())
    assert (m["rows_kept"], m["duplicates_merged"], m["dropped"]) == (9, 1, {"no audio features": 1})
    assert m["name"] == "kaggle.csv"
    assert m["scaler"]["kind"] == "minmax" and len(m["fingerprint"]) == 16


def test_saved_and_loaded_catalog_round_trips(csv_file, csv_songs, tmp_path: Path) -> None:
    catalog = _import(csv_file("maharshipandya", csv_songs(9)))
    save_catalog(catalog, tmp_path / "out")
    loaded = load_catalog(tmp_path / "out")
    assert loaded.fingerprint == catalog.fingerprint
    assert loaded.manifest["sources"][0]["schema"] == "maharshipandya"
    np.testing.assert_allclose(loaded.raw_features(), catalog.raw_features(), rtol=1e-6)


def test_semicolon_delimited_with_decimal_commas(csv_file, csv_songs, csv_text) -> None:
    songs = csv_songs(3)
    text = csv_text("generic", songs)
    rows = [line.split(",") for line in text.splitlines()]
    body = "\n".join(";".join(cell.replace(".", ",") if i > 2 else cell for i, cell in enumerate(r)) for r in rows)
    catalog = _import(csv_file(text=body + "\n"))
    assert len(catalog) == 3
    assert _raw(catalog, songs[0]["id"])["tempo"] == pytest.approx(songs[0]["tempo"], rel=1e-5)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "latin-1"])
def test_non_utf8_files_are_read(csv_file, csv_songs, encoding: str) -> None:
    songs = _with(csv_songs(3), 1, name="Café “Noir”" if encoding != "latin-1" else "Café Noir", artists=["Beyoncé"])
    catalog = _import(csv_file("kaggle", songs, encoding=encoding))
    assert catalog.track(1).name == songs[1]["name"]
    assert catalog.track(1).artist == "Beyoncé"


def test_non_utf8_byte_after_the_first_megabyte(csv_file, csv_songs, csv_text) -> None:
    songs = csv_songs(9000)
    data = csv_text("kaggle", songs).encode("utf-8")
    assert len(data) > 1 << 20  # beyond what the sniffer reads
    data = data.replace(b"Song 8999,", "Song 8999 Caf\u00e9,".encode("cp1252"))
    path = csv_file(text="")
    path.write_bytes(data)
    catalog = _import(path)
    assert len(catalog) == 9000
    assert catalog.track(8999).name == "Song 8999 Caf\u00e9"
    assert catalog.manifest["sources"][0]["encoding"] == "cp1252"


def test_clean_ids() -> None:
    import pyarrow as pa

    ids = pa.chunked_array([["spotify:track:1o3amYz7RPk7OpVLbarVcQ", " 0rHMGnd6wIgaF67ANAVdyC ",
                             "https://open.spotify.com/intl-de/track/5bD5w7OpE6HzIsDYT2GSgD?si=x", "local-1"]])
    assert clean_ids(ids).to_pylist() == ["1o3amYz7RPk7OpVLbarVcQ", "0rHMGnd6wIgaF67ANAVdyC",
                                          "5bD5w7OpE6HzIsDYT2GSgD", "local-1"]


def test_every_row_unusable_is_one_sentence(csv_file, csv_songs) -> None:
    songs = [dict(s, **{f: 0 for f in FEATURES}) for s in csv_songs(4)]
    with pytest.raises(TuiDjError) as err:
        _import(csv_file("exportify", songs))
    message = str(err.value)
    assert message.startswith("None of the 4 rows in exportify.csv could be used (4 no audio features")
    assert "exportify.net" in message and "\n" not in message


def test_a_row_longer_than_a_block_is_read(csv_file, csv_songs, csv_text) -> None:
    songs = _with(csv_songs(3), 1, name="x" * (3 << 20))
    catalog = _import(csv_file("kaggle", songs))
    assert len(catalog.track(1).name) == 3 << 20


# --- the real files beside the project (skipped where they are absent) -----------------------


def test_real_tidytuesday(csv_real_data: Path) -> None:
    catalog = _import(csv_real_data / "spotify_songs_tidytuesday.csv")
    m = catalog.manifest
    assert m["rows_read"] == 32_833
    assert m["unique_tracks"] == 28_356
    assert m["sources"][0]["schema"] == "tidytuesday"
    assert len(catalog) == 28_356 - m["dropped"].get("no audio features", 0) - m["dropped"].get(
        "incomplete audio features", 0)
    assert len({g for t in catalog.tracks["genres"] for g in t.split(", ")}) == 6


def test_real_kaggle_subset_reports_its_cut_off_last_row(csv_real_data: Path) -> None:
    catalog = _import(csv_real_data / "SpotifyFeatures_first20k.csv")
    m = catalog.manifest
    assert m["sources"][0]["schema"] == "kaggle"
    assert m["rows_read"] == 19_829
    assert m["dropped"] == {"truncated last line": 1}
    assert len(catalog) == 19_829 - 1 - m["duplicates_merged"]
    assert set(catalog.tracks["time_signature"].unique()) <= {0, 1, 3, 4, 5}


def test_real_exportify(csv_real_data: Path) -> None:
    catalog = _import(csv_real_data / "exportify_liked_songs.csv")
    m = catalog.manifest
    assert m["sources"][0]["schema"] == "exportify"
    assert m["rows_read"] == 2_701
    assert m["dropped"] == {"no audio features": 1}
    assert all(len(t) == 22 for t in catalog.tracks["track_id"])


def test_real_files_merge(csv_real_data: Path) -> None:
    files = sorted(csv_real_data.glob("*.csv"))
    catalog = _import(*files)
    m = catalog.manifest
    assert m["rows_read"] == 19_829 + 2_701 + 32_833
    assert m["rows_read"] == m["rows_kept"] + m["duplicates_merged"] + sum(m["dropped"].values())


def test_one_junk_number_switches_to_lenient_parsing_without_changing_the_rest(csv_file, csv_songs) -> None:
    songs = csv_songs(6)
    clean = _import(csv_file("kaggle", songs, name="clean.csv"))
    junk = _import(csv_file("kaggle", _with(songs, 3, energy="0.5x"), name="junk.csv"))
    assert junk.manifest["dropped"] == {"incomplete audio features": 1}
    keep = [i for i in range(6) if i != 3]
    np.testing.assert_allclose(junk.raw_features(), clean.raw_features()[keep], rtol=1e-6)


def test_genres_are_lower_cased_and_apostrophes_unified(csv_file, csv_songs) -> None:
    songs = csv_songs(3)
    songs = _with(songs, 0, genre="Children’s Music")
    songs = _with(songs, 1, genre="Children's Music")
    catalog = _import(csv_file("maharshipandya", songs + [dict(songs[0], genre="R&B")]))
    assert catalog.track(0).genres == ("children's music", "r&b")
    assert catalog.track(1).genres == ("children's music",)


def test_sub_second_durations_count_as_missing(tmp_path: Path) -> None:
    # Found by the fuzz test: 0.4 ms rounded to a zero-length song.
    import pandas as pd

    from tui_dj.catalog.importer import import_files
    from tui_dj.catalog.synthetic import write_kaggle_csv

    path = write_kaggle_csv(tmp_path / "k.csv", 20, 1)
    frame = pd.read_csv(path)
    frame["duration_ms"] = frame["duration_ms"].astype(float)
    frame.loc[:2, "duration_ms"] = [0.4, 0.0, 999.0]
    frame.to_csv(path, index=False)
    catalog = import_files([path])
    assert (catalog.tracks["duration_ms"] >= 1000).all()
    assert catalog.manifest["adjusted"]["duration missing or under a second, set to the catalog median"] == 3
