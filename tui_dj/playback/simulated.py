"""A player that plays nothing: a clock per song, pausable and seekable, optionally sped up so that a
whole song takes `song_seconds` (the console's --speed). Tests drive it with their own clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from tui_dj.playback.base import FINISHED, PlayerEvent, clamp_volume


class SimulatedPlayer:
    """Positions are in song seconds; with `song_seconds` set they advance duration/song_seconds
    times faster than real time. `clock` returns seconds (time.monotonic unless a test injects one)."""

    name = "simulated"

    def __init__(self, song_seconds: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._song_seconds = song_seconds if song_seconds and song_seconds > 0 else None
        self._clock = clock
        self._lock = threading.Lock()
        self._path: str | None = None
        self._duration = 0.0
        self._rate = 1.0
        self._started = False  # a song was given (its position stays at the end once it ended)
        self._playing = False
        self._paused = False
        self._anchor_position = 0.0
        self._anchor_time = clock()
        self._volume = 100
        self._events: list[PlayerEvent] = []

    # The position is anchored at the last change (play, pause, seek) and extrapolated from there,
    # so nothing needs a timer thread and a test clock controls everything.
    def _position(self) -> float:
        if not self._started:
            return 0.0
        elapsed = 0.0 if self._paused else (self._clock() - self._anchor_time) * self._rate
        return min(self._duration, self._anchor_position + elapsed)

    def _anchor(self, position: float) -> None:
        self._anchor_position = min(max(0.0, position), self._duration)
        self._anchor_time = self._clock()

    def play(self, path: str | Path | None, duration_s: float, gain_db: float = 0.0) -> None:
        with self._lock:
            self._path = str(path) if path is not None else None
            self._duration = max(0.0, float(duration_s))
            self._rate = self._duration / self._song_seconds if self._song_seconds and self._duration else 1.0
            self._started, self._playing, self._paused = True, True, False
            self._anchor(0.0)

    def pause(self, paused: bool) -> None:
        with self._lock:
            self._anchor(self._position())
            self._paused = bool(paused)

    def seek(self, seconds: float, relative: bool = True) -> None:
        with self._lock:
            if self._playing:
                self._anchor(self._position() + seconds if relative else seconds)

    def set_volume(self, volume: int) -> None:
        with self._lock:
            self._volume = clamp_volume(volume)

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def position(self) -> float:
        with self._lock:
            return self._position()

    @property
    def duration(self) -> float:
        return self._duration

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def playing(self) -> bool:
        """True from `play` until the song ends (a paused song is still playing)."""
        with self._lock:
            self._check_end()
            return self._playing

    def _check_end(self) -> None:
        if self._playing and self._position() >= self._duration:
            self._playing = False
            self._events.append(PlayerEvent(FINISHED, self._path))

    def poll(self) -> list[PlayerEvent]:
        with self._lock:
            self._check_end()
            events, self._events = self._events, []
            return events

    def preload(self, path: str | Path | None, gain_db: float = 0.0) -> None:
        """Nothing to prepare for a clock."""

    def close(self) -> None:
        with self._lock:
            self._started = self._playing = False
