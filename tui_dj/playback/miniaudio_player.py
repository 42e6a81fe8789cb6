"""Playback with pip packages only: PyAV decodes (any format FFmpeg reads) in a thread of its own,
miniaudio (its C code inside the wheel) pulls the samples into the sound device every few ms."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tui_dj.playback.base import FAILED, FINISHED, PlayerEvent, clamp_volume, one_line, quiet_stderr
from tui_dj.playback.loudness import Limiter
from tui_dj.playback.simulated import SimulatedPlayer

RATE = 44_100
CHANNELS = 2
# The device asks for audio this often; pause and seek are heard within about this long.
BUFFER_MS = 40
# How far ahead the decoder runs: enough to ride out a slow disk, little enough to seek at once.
AHEAD_S = 2.0


class _Decoder(threading.Thread):
    """Decodes one file into a queue of float32 (n, 2) blocks, at the song's gain (even loudness);
    `read` never blocks."""

    def __init__(self, path: str, gain_db: float = 0.0) -> None:
        super().__init__(name="tui-dj-decoder", daemon=True)
        self.path = path
        self.gain_db = gain_db
        self._level = Limiter(gain_db, RATE, channels=CHANNELS) if gain_db else None
        self.duration: float | None = None
        self.error = ""
        self.finished = False  # decoding reached the end (or failed)
        self._blocks: deque[np.ndarray] = deque()
        self._buffered = 0
        self._base = 0.0  # seconds at the start of what is queued
        self._consumed = 0
        self._seek_to: float | None = None
        self._stop = False
        self._wake = threading.Condition()

    # The audio thread -------------------------------------------------------------------------
    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` frames, fewer when the decoder is behind or done."""
        out: list[np.ndarray] = []
        wanted = frames
        with self._wake:
            while wanted and self._blocks:
                block = self._blocks[0]
                take = block[:wanted]
                out.append(take)
                if take.shape[0] == block.shape[0]:
                    self._blocks.popleft()
                else:
                    self._blocks[0] = block[wanted:]
                wanted -= take.shape[0]
            got = frames - wanted
            self._buffered -= got
            self._consumed += got
            self._wake.notify()
        return np.concatenate(out) if out else np.zeros((0, CHANNELS), np.float32)

    @property
    def exhausted(self) -> bool:
        return self.finished and self._buffered == 0

    @property
    def position(self) -> float:
        return self._base + self._consumed / RATE

    # The UI thread ----------------------------------------------------------------------------
    def seek(self, seconds: float) -> None:
        with self._wake:
            self._seek_to = max(0.0, seconds)
            # Drop what is queued now, so the old place is not heard after the key was pressed.
            self._blocks.clear()
            self._buffered, self._consumed, self._base = 0, 0, self._seek_to
            self.finished = False
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()

    # The decoder thread -----------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._decode()
        except Exception as exc:  # PyAV raises FFmpegError, OSError, ValueError...; all end the song
            self.error = one_line(getattr(exc, "strerror", None) or exc)
        finally:
            self.finished = True

    def _decode(self) -> None:
        import av

        with av.open(self.path, metadata_errors="ignore") as container:
            # Typed loosely: PyAV's stubs do not know a demuxed audio stream yields AudioFrames.
            stream: Any = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise ValueError("no audio in the file")
            if stream.duration and stream.time_base:
                self.duration = float(stream.duration * stream.time_base)
            elif container.duration:
                self.duration = container.duration / 1_000_000
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
            frames: Iterator[Any] = container.decode(stream)
            skip_until = 0.0
            while True:
                with self._wake:
                    while not self._stop and self._seek_to is None and (
                            self._buffered >= AHEAD_S * RATE or self.finished):
                        self._wake.wait()
                    if self._stop:
                        return
                    target, self._seek_to = self._seek_to, None
                if target is not None:
                    container.seek(int(target / stream.time_base), stream=stream)
                    if self._level is not None:
                        self._level.reset()
                    resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
                    frames = container.decode(stream)
                    skip_until = target
                frame = next(frames, None)
                blocks = resampler.resample(frame)
                if frame is not None and frame.time is not None and frame.time + frame.samples / frame.sample_rate <= skip_until:
                    continue  # still before the place sought to (seeks land on the packet before)
                decoded = [self._levelled(block.to_ndarray().reshape(-1, CHANNELS)) for block in blocks]
                if frame is None and self._level is not None:
                    decoded.append(self._level.flush())
                with self._wake:
                    if self._seek_to is not None:
                        continue
                    for samples in filter(len, decoded):
                        self._blocks.append(samples)
                        self._buffered += samples.shape[0]
                    if frame is None:
                        self.finished = True

    def _levelled(self, samples: np.ndarray) -> np.ndarray:
        return self._level.apply(samples) if self._level is not None else samples


class MiniaudioPlayer:
    """A Player on miniaudio + PyAV. `null_output` plays to miniaudio's null device (for tests);
    `tap` is given every block the device is sent (tests hear what would be heard, as mpv's
    `ao=pcm` writes it to a file)."""

    name = "miniaudio"

    def __init__(self, null_output: bool = False, song_seconds: float | None = None,
                 buffer_ms: int = BUFFER_MS, tap: Callable[[np.ndarray], None] | None = None) -> None:
        import av  # noqa: F401  (fail here, not in the audio thread, when PyAV is missing)
        import miniaudio

        self._lock = threading.Lock()
        self._events: list[PlayerEvent] = []
        self._source: _Decoder | None = None
        self._next: _Decoder | None = None
        self._advanced_to: str | None = None
        self._hint = 0.0
        self._paused = False
        self._volume = 100
        self._clock = SimulatedPlayer(song_seconds)
        self._clock_only = False
        self._tap = tap
        backends = [miniaudio.Backend.NULL] if null_output else None
        self._device = miniaudio.PlaybackDevice(
            output_format=miniaudio.SampleFormat.FLOAT32, nchannels=CHANNELS, sample_rate=RATE,
            buffersize_msec=buffer_ms, backends=backends, app_name="tui-dj",
        )
        stream = self._stream()
        next(stream)
        self._device.start(stream)

    # The audio thread: must never raise (miniaudio would drop the generator and fall silent) --
    def _stream(self) -> Generator[bytes, int, None]:
        frames = yield b""
        while True:
            try:
                block = self._fill(frames)
            except Exception as exc:  # a bug here must cost one song, not all sound until restart
                block = np.zeros((frames, CHANNELS), np.float32)
                with self._lock:
                    self._events.append(PlayerEvent(FAILED, self._source.path if self._source else None, one_line(exc)))
                    self._source = None
            if self._tap is not None:
                self._tap(block)
            frames = yield block.tobytes()

    def _fill(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, CHANNELS), np.float32)
        with self._lock:
            if self._source is None or self._paused:
                return out
            got = 0
            while got < frames and self._source is not None:
                chunk = self._source.read(frames - got)
                out[got:got + chunk.shape[0]] = chunk
                got += chunk.shape[0]
                if chunk.shape[0] == 0:
                    if not self._source.exhausted:
                        break  # the decoder is behind: a moment of silence, not the end
                    self._end_locked()
            out *= (self._volume / 100.0) ** 2  # a squared fader sounds even to the ear
        return out

    def _end_locked(self) -> None:
        source = self._source
        assert source is not None
        if source.error:
            self._events.append(PlayerEvent(FAILED, source.path, source.error))
        else:
            self._events.append(PlayerEvent(FINISHED, source.path))
        source.stop()
        self._source, self._next = self._next, None
        self._advanced_to = self._source.path if self._source is not None else None

    # The Player interface ---------------------------------------------------------------------
    def play(self, path: str | Path | None, duration_s: float, gain_db: float = 0.0) -> None:
        with self._lock:
            self._hint = max(0.0, float(duration_s))
            self._paused = False
            if path is not None and self._advanced_to == str(path):
                self._advanced_to = None  # already playing, gaplessly, since the last song ended
                return
            old, self._source, self._advanced_to = self._source, None, None
            self._clock_only = path is None
            if path is not None:
                upcoming, self._next = self._next, None
                if upcoming is not None and upcoming.path == str(path) and upcoming.gain_db == gain_db:
                    self._source = upcoming
                else:
                    if upcoming is not None:
                        upcoming.stop()
                    self._source = _Decoder(str(path), gain_db)
                    self._source.start()
        if old is not None:
            old.stop()
        if path is None:
            self._clock.play(None, duration_s)

    def pause(self, paused: bool) -> None:
        with self._lock:
            self._paused = bool(paused)
        self._clock.pause(paused)

    def seek(self, seconds: float, relative: bool = True) -> None:
        if self._clock_only:
            self._clock.seek(seconds, relative)
            return
        with self._lock:
            source = self._source
            if source is None:
                return
            target = source.position + seconds if relative else seconds
            length = source.duration or self._hint
            source.seek(min(max(0.0, target), length) if length else max(0.0, target))

    def set_volume(self, volume: int) -> None:
        with self._lock:
            self._volume = clamp_volume(volume)
        self._clock.set_volume(volume)

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def position(self) -> float:
        if self._clock_only:
            return self._clock.position
        source = self._source
        return source.position if source is not None else 0.0

    @property
    def duration(self) -> float:
        if self._clock_only:
            return self._clock.duration
        source = self._source
        return (source.duration if source is not None and source.duration else None) or self._hint

    @property
    def paused(self) -> bool:
        return self._paused

    def poll(self) -> list[PlayerEvent]:
        clock_events = self._clock.poll() if self._clock_only else []
        with self._lock:
            # A file that cannot be opened fails before the device ever asks for it while paused.
            if self._source is not None and self._source.error and self._source.exhausted:
                self._end_locked()
            events, self._events = self._events, []
        return events + clock_events

    def preload(self, path: str | Path | None, gain_db: float = 0.0) -> None:
        if path is None:
            return
        with self._lock:
            if self._next is not None and self._next.path == str(path) and self._next.gain_db == gain_db:
                return
            old, self._next = self._next, _Decoder(str(path), gain_db)
            self._next.start()
        if old is not None:
            old.stop()

    def close(self) -> None:
        self._device.close()
        with self._lock:
            for decoder in (self._source, self._next):
                if decoder is not None:
                    decoder.stop()
            self._source = self._next = None
        self._clock.close()


def device_problem() -> str:
    """'' when miniaudio opens a real sound device, else why not (one line)."""
    import miniaudio

    try:
        with quiet_stderr():
            probe = miniaudio.PlaybackDevice(output_format=miniaudio.SampleFormat.FLOAT32,
                                             nchannels=CHANNELS, sample_rate=RATE, app_name="tui-dj")
    except miniaudio.MiniaudioError as exc:
        return one_line(exc.args[0] if exc.args else exc)
    probe.close()
    return ""
