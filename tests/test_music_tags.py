"""Tags from generated files (ID3, FLAC, MP4, Ogg; with cover art), names from paths when there are
none, and tags in odd encodings coming out as readable text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import audio_gen as gen
from tui_dj.catalog.music.scan import scan
from tui_dj.catalog.music.tags import (
    UNKNOWN_ARTIST,
    genres_text,
    read_tags,
    repair_text,
    strip_track_number,
    tags_from_path,
)

pytest.importorskip("tinytag", reason="tinytag is not installed")
gen.need_av()


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".m4a", ".ogg", ".opus"])
def test_tags_with_cover_art(tmp_path: Path, suffix: str) -> None:
    path = gen.write_audio(tmp_path / f"song{suffix}", gen.tone(2.0))
    gen.tag_file(path, title="Jóga", artist="Björk", album="Homogenic", genre="Electronic",
                 isrc="GBAAA9700123")
    tags = read_tags(path, tmp_path)
    assert (tags.title, tags.artist, tags.album) == ("Jóga", "Björk", "Homogenic")
    assert tags.genre == "Electronic"
    assert tags.isrc == "GBAAA9700123"
    assert tags.duration_s == pytest.approx(2.0, abs=0.1)


def test_untagged_file_named_from_its_path(tmp_path: Path) -> None:
    root = tmp_path / "Music"
    path = gen.write_audio(root / "Portishead" / "Dummy" / "03 - Sour Times.wav", gen.tone(1.0))
    tags = read_tags(path, root)
    assert (tags.artist, tags.album, tags.title) == ("Portishead", "Dummy", "Sour Times")


def test_artist_dash_title_file_name(tmp_path: Path) -> None:
    path = gen.write_audio(tmp_path / "Björk – Jóga.flac", gen.tone(1.0))
    tags = read_tags(path, tmp_path)
    assert (tags.artist, tags.title, tags.album) == ("Björk", "Jóga", "")


def test_nothing_known_gives_unknown_artist(tmp_path: Path) -> None:
    path = gen.write_audio(tmp_path / "track.wav", gen.tone(1.0))
    tags = read_tags(path, tmp_path)
    assert (tags.title, tags.artist) == ("track", UNKNOWN_ARTIST)


@pytest.mark.parametrize(("stem", "title"), [
    ("01 Title", "Title"), ("01 - Title", "Title"), ("1. Title", "Title"), ("07_Title", "Title"),
    ("A1 Title", "Title"), ("1979", "1979"), ("99 Luftballons", "Luftballons"), ("Title", "Title"),
])
def test_track_numbers_stripped(stem: str, title: str) -> None:
    # "99 Luftballons" loses its number: the price of reading "NN Title" names (tags win anyway).
    assert strip_track_number(stem) == title


def test_id3v1_latin1_and_id3v2_utf16(tmp_path: Path) -> None:
    v1 = gen.write_audio(tmp_path / "v1.mp3", gen.tone(1.0))
    gen.append_id3v1(v1, title="Jóga".encode("latin-1"), artist="Björk".encode("latin-1"),
                     album="Homogénic".encode("latin-1"))
    tags = read_tags(v1, tmp_path)
    assert (tags.title, tags.artist) == ("Jóga", "Björk")
    v2 = gen.write_audio(tmp_path / "v2.mp3", gen.tone(1.0))
    gen.tag_file(v2, title="Ærø — 東京", artist="Sigur Rós", album="( )", utf16=True)
    tags = read_tags(v2, tmp_path)
    assert (tags.title, tags.artist) == ("Ærø — 東京", "Sigur Rós")


def test_broken_tags_never_crash(tmp_path: Path) -> None:
    path = gen.write_audio(tmp_path / "x.mp3", gen.tone(1.0))
    # An ID3v2 header that promises far more than the file holds, then junk.
    path.write_bytes(b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\xff\xfe\x00garbage" * 10 + path.read_bytes())
    tags = read_tags(path, tmp_path)
    assert tags.title == "x"


def test_repair_text() -> None:
    assert repair_text("BjÃ¶rk") == "Björk"  # UTF-8 read as latin-1
    assert repair_text("Björk") == "Björk"
    assert repair_text(b"Bj\xf6rk") == "Björk"
    assert repair_text("Bad\x00 tag\x01\ufeff") == "Bad tag"
    assert repair_text(None) == ""


def test_genres_text() -> None:
    assert genres_text("Rock/Pop; Indie Rock") == "rock, pop, indie rock"
    assert genres_text("") == ""


def test_tags_from_path_without_root() -> None:
    tags = tags_from_path(Path("/m/Air/Moon Safari/01 La femme d'argent.mp3"))
    assert (tags.artist, tags.album, tags.title) == ("Air", "Moon Safari", "La femme d'argent")


def test_scan_finds_audio_sorted_and_survives_a_symlink_loop(tmp_path: Path) -> None:
    for name in ("b/2.flac", "a/1.MP3", "a/cover.jpg", "a/._1.mp3", "c/3.opus", "c/4.m4a", "5.wav"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "c" / "loop").symlink_to(tmp_path, target_is_directory=True)
    found = [f.path.relative_to(tmp_path).as_posix() for f in scan([tmp_path, tmp_path / "a"])]
    assert found == ["5.wav", "a/1.MP3", "b/2.flac", "c/3.opus", "c/4.m4a"]
