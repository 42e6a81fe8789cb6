"""The one interface every audio backend offers (after termusic's `player/mod.rs`), and its events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

FINISHED: Literal["finished"] = "finished"
FAILED: Literal["failed"] = "failed"


@dataclass(frozen=True)
class PlayerEvent:
    """Something that happened to the song: it `finished` by itself, or `failed` (`reason`, one line)."""

    kind: Literal["finished", "failed"]
    path: str | None
    reason: str = ""


@runtime_checkable
class Player(Protocol):
    """A song at a time. Every method returns at once and may be called from any thread."""

    name: str

    def play(self, path: str | Path | None, duration_s: float, gain_db: float = 0.0) -> None:
        """Start a song now, replacing the current one; `path` None plays only the clock.
        `gain_db` raises or lowers it (even loudness: `loudness.song_gain`), never clipping."""
        ...

    def pause(self, paused: bool) -> None: ...

    def seek(self, seconds: float, relative: bool = True) -> None:
        """Move within the song (clamped to it); relative moves count from the current position."""
        ...

    def set_volume(self, volume: int) -> None:
        """0-100."""
        ...

    @property
    def volume(self) -> int: ...

    @property
    def position(self) -> float:
        """Seconds into the current song (0 when none)."""
        ...

    @property
    def duration(self) -> float:
        """Length of the current song in seconds, as the file says or as `play` was told."""
        ...

    @property
    def paused(self) -> bool: ...

    def poll(self) -> list[PlayerEvent]:
        """The events since the last call, oldest first."""
        ...

    def preload(self, path: str | Path | None, gain_db: float = 0.0) -> None:
        """Get the next song ready, at its gain, so that it follows without a gap (a hint; may
        do nothing)."""
        ...

    def close(self) -> None: ...


def clamp_volume(volume: float) -> int:
    return int(min(100, max(0, round(volume))))


def one_line(text: object, limit: int = 160) -> str:
    return " ".join(str(text).split())[:limit]


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment: ALSA and PipeWire print straight to it when no sound
    device answers, which would scribble over a full-screen console."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
