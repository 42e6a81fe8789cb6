"""Cover art in Now playing: the picture embedded in a file, else cover.jpg / folder.jpg beside it;
shown from 90x30 up, never for a song without a file. Audio and pictures are generated here (a WAV
written with the standard library, a picture drawn with Pillow and embedded with mutagen)."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from textual.pilot import Pilot

from tests.audio_gen import need_mutagen
from tui_dj.catalog import Catalog, builtin_catalog
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.cover import Cover, find_cover, load_cover
from tui_dj.tui.widgets import NowPlaying

SKY, SUN = (40, 70, 190), (250, 200, 40)


def picture(size: int = 96) -> Image.Image:
    """A generated cover: a sun on a blue sky over a green hill."""
    image = Image.new("RGB", (size, size), SKY)
    draw = ImageDraw.Draw(image)
    draw.ellipse((size // 4, size // 6, 3 * size // 4, 2 * size // 3), fill=SUN)
    draw.rectangle((0, 3 * size // 4, size, size), fill=(40, 160, 80))
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def wav(path: Path, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.zeros(int(8000 * seconds), np.int16).tobytes())
    return path


def embed(path: Path, data: bytes) -> Path:
    """Put `data` (a PNG) into the WAV's ID3 chunk as its front cover, as taggers do."""
    need_mutagen()
    from mutagen.id3 import APIC, Encoding
    from mutagen.wave import WAVE

    audio = WAVE(str(path))
    audio.add_tags()
    audio.tags.add(APIC(encoding=Encoding.UTF8, mime="image/png", type=3, desc="cover", data=data))
    audio.save()
    return path


def test_the_embedded_picture_comes_first(tmp_path: Path) -> None:
    song = embed(wav(tmp_path / "a" / "song.wav"), png(picture()))
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "a" / "cover.jpg")  # beside: not used
    found = find_cover(song)
    assert isinstance(found, bytes)
    cover = load_cover(song)
    assert cover is not None and cover.mode == "RGB" and cover.size == (96, 96)
    assert cover.getpixel((2, 2)) == SKY and cover.getpixel((48, 40)) == SUN


def test_a_picture_beside_the_file_is_found_whatever_its_case(tmp_path: Path) -> None:
    song = wav(tmp_path / "b" / "song.wav")
    assert find_cover(song) is None
    picture().save(tmp_path / "b" / "Folder.JPG")
    assert find_cover(song) == tmp_path / "b" / "Folder.JPG"
    picture().save(tmp_path / "b" / "cover.png")  # cover comes before folder
    assert find_cover(song) == tmp_path / "b" / "cover.png"
    big = Image.new("RGB", (2000, 1000), SKY)
    big.save(tmp_path / "b" / "cover.png")
    loaded = load_cover(song)
    assert loaded is not None and max(loaded.size) == 512  # shrunk once, on loading


def test_no_file_or_a_broken_picture_is_no_cover(tmp_path: Path) -> None:
    assert find_cover(None) is None and load_cover(None) is None
    assert load_cover(tmp_path / "missing.wav") is None
    song = wav(tmp_path / "c" / "song.wav")
    (tmp_path / "c" / "cover.jpg").write_bytes(b"not a picture")
    assert load_cover(song) is None


def music_catalog(song: Path, n: int = 500) -> Catalog:
    """The built-in catalog with every song's file set to `song` (a catalog of one album)."""
    base = builtin_catalog(n)
    return Catalog(base.features, base.tracks.assign(path=str(song)), base.scaler, dict(base.manifest))


@pytest.fixture
def covered(tmp_path: Path) -> Iterator[DJApp]:
    song = embed(wav(tmp_path / "Album" / "01 Song.wav"), png(picture()))
    session = open_session(catalog=music_catalog(song), data_dir=tmp_path / "data", seed=7)
    yield DJApp(session, autoplay=False)
    session.close()


async def _settled(pilot: Pilot[Any]) -> None:
    """The first song on screen and its cover loaded (on a worker of its own)."""
    app = pilot.app
    assert isinstance(app, DJApp)
    deadline = time.monotonic() + 30
    while app.pending or app.view is None or not app.screen.query_one(Cover).shown:
        assert time.monotonic() < deadline, "the cover never loaded"
        await pilot.pause(0.01)
    app.clear_notifications()
    await pilot.pause()


async def test_the_cover_shows_when_there_is_room_and_folds_away_when_not(covered: DJApp) -> None:
    async with covered.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        now = covered.screen.query_one(NowPlaying)
        cover = covered.screen.query_one(Cover)
        assert now.has_class("-cover") and cover.display and cover.size.width == 16
        assert now.outer_size.height == 10
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not covered.screen.query_one(Cover).display  # small terminal: no room
        assert covered.screen.query_one(NowPlaying).outer_size.height == 4


async def test_a_csv_song_has_no_cover(tmp_path: Path) -> None:
    session = open_session(catalog=builtin_catalog(300), data_dir=tmp_path, seed=1)
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.pending or app.view is None:
            await pilot.pause(0.01)
        await pilot.pause(0.1)
        assert not app.screen.query_one(Cover).shown
        assert not app.screen.query_one(Cover).display
        assert not app.screen.query_one(NowPlaying).has_class("-cover")
    session.close()


def test_console_at_120x40_with_cover_and_taste_map(snap_compare: Any, covered: DJApp) -> None:
    """The one picture of the console with both: a generated cover in Now playing and the map."""

    async def react(pilot: Pilot[Any]) -> None:
        await _settled(pilot)
        for key in "lnd":
            await pilot.press(key)
            await _settled(pilot)
        # The last update's duration is a clock: the picture shows a fixed one.
        view = covered.view
        assert view is not None and view.stats.last_update_ms is not None
        covered.screen.show_view(replace(view, stats=replace(view.stats, last_update_ms=5.0)))  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(covered, terminal_size=(120, 40), run_before=react)
