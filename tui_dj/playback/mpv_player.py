"""Playback through libmpv (python-mpv; Debian's `libmpv2`): every format FFmpeg reads, gapless,
and its own audio thread, so every call here returns at once."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from tui_dj.playback.base import FAILED, FINISHED, PlayerEvent, clamp_volume, one_line, quiet_stderr
from tui_dj.playback.loudness import CEILING_DB, decibels_to_ratio
from tui_dj.playback.simulated import SimulatedPlayer

# A twentieth of a second of generated silence: enough for mpv to open the audio output.
PROBE_SOURCE = "av://lavfi:anullsrc=r=44100:cl=stereo,atrim=duration=0.05"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def level_options(gain_db: float) -> dict[str, str]:
    """loadfile's per-file options that play a song at `gain_db` (even loudness): FFmpeg's volume
    filter, and after a boost its limiter holding peaks at the ceiling (its auto-level off)."""
    if not gain_db:
        return {}
    chain = f"volume={gain_db:.2f}dB"
    if gain_db > 0:
        chain += f",alimiter=limit={decibels_to_ratio(CEILING_DB):.4f}:level=disabled"
    # Quoted: the per-file list is comma-separated, and so is a filter chain.
    return {"options": f'af="lavfi=[{chain}]"'}


class MpvPlayer:
    """A Player on libmpv. `audio_output` is mpv's `ao` ("null" plays to nowhere, for tests);
    `options` are more of mpv's (tests: `ao="pcm", ao_pcm_file=...` writes what is heard)."""

    name = "mpv"

    def __init__(self, audio_output: str | None = None, song_seconds: float | None = None,
                 **options: Any) -> None:
        import mpv  # raises OSError when libmpv itself is missing

        options = dict(
            options,
            video=False, ytdl=False, config=False, input_default_bindings=False,
            input_vo_keyboard=False, terminal=False, idle=True, keep_open=False,
            gapless_audio="weak", prefetch_playlist=True, audio_display=False,
        )
        if audio_output:
            options["ao"] = audio_output
        self._mpv = mpv.MPV(**options)
        self._lock = threading.Lock()
        self._events: list[PlayerEvent] = []
        self._entry: int | None = None  # mpv's playlist id of the song we were asked to play
        self._path: str | None = None
        self._hint = 0.0
        self._queued: tuple[str, int] | None = None  # preloaded (path, playlist id)
        self._advanced_to: str | None = None  # a preloaded song mpv moved on to by itself
        self._clock = SimulatedPlayer(song_seconds)
        self._clock_only = False
        self._mpv.register_event_callback(self._on_event)

    # mpv's event thread -----------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        data = event.as_dict()
        kind = _text(data.get("event"))
        entry = data.get("playlist_entry_id")
        with self._lock:
            if kind == "start-file" and self._queued and entry == self._queued[1]:
                # Gapless: mpv went on to the preloaded song; it becomes the current one.
                self._path, self._entry = self._queued[0], entry
                self._advanced_to, self._queued = self._queued[0], None
            elif kind == "end-file" and entry == self._entry:
                reason = _text(data.get("reason"))
                if reason == "eof":
                    self._events.append(PlayerEvent(FINISHED, self._path))
                elif reason == "error":
                    why = _text(data.get("file_error")) or "mpv could not play it"
                    self._events.append(PlayerEvent(FAILED, self._path, one_line(why)))

    # The Player interface ---------------------------------------------------------------------
    def play(self, path: str | Path | None, duration_s: float, gain_db: float = 0.0) -> None:
        with self._lock:
            self._hint = max(0.0, float(duration_s))
            if path is None:
                self._clock_only, self._path, self._entry = True, None, None
            elif self._advanced_to == str(path):
                # Already playing: mpv moved on to it gaplessly when the previous song ended.
                self._advanced_to, self._clock_only = None, False
                return
            else:
                self._clock_only, self._path, self._advanced_to, self._queued = False, str(path), None, None
        if path is None:
            self._command("stop")
            self._clock.play(None, duration_s)
            return
        if not os.path.exists(path):
            # mpv would report it too, but only after a moment; say it at once, in plain words.
            with self._lock:
                self._events.append(PlayerEvent(FAILED, str(path), "the file is not there any more"))
            return
        reply = self._command("loadfile", url=str(path), flags="replace", **level_options(gain_db))
        with self._lock:
            self._entry = reply.get("playlist_entry_id") if isinstance(reply, dict) else None
        self._mpv.pause = False

    def _command(self, *args: str, **named: str) -> Any:
        try:
            return self._mpv.command(*args, **named)
        except Exception as exc:  # python-mpv raises SystemError/RuntimeError subclasses by version
            with self._lock:
                self._events.append(PlayerEvent(FAILED, self._path, one_line(f"mpv: {exc}")))
            return None

    def pause(self, paused: bool) -> None:
        if self._clock_only:
            self._clock.pause(paused)
        else:
            self._mpv.pause = bool(paused)

    def seek(self, seconds: float, relative: bool = True) -> None:
        if self._clock_only:
            self._clock.seek(seconds, relative)
            return
        try:
            self._mpv.seek(seconds, "relative" if relative else "absolute")
        except Exception:  # nothing loaded yet, or the song just ended: a seek then means nothing
            pass

    def set_volume(self, volume: int) -> None:
        self._clock.set_volume(volume)
        self._mpv.volume = clamp_volume(volume)

    @property
    def volume(self) -> int:
        return clamp_volume(self._mpv.volume or 0)

    @property
    def position(self) -> float:
        if self._clock_only:
            return self._clock.position
        return float(self._mpv.time_pos or 0.0)

    @property
    def duration(self) -> float:
        if self._clock_only:
            return self._clock.duration
        return float(self._mpv.duration or self._hint)

    @property
    def paused(self) -> bool:
        return self._clock.paused if self._clock_only else bool(self._mpv.pause)

    def poll(self) -> list[PlayerEvent]:
        clock_events = self._clock.poll() if self._clock_only else []
        with self._lock:
            events, self._events = self._events, []
        return events + clock_events

    def preload(self, path: str | Path | None, gain_db: float = 0.0) -> None:
        if path is None or self._clock_only or not os.path.exists(path):
            return
        self._command("playlist-clear")
        reply = self._command("loadfile", url=str(path), flags="append", **level_options(gain_db))
        if isinstance(reply, dict):
            with self._lock:
                self._queued = (str(path), reply.get("playlist_entry_id", -1))

    def close(self) -> None:
        self._clock.close()
        self._mpv.terminate()


def probe_output(audio_output: str | None = None, timeout_s: float = 3.0) -> str:
    """'' when mpv can open the audio output, else why not (one line)."""
    import mpv

    done = threading.Event()
    outcome: dict[str, str] = {}
    with quiet_stderr():
        player = mpv.MPV(video=False, ytdl=False, config=False, terminal=False, idle=True,
                         **({"ao": audio_output} if audio_output else {}))

        def on_event(event: Any) -> None:
            data = event.as_dict()
            if _text(data.get("event")) == "end-file":
                outcome["reason"] = _text(data.get("reason"))
                outcome["error"] = _text(data.get("file_error"))
                done.set()

        player.register_event_callback(on_event)
        try:
            player.command("loadfile", PROBE_SOURCE, "replace")
            done.wait(timeout_s)
        finally:
            player.terminate()
    if outcome.get("reason") == "eof":
        return ""
    return outcome.get("error") or "mpv did not answer"
