"""Borrowing Spotify's features: ISRC matches, title/artist variants, durations that disagree, the rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tui_dj.catalog.model import FEATURES, Catalog
from tui_dj.catalog.music.match import (
    FeatureSource,
    match_tracks,
    normalise_artist,
    normalise_title,
    read_isrcs,
    spotify_id,
)
from tui_dj.catalog.music.tags import Tags


def _catalog(rows: list[tuple[str, str, str, int]]) -> Catalog:
    """(track_id, name, artist, duration_ms) rows with distinct features."""
    tracks = pd.DataFrame({
        "track_id": [r[0] for r in rows], "name": [r[1] for r in rows], "artist": [r[2] for r in rows],
        "album": "", "genres": "pop", "popularity": [50 + i for i in range(len(rows))],
        "duration_ms": [r[3] for r in rows],
    })
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, (len(rows), len(FEATURES))).astype(np.float32)
    raw[:, FEATURES.index("loudness")] = -rng.uniform(3, 20, len(rows))
    raw[:, FEATURES.index("tempo")] = rng.uniform(70, 180, len(rows))
    return Catalog.from_raw(tracks, raw)


CATALOG_ROWS = [
    ("id0000000000000000000A", "Here Comes the Sun - Remastered 2009", "The Beatles", 185_000),
    ("id0000000000000000000B", "Jóga", "Björk", 305_000),
    ("id0000000000000000000C", "Get Lucky (feat. Pharrell Williams)", "Daft Punk, Pharrell Williams", 369_000),
    ("id0000000000000000000D", "Smells Like Teen Spirit", "Nirvana", 301_000),
    ("id0000000000000000000E", "Hey Ya! - Radio Edit", "OutKast", 235_000),
    ("id0000000000000000000G", "The Boxer", "Simon & Garfunkel", 308_000),
]


@pytest.mark.parametrize(("title", "artist", "seconds", "row"), [
    ("Here Comes The Sun", "Beatles", 186.0, 0),
    ("JOGA", "bjork", 304.0, 1),
    ("Get Lucky ft. Pharrell Williams", "Daft Punk feat. Pharrell Williams", 367.5, 2),
    ("Get Lucky [Radio Edit]", "Daft Punk", 369.0, 2),
    ("Smells Like Teen Spirit (Live)", "Nirvana", 302.0, 3),
    ("hey ya", "Outkast & André 3000", 233.0, 4),
    ("The Boxer", "Simon and Garfunkel", 308.0, 5),
    ("The Boxer", "Simon & Garfunkel", 308.0, 5),
    ("Smells Like Teen Spirit", "Nirvana", 309.0, None),  # 8 s longer: another recording
    ("Smells Like Teen Spirit", "Nirvana", None, None),  # unknown duration: not by name
    ("Come As You Are", "Nirvana", 219.0, None),
])
def test_match_by_name(title: str, artist: str, seconds: float | None, row: int | None) -> None:
    source = FeatureSource.from_catalog(_catalog(CATALOG_ROWS))
    result = match_tracks([Tags(title=title, artist=artist, duration_s=seconds)], source)
    assert result.rows == (row,)
    assert result.how == (("name",) if row is not None else ("",))


def test_match_by_isrc_ignores_names_and_duration() -> None:
    catalog = _catalog(CATALOG_ROWS)
    source = FeatureSource.from_catalog(catalog, isrcs={"id0000000000000000000D": "USGF19942501"})
    files = [Tags(title="Track 1", artist="Unknown artist", duration_s=12.0, isrc="USGF19942501")]
    assert match_tracks(files, source).rows == (3,)
    assert match_tracks(files, source).how == ("isrc",)


def test_match_rate_and_borrowed_rows_through_import(tmp_path: Path) -> None:
    pytest.importorskip("av", reason="PyAV (the audio extra) is not installed")
    pytest.importorskip("mutagen", reason="mutagen is not installed")
    from tests import audio_gen as gen
    from tui_dj.catalog.music import import_music

    catalog = _catalog([("id0000000000000000000F", "Song One - 2011 Remaster", "Alpha", 6_000)])
    root = tmp_path / "Music"
    gen.tag_file(gen.write_audio(root / "one.flac", gen.song(100, 6)), title="Song One", artist="Alpha")
    gen.tag_file(gen.write_audio(root / "two.flac", gen.song(120, 6)), title="Song Two", artist="Alpha")
    result = import_music([root], cache_dir=tmp_path / "cache", features_from=catalog, workers=0)
    assert result.summary["borrowed"] == 1 and result.summary["match_rate"] == 0.5
    assert result.summary["analysed"] == 1  # the borrowed song is not decoded at all
    one = result.tracks["name"].tolist().index("Song One")
    assert set(result.provenance[one]) == {"b"}
    np.testing.assert_allclose(result.raw[one], catalog.raw_features(0), rtol=1e-5)
    assert result.tracks["popularity"].iloc[one] == 50
    two = 1 - one
    assert "b" not in set(result.provenance[two]) and result.tracks["popularity"].iloc[two] == 0


def test_isrcs_from_an_exportify_legacy_csv(tmp_path: Path) -> None:
    csv = tmp_path / "liked.csv"
    csv.write_text("Track URI,Track Name,ISRC\n"
                   "spotify:track:4uLU6hMCjMI75M1A2tKUQC,Never Gonna,gb-aaa-87-00001\n"
                   "spotify:track:0000000000000000000000,No code,\n", encoding="utf-8")
    assert read_isrcs([csv]) == {"4uLU6hMCjMI75M1A2tKUQC": "GBAAA8700001"}


def test_normalisers() -> None:
    assert normalise_title("Yesterday - Remastered 2009") == "yesterday"
    assert normalise_title("Song (feat. Someone) [Live at Wembley]") == "song"
    assert normalise_title("Déjà  Vu!") == "deja vu"
    assert normalise_title("Live") == "live"  # a title that is only a version word stays
    assert normalise_title("Song (Remix)") != normalise_title("Song")  # a remix is another song
    assert normalise_artist("The Beatles") == normalise_artist("beatles")
    assert normalise_artist("Daft Punk; Pharrell") == "daft punk"
    assert spotify_id("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=x") == "4uLU6hMCjMI75M1A2tKUQC"
