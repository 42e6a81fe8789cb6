"""MPRIS: a D-Bus client (and `playerctl`) drives a headless console on a private session bus,
as media keys and desktop widgets would. Skipped where dbus-daemon or dbus-fast is missing."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tui_dj.catalog import builtin_catalog
from tui_dj.playback import SimulatedPlayer
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.mpris import NO_TRACK, MediaKeys, find_cover, now

PLAYER = "org.mpris.MediaPlayer2.Player"
OBJECT = "/org/mpris/MediaPlayer2"


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private session bus for this test alone; its address is the test's session bus."""
    pytest.importorskip("dbus_fast", reason="dbus-fast (the mpris extra) is not installed")
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert daemon.stdout is not None
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    daemon.terminate()
    daemon.wait(10)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Any]:
    s = open_session(catalog=builtin_catalog(300), data_dir=tmp_path, seed=5)
    yield s
    s.close()


async def _until(pilot: Any, check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)
    return found


async def _client(address: str, pilot: Any) -> tuple[Any, Any, str]:
    """A dbus-fast client on the bus, the console's Player interface, and its bus name."""
    from dbus_fast.aio import MessageBus

    client = await MessageBus(bus_address=address).connect()
    introspection = await client.introspect("org.freedesktop.DBus", "/org/freedesktop/DBus")
    daemon = client.get_proxy_object("org.freedesktop.DBus", "/org/freedesktop/DBus", introspection)
    names = daemon.get_interface("org.freedesktop.DBus")
    deadline = time.monotonic() + 20
    while not (ours := [n for n in await names.call_list_names() if n.startswith("org.mpris.MediaPlayer2.tui_dj")]):
        assert time.monotonic() < deadline, "the console never appeared on the bus"
        await pilot.pause(0.05)
    proxy = client.get_proxy_object(ours[0], OBJECT, await client.introspect(ours[0], OBJECT))
    return client, proxy, ours[0]


def _kinds(session: Any) -> list[str]:
    return [e.kind for e in reversed(session.history(100))]


async def test_next_play_pause_and_metadata_through_d_bus(bus: str, session: Any) -> None:
    app = DJApp(session, player=SimulatedPlayer(), media_keys=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.view is not None and app.view.now_playing is not None)
        client, proxy, _ = await _client(bus, pilot)
        player = proxy.get_interface(PLAYER)
        changes: list[dict[str, Any]] = []
        proxy.get_interface("org.freedesktop.DBus.Properties").on_properties_changed(
            lambda interface, changed, invalidated: changes.append(changed))
        first = app.view.now_playing
        meta = await player.get_metadata()
        assert meta["xesam:title"].value == first.name
        assert meta["xesam:artist"].value == [first.artist]
        assert meta["mpris:trackid"].value == f"/org/tui_dj/play/{app.view.play_number}"
        assert meta["mpris:length"].value == first.duration_ms * 1000
        assert await player.get_playback_status() == "Playing"

        # Next is the skip key: the next song plays and the session recorded a skip of the first.
        number = app.view.play_number
        await player.call_next()
        await _until(pilot, lambda: app.view.play_number == number + 1 and not app.pending)
        second = app.view.now_playing
        assert second is not None and second.track_id != first.track_id
        assert "skip" in _kinds(session)
        meta = await player.get_metadata()
        assert meta["xesam:title"].value == second.name
        # The announcements arrive on the bus's own schedule (under load, the first song's can come
        # in after Next): the latest one must come to name the song now playing.
        def announced() -> str | None:
            said = [c for c in changes if "Metadata" in c]
            return said[-1]["Metadata"].value["xesam:title"].value if said else None

        await _until(pilot, lambda: announced() == second.name)

        # PlayPause is the space key, both ways; each change is announced.
        await player.call_play_pause()
        await _until(pilot, lambda: app.paused)
        assert await player.get_playback_status() == "Paused"
        await _until(pilot, lambda: any(c.get("PlaybackStatus") and c["PlaybackStatus"].value == "Paused"
                                        for c in changes))
        await player.call_play_pause()
        await _until(pilot, lambda: not app.paused)
        assert await player.get_playback_status() == "Playing"

        # Quit is `q`: the session is closed (and saved), and the console goes.
        root = proxy.get_interface("org.mpris.MediaPlayer2")
        assert await root.get_identity() == "tui-dj" and await root.get_can_quit()
        await root.call_quit()
        await _until(pilot, lambda: app.closed)
        client.disconnect()


async def _playerctl(*args: str) -> str:
    """`playerctl -p tui_dj ARGS`, run without blocking the console's loop."""
    process = await asyncio.create_subprocess_exec(
        "playerctl", "-p", "tui_dj", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def test_playerctl_changes_songs_reads_metadata_seeks_and_sets_the_volume(bus: str, session: Any) -> None:
    if shutil.which("playerctl") is None:
        pytest.skip("playerctl is not installed (apt-get install playerctl)")
    app = DJApp(session, player=SimulatedPlayer(), media_keys=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.view is not None and app.view.now_playing is not None)
        client, _, _ = await _client(bus, pilot)
        client.disconnect()
        first = app.view.now_playing
        shown = await _playerctl("metadata", "--format", "{{title}}|{{artist}}|{{album}}|{{mpris:trackid}}")
        # playerctl prints an object path as GLib does, quoted.
        assert shown == f"{first.name}|{first.artist}|{first.album}|'/org/tui_dj/play/{app.view.play_number}'"

        number = app.view.play_number
        await _playerctl("next")
        await _until(pilot, lambda: app.view.play_number == number + 1 and not app.pending)
        assert "skip" in _kinds(session)
        assert await _playerctl("metadata", "title") == app.view.now_playing.name

        await _playerctl("pause")
        await _until(pilot, lambda: app.paused)
        assert await _playerctl("status") == "Paused"
        # SetPosition (absolute) and Seek (relative) move the song as the seek keys do.
        await _playerctl("position", "40")
        await _until(pilot, lambda: abs(app.player.position - 40.0) < 0.5)
        await _playerctl("position", "10-")
        await _until(pilot, lambda: abs(app.player.position - 30.0) < 0.5)
        assert abs(float(await _playerctl("position")) - 30.0) < 0.5
        await _playerctl("volume", "0.4")
        await _until(pilot, lambda: app.player.volume == 40)
        assert float(await _playerctl("volume")) == pytest.approx(0.4)
        await _playerctl("play")
        await _until(pilot, lambda: not app.paused)


async def test_without_a_session_bus_the_console_runs_as_before(
        session: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    pytest.importorskip("dbus_fast", reason="dbus-fast (the mpris extra) is not installed")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    caplog.set_level(logging.INFO, logger="tui_dj.tui")
    app = DJApp(session, autoplay=False, media_keys=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.view is not None)
        await _until(pilot, lambda: [r for r in caplog.records if "MPRIS is off" in r.message])
        number = app.view.play_number
        await pilot.press("n")
        await _until(pilot, lambda: app.view.play_number == number + 1 and not app.pending)
    lines = [r.getMessage() for r in caplog.records if "MPRIS" in r.getMessage()]
    assert len(lines) == 1 and "no session bus" in lines[0]


async def test_without_dbus_fast_the_console_says_so_once(
        session: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "tui_dj.tui.mpris_service", None)  # importing it raises ImportError
    caplog.set_level(logging.INFO, logger="tui_dj.tui")
    app = DJApp(session, autoplay=False, media_keys=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.view is not None)
        await _until(pilot, lambda: [r for r in caplog.records if "MPRIS is off" in r.message])
    lines = [r.getMessage() for r in caplog.records if "MPRIS" in r.getMessage()]
    assert lines == ["MPRIS is off: dbus-fast is not installed (pip install 'tui-dj[mpris]')."]


class _Still:
    """A console that is not running: what `now` reads."""

    def __init__(self, view: Any, paused: bool = False, player: Any = None) -> None:
        self.view, self.paused, self.player = view, paused, player

    def post_message(self, message: Any) -> bool:
        return True

    def action_quit(self) -> None:
        pass


def test_now_describes_the_song_and_nothing_when_nothing_plays(session: Any) -> None:
    assert now(_Still(None)).track_id == NO_TRACK and now(_Still(None)).status == "Stopped"
    view = session.start()
    player = SimulatedPlayer()
    player.play(None, view.now_playing.duration_ms / 1000)
    player.set_volume(70)
    described = now(_Still(view, paused=True, player=player))
    assert described.title == view.now_playing.name and described.status == "Paused"
    assert described.track_id == f"/org/tui_dj/play/{view.play_number}" and described.volume == 0.7
    assert described.length_us == view.now_playing.duration_ms * 1000 and described.can_seek


def test_a_cover_beside_the_song_is_its_art(tmp_path: Path) -> None:
    song = tmp_path / "Album" / "01 Song.mp3"
    song.parent.mkdir()
    song.write_bytes(b"not really audio")
    assert find_cover(str(song)) is None
    (song.parent / "Folder.JPG").write_bytes(b"\xff\xd8picture")
    assert find_cover(str(song)) == song.parent / "Folder.JPG"
    assert find_cover(None) is None


def test_an_embedded_picture_is_written_once_for_its_url_and_removed_at_the_end(tmp_path: Path) -> None:
    from tests.audio_gen import PNG, need_av, tag_file, tone, write_audio

    need_av()
    song = str(tag_file(write_audio(tmp_path / "a.flac", tone(0.5)), title="A", artist="B"))
    assert find_cover(song) == PNG
    keys = MediaKeys(_Still(None))
    written = keys.cover(song)
    assert written is not None and written.read_bytes() == PNG and written.suffix == ".png"
    assert keys.cover(song) == written and len(list(written.parent.iterdir())) == 1
    keys.stop()
    assert not written.parent.exists() and keys.cover(song) is None


def test_a_seek_is_told_from_the_songs_own_progress() -> None:
    pytest.importorskip("dbus_fast", reason="dbus-fast (the mpris extra) is not installed")
    from tui_dj.tui.mpris_service import SeekWatch

    watch = SeekWatch()
    # A simulated clock running seven times faster than real time is no seek.
    readings = [(0.0, 0.0), (0.25, 1.75), (0.5, 3.5), (0.75, 5.25)]
    assert not any(watch.moved("/a", position, when, False) for when, position in readings)
    assert watch.moved("/a", 40.0, 1.0, False)  # a jump
    assert not watch.moved("/a", 41.75, 1.25, False)  # the pace is measured afresh, not a jump
    assert not watch.moved("/a", 41.75, 5.0, True)  # paused: standing still is no jump
    assert watch.moved("/a", 10.0, 5.25, True)  # a seek while paused
    assert not watch.moved("/b", 0.0, 5.5, False)  # a new song starts where it starts


def test_media_keys_off_starts_nothing(session: Any) -> None:
    keys = MediaKeys(_Still(None), on=False)
    keys.start()  # no loop is needed: nothing starts
    keys.stop()
    assert keys.bus_name is None


async def test_media_keys_start_once_and_never_after_they_stopped(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # The console starts them after its first song: a console that quit before it must not
    # reach the bus afterwards. Without dbus-fast, each start that runs says so once in the log.
    monkeypatch.setitem(sys.modules, "tui_dj.tui.mpris_service", None)
    caplog.set_level(logging.INFO, logger="tui_dj.tui")
    stopped = MediaKeys(_Still(None))
    stopped.stop()
    stopped.start()
    twice = MediaKeys(_Still(None))
    twice.start()
    twice.start()
    await asyncio.sleep(0.05)
    twice.stop()
    assert len([r for r in caplog.records if "MPRIS is off" in r.getMessage()]) == 1
