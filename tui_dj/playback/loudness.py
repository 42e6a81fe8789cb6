"""Even loudness: each song of a music folder plays at the gain that brings the loudness `prep`
measured (integrated LUFS, BS.1770) to one target, as streaming services do, and a look-ahead
limiter keeps a raised song from clipping.

The catalog stores no peak level, so a boost cannot be capped to the headroom a song really has.
Instead a boost is capped at MAX_BOOST_DB and every raised song goes through a limiter whose
ceiling is CEILING_DB: mpv's through FFmpeg's `alimiter`, the miniaudio player's through `Limiter`
below. A song that is turned down needs neither.
"""

from __future__ import annotations

import numpy as np

from tui_dj.catalog.model import FEATURES, Track

# What Spotify, YouTube and Tidal play at.
TARGET_LUFS = -14.0
# A very quiet song is raised at most this much; past it the limiter would be squashing the song.
MAX_BOOST_DB = 12.0
# Where the limiter holds a raised song's peaks: a decibel below full scale.
CEILING_DB = -1.0
# The analysis' floor: a song this quiet is silence, and raising it would only raise hiss.
SILENT_LUFS = -60.0
# Smaller changes are not heard; leaving them out keeps the common case free of any processing.
SMALLEST_DB = 0.05
_LOUDNESS = FEATURES.index("loudness")
MEASURED = "m"


def gain_for(lufs: float, target: float = TARGET_LUFS) -> float:
    """The gain in dB that brings a song measured at `lufs` to `target`, a boost capped at
    MAX_BOOST_DB (0 for silence)."""
    if not np.isfinite(lufs) or lufs <= SILENT_LUFS:
        return 0.0
    gain = min(MAX_BOOST_DB, target - float(lufs))
    return round(gain, 2) if abs(gain) >= SMALLEST_DB else 0.0


def song_gain(track: Track | None, target: float = TARGET_LUFS) -> float:
    """The gain in dB to play `track` at: 0 unless its loudness was measured from its own file.

    A Spotify-CSV song has no file, and a file whose features were borrowed from a Spotify CSV
    carries Spotify's loudness figure, not one measured here: both play as they are."""
    if track is None or track.path is None or len(track.sources) <= _LOUDNESS:
        return 0.0
    if track.sources[_LOUDNESS] != MEASURED:
        return 0.0
    return gain_for(track.features["loudness"], target)


def decibels_to_ratio(gain_db: float) -> float:
    return float(10.0 ** (gain_db / 20.0))


def running_min(values: np.ndarray, width: int) -> np.ndarray:
    """The minimum of every `width` consecutive values (len(values) - width + 1 of them), in linear
    time (van Herk / Gil-Werman: prefix and suffix minima within blocks of `width`)."""
    count = len(values) - width + 1
    padded = np.concatenate([values, np.full((-len(values)) % width, np.inf)]).reshape(-1, width)
    prefix = np.minimum.accumulate(padded, axis=1).ravel()
    suffix = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:count], prefix[width - 1:width - 1 + count])


class Limiter:
    """A song's gain, and when it is a boost, a stereo-linked look-ahead peak limiter after it.

    Each output frame is `lookahead` frames late. Its gain is the mean over `lookahead` frames of
    the smallest reduction any frame needs within the look-ahead and `hold` frames back, so every
    frame's gain is at most what that frame needs (no peak passes the ceiling) and the gain moves
    in ramps of `lookahead` frames, never in steps. `apply` takes and gives (n, channels) float32
    blocks of any size; `flush` gives the last `lookahead` frames at the end of the song, `reset`
    forgets the past (after a seek). The delay is hidden: the first frames out are the song's.
    """

    def __init__(self, gain_db: float, rate: int, ceiling_db: float = CEILING_DB,
                 lookahead_s: float = 0.02, hold_s: float = 0.1, channels: int = 2) -> None:
        self.ratio = decibels_to_ratio(gain_db)
        self.limits = gain_db > 0.0
        self.ceiling = decibels_to_ratio(ceiling_db)
        self.lookahead = max(2, int(round(lookahead_s * rate)))
        self.hold = max(0, int(round(hold_s * rate)))
        self.channels = channels
        self.reset()

    def reset(self) -> None:
        w = self.lookahead
        self._delayed = np.zeros((w, self.channels), np.float32)  # frames in, not yet out
        self._needed = np.ones(w + self.hold)  # the reduction each recent frame needs
        self._minima = np.ones(w - 1)  # the recent running minima, for the moving mean
        self._to_drop = w  # the zeros the delay line starts with are not part of the song
        self._calm = 2 * w + self.hold  # frames since the last one that needed holding back

    def apply(self, block: np.ndarray) -> np.ndarray:
        scaled = np.asarray(block, np.float32) * np.float32(self.ratio)
        if not self.limits or len(scaled) == 0:
            return scaled
        w = self.lookahead
        # Channel by channel: a max along a 2-wide axis is numpy's slowest way to the same numbers.
        peaks = np.abs(scaled[:, 0])
        for channel in range(1, scaled.shape[1]):
            np.maximum(peaks, np.abs(scaled[:, channel]), out=peaks)
        # A hair under the ceiling: the float rounding of the mean below must not let a peak through.
        needed = np.minimum(1.0, self.ceiling * (1.0 - 1e-5) / np.maximum(peaks, 1e-12))
        held_back = np.flatnonzero(needed < 1.0)
        frames = np.concatenate([self._delayed, scaled])
        if held_back.size == 0 and self._calm >= 2 * w + self.hold:
            # Nothing in reach needs holding back and the gain has recovered: it is exactly 1
            # (the histories below are all ones already). Most blocks of most songs take this way.
            out = frames[:len(scaled)]
        else:
            out = self._limited(frames, needed)
        self._calm = len(needed) - 1 - int(held_back[-1]) if held_back.size else self._calm + len(needed)
        self._delayed = frames[len(scaled):]
        dropped = min(self._to_drop, len(out))
        self._to_drop -= dropped
        return out[dropped:]

    def _limited(self, frames: np.ndarray, needed: np.ndarray) -> np.ndarray:
        w = self.lookahead
        needed_all = np.concatenate([self._needed, needed])
        minima = running_min(needed_all, w + self.hold + 1)
        minima_all = np.concatenate([self._minima, minima])
        sums = np.concatenate([[0.0], np.cumsum(minima_all)])
        gains = (sums[w:] - sums[:-w]) / w
        self._needed = needed_all[len(needed_all) - (w + self.hold):]
        self._minima = minima_all[len(minima_all) - (w - 1):]
        return frames[:len(needed)] * gains[:, None].astype(np.float32)

    def flush(self) -> np.ndarray:
        """The frames still in the delay line, at the end of the song."""
        if not self.limits:
            return np.zeros((0, self.channels), np.float32)
        # Silence pushes them out; as many as the song has, however short it was.
        return self.apply(np.zeros((self.lookahead, self.channels), np.float32))
