"""What the console says can be trusted: a seek out of a song is a skip, the Q-table marks what
plays next, a stalled sound output is noticed, music files on the clock keep their own length,
nothing playing shows no song's length, notices do not pile up, the chart and the model line read
in full, and the search and the history say what their keys and rows are."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Label

from tests.test_tui import TellingApp, _open, settle
from tui_dj.catalog import builtin_catalog
from tui_dj.playback import SimulatedPlayer
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.deck import Deck
from tui_dj.tui.reward_chart import RewardChart
from tui_dj.tui.screens import HistoryScreen, SearchScreen
from tui_dj.tui.widgets import NowPlaying, QTable


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Any]:
    s = _open(tmp_path)
    yield s
    s.close()


async def until(pilot: Any, check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def screen_text(app: DJApp) -> str:
    """The characters on screen, line by line (from the app's SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in re.findall(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(y), []).append((float(x), unescape(re.sub("<[^>]+>", "", text))))
    return "\n".join("".join(t for _, t in sorted(rows[y])) for y in sorted(rows)).replace("\xa0", " ")


async def test_seeking_past_the_end_is_a_skip_not_a_song_heard_to_its_end(session: Any) -> None:
    player = SimulatedPlayer()  # real time: a song lasts minutes, so only the seek can end it
    app = DJApp(session, player=player)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        first = app.view.now_playing
        await pilot.press("full_stop")  # 10 s in: a seek within the song just moves
        await pilot.pause(0.1)
        assert 9 < player.position < 12 and app.view.play_number == 1
        player.seek(player.duration - 4, relative=False)
        await pilot.press("full_stop")  # past the end
        await until(pilot, lambda: app.view.play_number == 2)
        await settle(pilot, app)
        reacted = [e.kind for e in session.history(20) if e.track_id == first.track_id and e.kind != "play"]
        assert reacted == ["skip"]
        assert session.stats.finishes == 0 and session.stats.skips == 1


async def test_the_q_table_marks_the_song_that_plays_next(session: Any) -> None:
    app = DJApp(session, autoplay=False)

    def marked() -> list[str]:
        table = app.screen.query_one(QTable)
        return [str(table.get_row_at(i)[1]) for i in range(table.row_count) if str(table.get_row_at(i)[0]) == "▶"]

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert marked() == [app.view.queue[0].track.name]
        for _ in range(3):
            await pilot.press("d")
            await settle(pilot, app)
            head = app.view.queue[0].track
            assert marked() == ([head.name] if head in [r.track for r in app.view.q_rows] else [])
        # A song the person chose plays next: the mark leaves the DJ's pick (and marks the chosen
        # song, if the Q-table still lists it).
        head = app.view.queue[0].track
        chosen = app.view.q_rows[-1].track
        app.submit_action("enqueue", chosen.row)
        await settle(pilot, app)
        assert app.view.queue[0].track == chosen
        assert head.name not in marked()  # the DJ's own pick no longer plays next
        assert marked() == ([chosen.name] if chosen in [r.track for r in app.view.q_rows] else [])
        assert app.screen.query_one(QTable).border_subtitle == "▶ plays next"


class StuckPlayer(SimulatedPlayer):
    """A sound output that took the song and never moved: mpv's "Playing through mpv." at 0:00."""

    name = "mpv"

    @property
    def position(self) -> float:
        return 0.0


async def test_a_stalled_output_is_said_and_the_clock_takes_over(session: Any) -> None:
    stuck = StuckPlayer()
    app = TellingApp(session, player=stuck)
    app.deck.stall_s = 0.6
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await until(pilot, lambda: app.player is not stuck)
        said = [m for m, _, severity in app.told if "stuck at 0:00" in m]
        assert len(said) == 1 and "simulated clock" in said[0]
        clock = app.player
        assert isinstance(clock, SimulatedPlayer) and not isinstance(clock, StuckPlayer)
        assert clock.duration == app.view.now_playing.duration_ms / 1000.0
        await pilot.pause(0.5)
        assert clock.position > 0.2  # the song goes on, in real time
        await pilot.pause(1.0)
        assert len([m for m, _, _ in app.told if "stuck" in m]) == 1  # said once


async def test_a_paused_output_is_not_a_stall(session: Any) -> None:
    stuck = StuckPlayer()
    app = TellingApp(session, player=stuck)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("space")
        app.deck.stall_s = 0.3  # only now: a loaded machine may take longer than that to settle
        await pilot.pause(1.0)
        assert app.player is stuck and not [m for m, _, _ in app.told if "stuck" in m]


def _clock_rate(deck: Deck, with_files: bool, song_s: float) -> float:
    player, _ = deck.open_player(with_files)
    player.play(None, song_s)
    time.sleep(0.4)
    rate = player.position / 0.4
    player.close()
    return rate


def test_a_music_file_on_the_clock_takes_its_own_length_unless_speed_says() -> None:
    assert 0.8 < _clock_rate(Deck(simulate=True), True, 12.0) < 1.5  # not 12/30 of real time
    assert 1.6 < _clock_rate(Deck(speed=6.0, simulate=True), True, 12.0) < 2.8  # --speed 6: twice as fast
    assert 8 < _clock_rate(Deck(), False, 300.0) < 12  # a song with no file: 30 s, as before


async def test_nothing_playing_shows_no_songs_length_and_the_message_once(tmp_path: Path) -> None:
    tiny = open_session(catalog=builtin_catalog(2, seed=1), data_dir=tmp_path, seed=1)
    app = TellingApp(tiny, speed=0.5)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("d")
            await settle(pilot, app)
            await pilot.press("d")
            await settle(pilot, app)
            assert app.view.now_playing is None
            for _ in range(3):  # every key out of songs brings the same sentence back
                await pilot.press("n")
                await settle(pilot, app)
            await pilot.pause(0.3)
            now = app.screen.query_one(NowPlaying)
            assert str(now.query_one("#np-time", Label).render()) == "0:00 / 0:00"
            assert str(now.query_one("#np-state", Label).render()) == "■"
            repeated = [m for m, _, _ in app.told if m == app.view.message]
            assert len(repeated) == 1, app.told
    finally:
        tiny.close()


async def test_volume_shows_in_place_not_as_a_pile_of_notices(session: Any) -> None:
    app = TellingApp(session, player=SimulatedPlayer())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("minus", "minus", "minus")
        now = app.screen.query_one(NowPlaying)
        await until(pilot, lambda: now.border_subtitle == "volume 70%")
        assert app.player.volume == 70
        assert not [m for m, _, _ in app.told if "olume" in m]


async def test_the_session_panel_reads_in_full_and_its_chart_says_what_it_is(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    long_model = "profile someone's own (from the bundled model)"
    for size in ((80, 24), (120, 40)):
        async with app.run_test(size=size) as pilot:
            await settle(pilot, app)
            app.main.show_model(long_model)
            await pilot.press("l", "n", "d", "n")  # +1; the skip after a like is no reaction; -1; -0.25
            await settle(pilot, app)
            text = " ".join(screen_text(app).split())
            assert "model: profile someone's own" in text and "bundled model)" in text, text
            chart = app.screen.query_one(RewardChart)
            drawn = chart.render().plain.splitlines()
            assert chart.rewards[-3:] == (1.0, -1.0, -0.25)
            if chart.content_size.height >= 2:  # gains rise above the zero line, losses hang below
                assert drawn[-2].startswith("+1┤") and drawn[-1].startswith("-1┤"), drawn
                assert drawn[-2][-3:] == "█  " and drawn[-1][-3:] == " █▔"
            else:  # one line: the scale first, then a block per reaction
                assert drawn == ["-1▁…█+1 " + "█▁▄"], drawn
            assert "like +1" in str(chart.tooltip) and "dislike -1" in str(chart.tooltip)
        app = DJApp(session, autoplay=False)


async def test_search_footer_names_enter_and_history_says_picked(session: Any) -> None:
    app = DJApp(session, autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.pause()
        footer_keys = {(k.key, k.description) for k in app.screen.query("FooterKey")}
        assert ("enter", "Play") in footer_keys, footer_keys
        target = session.catalog.track(77)
        app.screen.query_one(Input).value = target.name
        results = app.screen.query_one("#search-results", DataTable)
        await until(pilot, lambda: results.row_count > 0)
        await pilot.press("ctrl+n")
        await settle(pilot, app)
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count > 0)
        what = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "picked" in what and "choose" not in what and "played" in what


class FrozenAt(SimulatedPlayer):
    """A real output's position that stays where it is."""

    name = "miniaudio"

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at

    @property
    def position(self) -> float:
        return self.at


def test_a_stall_is_counted_on_the_decks_clock_and_a_songs_end_is_not_one() -> None:
    now = [0.0]
    at_end = FrozenAt(180.0)
    at_end.play("song.mp3", 180.0)
    deck = Deck(at_end, clock=lambda: now[0])
    deck.playing_number = 1
    for now[0] in (0.0, 4.0, 60.0):
        assert deck.check_stall(180.0) is None  # ended: its "end" is on its way, not a stall
    stuck = FrozenAt(63.0)
    stuck.play("song.mp3", 180.0)
    deck = Deck(stuck, clock=lambda: now[0])
    deck.playing_number = 1
    now[0] = 0.0
    assert deck.check_stall(180.0) is None
    now[0] = 4.9
    assert deck.check_stall(180.0) is None
    now[0] = 5.1
    note = deck.check_stall(180.0)
    assert note is not None and "miniaudio" in note and "stuck at 1:03" in note
    assert deck.player is not stuck and deck.player.name == "simulated"
    assert 62.5 < deck.player.position < 64.0 and deck.player.duration == 180.0
