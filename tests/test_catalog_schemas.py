"""Recognising a song table's format by its header, whatever the column order, case or spelling."""

from __future__ import annotations

import random

import pytest

from tui_dj.catalog.schemas import REQUIRED, detect_schema, normalise_name
from tui_dj.errors import TuiDjError

EXPECTED = {
    "kaggle": ("kaggle", "Kaggle Ultimate Spotify Tracks DB"),
    "tidytuesday": ("tidytuesday", "TidyTuesday spotify_songs"),
    "exportify": ("exportify", "Exportify"),
    "exportify_track_id": ("exportify", "Exportify (older header with Track ID)"),
    "exportify_spotify_id": ("exportify", "Exportify (older header with Spotify ID)"),
    "exportify_legacy": ("exportify_legacy", "Exportify (legacy exporter)"),
    "maharshipandya": ("maharshipandya", "maharshipandya spotify-tracks-dataset"),
    "tracks600k": ("tracks600k", "600k tracks.csv"),
    "generic": ("generic", "generic Spotify-format CSV"),
}


def _header(csv_text, csv_songs, fmt: str, shuffle_seed: int | None = None) -> list[str]:
    return csv_text(fmt, csv_songs(2), shuffle_seed).splitlines()[0].split(",")


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
@pytest.mark.parametrize("shuffle_seed", [None, 1, 2])
def test_every_format_is_recognised_in_any_column_order(csv_text, csv_songs, fmt: str, shuffle_seed: int | None) -> None:
    header = _header(csv_text, csv_songs, fmt, shuffle_seed)
    found = detect_schema(header, "x.csv")
    assert (found.schema.key, found.description) == EXPECTED[fmt]
    assert set(REQUIRED) <= set(found.positions)
    assert sorted(found.positions.values()) == sorted(set(found.positions.values()))


def test_case_underscores_spaces_and_bom_do_not_matter() -> None:
    header = ["\ufeffGENRE", " Artist Name ", "TRACK-NAME", "track_id", "Popularity", "Acousticness",
              "DANCEABILITY", "duration_ms", "energy", "instrumentalness", "key", "liveness", "loudness",
              "mode", "speechiness", "tempo", "time_signature", "valence"]
    assert detect_schema(header, "x.csv").schema.key == "kaggle"
    assert normalise_name('"Track_ID"') == "track id"


def test_fields_point_at_the_right_columns(csv_text, csv_songs) -> None:
    header = _header(csv_text, csv_songs, "tidytuesday", shuffle_seed=3)
    found = detect_schema(header, "x.csv")
    assert header[found.positions["artist"]] == "track_artist"
    assert header[found.positions["genres"]] == "playlist_genre"
    assert header[found.positions["album"]] == "track_album_name"
    assert header[found.positions["popularity"]] == "track_popularity"


def test_legacy_exportify_without_features_says_how_to_re_export(csv_text, csv_songs) -> None:
    header = _header(csv_text, csv_songs, "exportify_legacy_no_features")
    with pytest.raises(TuiDjError) as err:
        detect_schema(header, "liked.csv")
    message = str(err.value)
    assert "liked.csv is an Exportify export without audio features" in message
    assert "re-export" in message and "exportify.net" in message
    assert "\n" not in message


def test_no_required_columns_names_missing_found_and_nearest() -> None:
    with pytest.raises(TuiDjError) as err:
        detect_schema(["date", "amount", "payee"], "bank.csv")
    message = str(err.value)
    assert "track_id" in message and "danceability" in message  # missing columns named
    assert "found: date, amount, payee" in message
    assert "nearest known format is" in message
    assert "\n" not in message


def test_nearest_format_is_the_one_with_most_columns_in_common() -> None:
    header = ["track_id", "track_name", "track_artist", "track_popularity", "playlist_name"]
    with pytest.raises(TuiDjError, match="nearest known format is TidyTuesday spotify_songs"):
        detect_schema(header, "partial.csv")


def test_a_known_format_missing_one_feature_says_which() -> None:
    header = ("genre,artist_name,track_name,track_id,popularity,acousticness,danceability,duration_ms,"
              "energy,instrumentalness,key,liveness,loudness,mode,speechiness,time_signature,valence").split(",")
    with pytest.raises(TuiDjError, match=r"looks like a Kaggle Ultimate Spotify Tracks DB file but lacks the column\(s\) tempo"):
        detect_schema(header, "k.csv")


def test_messages_stay_one_short_line_for_hostile_headers() -> None:
    rng = random.Random(0)
    header = ["a\nb", "\x00\x1b[31mred", "x" * 5000] + [f"c{i}" for i in range(200)]
    rng.shuffle(header)
    with pytest.raises(TuiDjError) as err:
        detect_schema(header, "weird.csv")
    message = str(err.value)
    assert "\n" not in message and "\x1b" not in message and "\x00" not in message
    assert len(message) < 1200
    assert "and 191 more" in message


def test_generic_accepts_usual_alternative_names() -> None:
    header = ["uri", "song name", "artists", "Acousticness", "Danceability", "Energy", "Instrumentalness",
              "Liveness", "Loudness", "Speechiness", "Tempo", "Valence", "Genre", "Album"]
    found = detect_schema(header, "mine.csv")
    assert found.schema.key == "generic"
    assert {"album", "genres"} <= set(found.positions)
