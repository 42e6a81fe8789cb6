"""A folder of music files from `tui-dj prep FOLDER` to `tui-dj play`: the files play for real (to no
sound device), their end counts as heard to the end, pause and seek act on the sound, and a file
that vanished is a notice and the next song. Audio generated here; skipped without the audio extra."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audio_gen import need_av, song, tag_file, write_audio
from tests.clirun import run_cli
from tui_dj.catalog import load_catalog
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.deck import Deck


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Four short tagged songs in an Artist/Album/NN Title tree, and a text file posing as an mp3."""
    need_av()
    root = tmp_path / "Music"
    for i, (bpm, ext) in enumerate([(96, ".mp3"), (120, ".flac"), (140, ".ogg"), (110, ".wav")]):
        path = write_audio(root / f"Band {i % 2}" / "First Album" / f"0{i + 1} Tune {i}{ext}", song(bpm, 2.0, seed=i))
        if ext != ".wav":
            tag_file(path, title=f"Tune {i}", artist=f"Band {i % 2}", album="First Album", genre="indie")
    (root / "notes.mp3").write_text("this is not audio")
    return root


def test_prep_imports_a_music_folder_with_files_and_sources(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "catalog"
    code, stdout, stderr = run_cli("prep", str(folder), "--out", out, "--data-dir", tmp_path / "data")
    assert code == 0, stderr
    assert "music files found" in stdout and "could not be read" in stdout
    assert "notes.mp3" in stderr  # the file that failed is named
    catalog = load_catalog(out)
    assert len(catalog) == 4
    tracks = [catalog.track(i) for i in range(4)]
    assert all(t.path and Path(t.path).is_file() for t in tracks)
    assert {t.album for t in tracks} == {"First Album"}
    assert all(len(t.sources) == 9 and set(t.sources) <= {"m", "e"} for t in tracks)
    by_track = catalog.manifest["feature_sources"]["by_track"]
    assert set(by_track) == {t.track_id for t in tracks} and catalog.manifest["music"]["failed"]
    # A second prep of the unchanged folder is served from the cache.
    code, stdout, _ = run_cli("prep", str(folder), "--out", out, "--data-dir", tmp_path / "data")
    assert code == 0 and "from the cache" in stdout


@pytest.fixture
def app_parts(folder: Path, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from tui_dj.playback import open_player

    out = tmp_path / "catalog"
    code, _, stderr = run_cli("prep", str(folder), "--out", out, "--data-dir", tmp_path / "data")
    assert code == 0, stderr
    player, note = open_player("auto", null_output=True)
    if player.name == "simulated":
        pytest.skip(f"no real audio backend here: {note}")
    session = open_session(catalog=out, data_dir=tmp_path / "data", seed=3)
    yield session, player
    session.close()


async def _until(pilot: Any, check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_a_file_plays_to_its_end_and_the_next_song_starts(app_parts: tuple[Any, Any]) -> None:
    session, player = app_parts
    app = DJApp(session, player=player)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.view is not None)
        first = app.view.now_playing
        assert first.path and player.name in ("mpv", "miniaudio")
        await _until(pilot, lambda: app.view.play_number == 2)
        finished = [e for e in session.history(10) if e.kind == "finish"]
        assert finished and finished[0].track_id == first.track_id
        assert app.view.now_playing != first
        # Pause stops the position; seeking moves it.
        await pilot.press("space")
        await pilot.pause(0.3)
        held = player.position
        await pilot.pause(0.4)
        assert player.paused and abs(player.position - held) < 0.05
        await pilot.press("space")
        await pilot.press("comma")  # back 10 s: to the start
        await pilot.pause(0.2)
        assert player.position < 0.5
        await pilot.press("minus")
        assert player.volume == 90


async def test_a_vanished_file_is_a_notice_and_the_next_song(app_parts: tuple[Any, Any], tmp_path: Path) -> None:
    session, player = app_parts
    said: list[str] = []

    class Recording(DJApp):
        def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
            said.append(str(message))
            super().notify(message, **kwargs)

    app = Recording(session, player=player)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.view is not None)
        upcoming = app.view.queue[1].track
        Path(upcoming.path).unlink()  # gone before it plays (the head may already be preloaded)
        app.submit_action("play", upcoming.row)
        # The vanished song is played and given up on at once: wait for the notice, not for the
        # moment it is now playing, which can be over before a check sees it.
        await _until(pilot, lambda: any("could not be played" in s for s in said))
        await _until(pilot, lambda: app.view.now_playing != upcoming)
        kinds = [e.kind for e in session.history(20) if e.track_id == upcoming.track_id]
        assert kinds == ["play", "choose"]  # chosen, played: nothing learned about a song that could not play


def test_play_without_files_or_with_simulate_keeps_the_clock(tmp_path: Path) -> None:
    from tui_dj.playback import SimulatedPlayer

    session = open_session(data_dir=tmp_path, seed=1)
    try:
        app = DJApp(session)
        assert app.player is None  # chosen once the catalog is known
        assert isinstance(app.deck.open_player(with_files=False)[0], SimulatedPlayer)
        player, note = Deck(simulate=True).open_player(with_files=True)
        assert isinstance(player, SimulatedPlayer) and note is not None and "as asked" in note
    finally:
        session.close()
