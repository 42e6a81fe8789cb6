"""The console's hold on the player: which backend plays, the song it was given, pause, seek,
volume, how far through the song it is, and whether the sound output has stalled. The app asks;
this module talks to the `Player`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_dj.playback.base import Player, PlayerEvent
from tui_dj.playback.loudness import song_gain

if TYPE_CHECKING:
    from tui_dj.session import SessionView

log = logging.getLogger("tui_dj.tui")

# A song with no file takes this long on the simulated clock unless --speed says otherwise.
SONG_S = 30.0
# A real player whose position has not moved for this long, playing and not paused, has stalled.
STALL_S = 5.0


class Deck:
    """One player for the console's life, chosen when the first song is known.

    A song with a file plays through a real backend (unless `simulate`), or on the simulated clock
    at its own length; a song without a file plays on the clock, taking `speed` seconds (30
    unless given; given, it is every simulated song's length, files' too). A real output whose
    position stops moving is said once and replaced by the clock, from where the song had got to.
    `clock` is time.monotonic unless a test gives its own.
    """

    def __init__(self, player: Player | None = None, *, speed: float | None = None, simulate: bool = False,
                 loudness: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.player = player
        self.loudness = loudness  # each music file at an even loudness (playback/loudness.py)
        self.speed = speed
        self._simulate = simulate
        self._clock = clock
        self.paused = False
        self.playing_number: int | None = None  # the play the player was given
        self.stall_s = STALL_S
        self._moved: tuple[float, float] | None = None  # (position, when it was last seen to change)

    def open_player(self, with_files: bool) -> tuple[Player, str | None]:
        """A real player when the songs have files (unless told to simulate), else the clock; and
        the sentence that says which (None for the clock of a catalog without files)."""
        from tui_dj.playback import SimulatedPlayer, open_player

        if not with_files:
            return SimulatedPlayer(self.speed or SONG_S), None
        player, note = open_player("simulate" if self._simulate else "auto", song_seconds=self.speed)
        log.info("player: %s", note)
        return player, note

    def start(self, view: SessionView) -> str | None:
        """Give the player the song that now plays (and the next one, for a gapless start).
        Returns the sentence about the player when this call opened it."""
        note = None
        if self.player is None:
            songs = [view.now_playing, *(entry.track for entry in view.queue)]
            self.player, note = self.open_player(any(song is not None and song.path for song in songs))
        playing = view.now_playing
        if playing is None:
            self.player.pause(True)
            self.playing_number = None
            return note
        self.playing_number = view.play_number
        self._moved = None
        gain = song_gain if self.loudness else lambda song: 0.0
        self.player.play(playing.path, playing.duration_ms / 1000.0, gain(playing))
        if self.paused:
            self.player.pause(True)
        upcoming = view.queue[0].track if view.queue else None
        if upcoming is not None and upcoming.path:
            self.player.preload(upcoming.path, gain(upcoming))
        return note

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._moved = None  # a stall is counted from the resume, not from the pause
        if self.player is not None:
            self.player.pause(self.paused)

    def seek(self, seconds: float) -> bool:
        """Move within the song. False, and no move, when it would reach the end: seeking out of a
        song is leaving it, never hearing it to the end (the app makes it a skip)."""
        player = self.player
        if player is None or self.playing_number is None:
            return True
        if seconds > 0 and player.duration and player.position + seconds >= player.duration:
            return False
        player.seek(seconds, relative=True)
        self._moved = None
        return True

    def change_volume(self, change: int) -> int | None:
        """The volume after the change (None with no player yet)."""
        if self.player is None:
            return None
        self.player.set_volume(self.player.volume + change)
        return self.player.volume

    @property
    def progress(self) -> float:
        """The fraction of the song playing that has been heard."""
        player = self.player
        if player is None or self.playing_number is None or not player.duration:
            return 0.0
        return min(1.0, player.position / player.duration)

    def duration(self, fallback_s: float) -> float:
        """The song's length as the player has it, else `fallback_s` (the catalog's)."""
        player = self.player
        return (player.duration if player is not None and player.duration else 0.0) or fallback_s

    def poll(self) -> list[PlayerEvent]:
        return self.player.poll() if self.player is not None else []

    def check_stall(self, duration_s: float) -> str | None:
        """Call it every tick. When a real output's position has not moved for `stall_s` seconds
        while a song plays, not paused: the sentence that says so, the song going on from there on
        the simulated clock (`duration_s` long). None otherwise."""
        from tui_dj.playback import SimulatedPlayer

        player = self.player
        if player is None or player.name == SimulatedPlayer.name or self.paused or self.playing_number is None:
            self._moved = None
            return None
        position, now = player.position, self._clock()
        at_end = bool(player.duration) and position >= player.duration - 0.5  # its end is on its way
        if self._moved is None or position != self._moved[0] or at_end:
            self._moved = (position, now)
            return None
        if now - self._moved[1] < self.stall_s:
            return None
        minutes, seconds = divmod(int(position), 60)
        note = (f"The sound output of {player.name} is stuck at {minutes}:{seconds:02d} (it has not moved "
                f"for {self.stall_s:.0f} s); songs go on without sound, on the simulated clock.")
        log.warning("player stalled: %s", note)
        clock = SimulatedPlayer(self.speed)
        clock.set_volume(player.volume)
        try:
            player.close()
        except Exception:  # a stuck backend may fail to close too; the clock takes over anyway
            log.exception("closing the stalled player")
        self.player, self._moved = clock, None
        clock.play(None, duration_s)
        clock.seek(position, relative=False)
        return note

    def close(self) -> None:
        if self.player is not None:
            self.player.close()
