"""The console's hold on the player: which backend plays, the song it was given, pause, seek,
volume, and how far through the song it is. The app asks; this module talks to the `Player`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tui_dj.playback.base import Player, PlayerEvent

if TYPE_CHECKING:
    from tui_dj.session import SessionView

log = logging.getLogger("tui_dj.tui")


class Deck:
    """One player for the console's life, chosen when the first song is known.

    A song with a file plays through a real backend (unless `simulate`); a catalog without files
    plays on the simulated clock, a whole song taking `speed` seconds.
    """

    def __init__(self, player: Player | None = None, *, speed: float = 30.0, simulate: bool = False) -> None:
        self.player = player
        self.speed = speed
        self._simulate = simulate
        self.paused = False
        self.playing_number: int | None = None  # the play the player was given

    def open_player(self, with_files: bool) -> tuple[Player, str | None]:
        """A real player when the songs have files (unless told to simulate), else the clock; and
        the sentence that says which (None for the clock of a catalog without files)."""
        from tui_dj.playback import SimulatedPlayer, open_player

        if not with_files:
            return SimulatedPlayer(self.speed), None
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
        self.player.play(playing.path, playing.duration_ms / 1000.0)
        if self.paused:
            self.player.pause(True)
        upcoming = view.queue[0].track if view.queue else None
        if upcoming is not None and upcoming.path:
            self.player.preload(upcoming.path)
        return note

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.player is not None:
            self.player.pause(self.paused)

    def seek(self, seconds: float) -> None:
        if self.player is not None and self.playing_number is not None:
            self.player.seek(seconds, relative=True)

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

    def close(self) -> None:
        if self.player is not None:
            self.player.close()
