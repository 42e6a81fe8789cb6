"""Players: the simulated clock under an injected time source, and each real backend headless (null
audio output) playing generated files; failures come as events, never as exceptions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import audio_gen as gen
from tui_dj.playback import FAILED, FINISHED, Player, PlayerEvent, SimulatedPlayer, open_player


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the simulated clock -----------------------------------------------------------------------


def test_simulated_plays_pauses_seeks_and_ends() -> None:
    clock = FakeClock()
    player = SimulatedPlayer(clock=clock)
    assert isinstance(player, Player)
    player.play("/music/a.mp3", 10.0)
    clock.now += 3
    assert player.position == pytest.approx(3.0)
    player.pause(True)
    clock.now += 5
    assert player.position == pytest.approx(3.0) and player.paused
    player.pause(False)
    player.seek(4.0)
    assert player.position == pytest.approx(7.0)
    player.seek(-100.0)
    assert player.position == 0.0
    player.seek(9.0, relative=False)
    assert player.poll() == []
    clock.now += 1.5
    assert player.poll() == [PlayerEvent(FINISHED, "/music/a.mp3")]
    assert player.poll() == [] and player.position == 10.0


def test_simulated_song_seconds_speeds_the_clock() -> None:
    clock = FakeClock()
    player = SimulatedPlayer(song_seconds=30.0, clock=clock)
    player.play(None, 240.0)
    clock.now += 15
    assert player.position == pytest.approx(120.0)
    clock.now += 15
    assert player.poll() == [PlayerEvent(FINISHED, None)]


def test_simulated_volume_and_replacing_a_song() -> None:
    clock = FakeClock()
    player = SimulatedPlayer(clock=clock)
    player.set_volume(140)
    assert player.volume == 100
    player.set_volume(35)
    assert player.volume == 35
    player.play("a", 5.0)
    clock.now += 4
    player.play("b", 5.0)  # the first song never ends: it was replaced
    clock.now += 4
    assert player.poll() == []
    clock.now += 2
    assert player.poll() == [PlayerEvent(FINISHED, "b")]


def test_open_player_simulate_and_auto_never_crash() -> None:
    player, note = open_player("simulate", song_seconds=30)
    assert isinstance(player, SimulatedPlayer) and note.endswith(".")
    player, note = open_player("auto")
    try:
        assert isinstance(player, Player)
        assert note.endswith(".") and "\n" not in note
        if isinstance(player, SimulatedPlayer):
            assert "because" in note  # it says why there is no sound
    finally:
        player.close()


# --- real backends, headless --------------------------------------------------------------------


def _backend(name: str) -> Player:
    gen.need_av()
    player, note = open_player(name, null_output=True)  # type: ignore[arg-type]
    if isinstance(player, SimulatedPlayer):
        pytest.skip(f"the {name} backend is not available here: {note}")
    return player


@pytest.fixture(params=["mpv", "miniaudio"])
def real_player(request: pytest.FixtureRequest) -> Iterator[Player]:
    player = _backend(request.param)
    yield player
    player.close()


def _wait_for(check: Callable[[], bool], timeout: float = 4.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def _events(player: Player, timeout: float = 4.0) -> list[PlayerEvent]:
    seen: list[PlayerEvent] = []

    def arrived() -> bool:
        seen.extend(player.poll())
        return bool(seen)

    _wait_for(arrived, timeout)
    time.sleep(0.1)  # and nothing else right behind it
    return seen + player.poll()


def test_real_two_second_file_plays_to_its_end(real_player: Player, tmp_path: Path) -> None:
    path = gen.write_audio(tmp_path / "two.mp3", gen.tone(2.0))
    start = time.monotonic()
    real_player.play(path, 2.0)
    events = _events(real_player, timeout=6.0)
    assert events == [PlayerEvent(FINISHED, str(path))]
    assert time.monotonic() - start > 1.2  # played, in (about) real time, not skipped


def test_real_pause_seek_and_volume(real_player: Player, tmp_path: Path) -> None:
    path = gen.write_audio(tmp_path / "long.flac", gen.tone(8.0))
    real_player.play(path, 8.0)
    assert _wait_for(lambda: real_player.position > 0.2)
    assert real_player.duration == pytest.approx(8.0, abs=0.1)
    real_player.pause(True)
    time.sleep(0.2)  # let the last buffered block out
    held = real_player.position
    time.sleep(0.4)
    assert real_player.paused and real_player.position == pytest.approx(held, abs=0.05)
    real_player.pause(False)
    real_player.seek(5.0, relative=False)
    assert _wait_for(lambda: 4.9 <= real_player.position <= 6.5)
    real_player.seek(-3.0)
    assert _wait_for(lambda: 1.9 <= real_player.position <= 3.5)
    real_player.set_volume(30)
    assert real_player.volume == 30
    assert real_player.poll() == []


@pytest.mark.parametrize("suffix", [".m4a", ".opus", ".ogg", ".wav"])
def test_real_formats_start(real_player: Player, tmp_path: Path, suffix: str) -> None:
    path = gen.write_audio(tmp_path / f"a{suffix}", gen.tone(3.0))
    real_player.play(path, 3.0)
    assert _wait_for(lambda: real_player.position > 0.2)
    assert real_player.poll() == []


def test_real_missing_and_broken_files_fail_as_events(real_player: Player, tmp_path: Path) -> None:
    real_player.play(tmp_path / "gone.mp3", 3.0)
    events = _events(real_player)
    assert [e.kind for e in events] == [FAILED] and events[0].reason
    broken = tmp_path / "broken.mp3"
    broken.write_text("not music")
    real_player.play(broken, 3.0)
    events = _events(real_player)
    assert [e.kind for e in events] == [FAILED] and "\n" not in events[0].reason


def test_real_file_vanishing_mid_song(real_player: Player, tmp_path: Path) -> None:
    first = gen.write_audio(tmp_path / "first.wav", gen.tone(1.0))
    second = gen.write_audio(tmp_path / "second.wav", gen.tone(1.0))
    real_player.preload(second)
    second.unlink()
    real_player.play(first, 1.0)
    assert _events(real_player) == [PlayerEvent(FINISHED, str(first))]
    real_player.play(second, 1.0)
    assert [e.kind for e in _events(real_player)] == [FAILED]


def test_real_gapless_preload(real_player: Player, tmp_path: Path) -> None:
    first = gen.write_audio(tmp_path / "first.flac", gen.tone(1.0))
    second = gen.write_audio(tmp_path / "second.flac", gen.tone(1.5, freq=660))
    real_player.play(first, 1.0)
    real_player.preload(second)
    assert _events(real_player) == [PlayerEvent(FINISHED, str(first))]
    real_player.play(second, 1.5)  # already under way: this must not restart it
    assert _events(real_player) == [PlayerEvent(FINISHED, str(second))]


def test_real_clock_only_song(real_player: Player) -> None:
    real_player.play(None, 0.3)
    assert _events(real_player) == [PlayerEvent(FINISHED, None)]
