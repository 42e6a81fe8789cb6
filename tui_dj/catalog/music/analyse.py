"""The nine Spotify-style features of one audio file, measured or estimated from its sound.

Pure: a path in, numbers out. PyAV (FFmpeg inside its wheel) decodes every format; the analysis
itself is plain numpy, so a worker process starts in a fraction of a second (scipy.signal alone
takes over a second to import). docs/audio-analysis.md says how each figure is made and how good it is.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tui_dj.catalog.model import FEATURES
from tui_dj.errors import TuiDjError

MEASURED = "measured"
ESTIMATED = "estimated"
BORROWED = "borrowed"

SAMPLE_RATE = 22_050
# A minute from the middle of a song tells its tempo and colour; decoding all of it costs three times
# as long and the intro/outro would only blur the figures.
WINDOW_S = 60.0
N_FFT = 2048
HOP = 512
FRAME_RATE = SAMPLE_RATE / HOP
MIN_TEMPO, MAX_TEMPO = 40.0, 220.0
DEFAULT_TEMPO = 120.0
# Bumped whenever a figure below changes meaning, so cached results are measured again.
ANALYSIS_VERSION = 1
AUDIO_EXTRA_HINT = "Measuring features from audio needs the audio extra: pip install 'tui-dj[audio]'."

# Spotify's provenance for each feature (energy and danceability combine measured quantities;
# the last five are educated guesses from the signal).
PROVENANCE: dict[str, str] = {
    "acousticness": ESTIMATED,
    "danceability": MEASURED,
    "energy": MEASURED,
    "instrumentalness": ESTIMATED,
    "liveness": ESTIMATED,
    "loudness": MEASURED,
    "speechiness": ESTIMATED,
    "tempo": MEASURED,
    "valence": ESTIMATED,
}


@dataclass(frozen=True)
class AnalysisResult:
    """What `analyse` found: `features` in FEATURES order, or a failure `reason` and no features."""

    path: str
    features: tuple[float, ...] | None = None
    provenance: tuple[str, ...] | None = None
    duration_s: float | None = None
    key: int = -1
    mode: int = -1
    reason: str = ""
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.features is not None


@dataclass(frozen=True)
class Decoded:
    """Up to WINDOW_S of a file at SAMPLE_RATE: `channels` is (1 or 2, n) float32 in [-1, 1]."""

    channels: np.ndarray
    duration_s: float | None

    @property
    def mono(self) -> np.ndarray:
        return np.asarray(self.channels.mean(axis=0), dtype=np.float32)


def require_decoder() -> Any:
    """The `av` module, or a TuiDjError naming the extra that brings it."""
    try:
        import av
    except ImportError:
        raise TuiDjError(AUDIO_EXTRA_HINT) from None
    return av


# ---------------------------------------------------------------------------------------------
# Decoding


def decode(path: str | Path, window_s: float = WINDOW_S) -> Decoded:
    """Decode up to `window_s` seconds from the middle of `path` (all of it if shorter).

    Raises ValueError with a short reason when the file holds no decodable audio."""
    av = require_decoder()
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise ValueError(f"not a readable audio file ({_ffmpeg_reason(exc)})") from None
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise ValueError("no audio stream")
        stream = streams[0]
        duration = _duration(container, stream)
        layout = "stereo" if (stream.codec_context.channels or 1) >= 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        start = (duration - window_s) / 2 if duration and duration > window_s + 1 else 0.0
        if start > 0:
            try:
                container.seek(int(start / stream.time_base), stream=stream)
            except av.FFmpegError:
                container.seek(0, stream=stream)
        chunks: list[np.ndarray] = []
        wanted = int(window_s * SAMPLE_RATE)
        got = 0
        error = ""
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    got += out.samples
                if got >= wanted:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
                    got += out.samples
        except av.FFmpegError as exc:
            # A truncated or damaged file: keep what decoded before the damage.
            error = _ffmpeg_reason(exc)
    if got == 0:
        raise ValueError(f"no audio could be decoded ({error})" if error else "no audio could be decoded")
    channels = np.concatenate(chunks, axis=1)[:, :wanted].astype(np.float32, copy=False)
    if duration is None and start == 0 and got < wanted:
        duration = got / SAMPLE_RATE
    return Decoded(np.clip(np.nan_to_num(channels), -1.0, 1.0), duration)


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000
    return None


def _ffmpeg_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:120]


# ---------------------------------------------------------------------------------------------
# The analysis: small pure functions of numpy arrays


def frames(x: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """Overlapping frames of `x` as a (n_frames, n_fft) view (the tail shorter than a frame dropped)."""
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    return np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]


def magnitude_spectrogram(x: np.ndarray) -> np.ndarray:
    """|STFT| of `x` with a Hann window, (n_frames, N_FFT // 2 + 1), float32."""
    window = np.hanning(N_FFT).astype(np.float32)
    return np.abs(np.fft.rfft(frames(x) * window, axis=1)).astype(np.float32)


def onset_envelope(mag: np.ndarray) -> np.ndarray:
    """Spectral flux of the log spectrum: how much new energy each frame brings (FRAME_RATE a second).

    (Summing log-spaced bands instead, as mel-flux does, was tried: on kick + off-beat hi-hat test
    songs it doubled more tempi, so plain bins it is.)"""
    log_mag = np.log1p(100.0 * mag)
    flux = np.maximum(np.diff(log_mag, axis=0, prepend=log_mag[:1]), 0.0).sum(axis=1)
    # Take out the slow swell of the song so that only the pulses are left.
    width = max(1, min(int(FRAME_RATE), flux.size))
    local = np.convolve(flux, np.ones(width) / width, mode="same")
    return np.maximum(flux - local, 0.0)


class PulseSpectrum:
    """|DFT| of the (Hann-windowed) onset envelope at any pulse rate, read off one zero-padded FFT
    whose bins lie 0.01 BPM apart: exact enough for tempo and far cheaper than a DFT per rate."""

    def __init__(self, envelope: np.ndarray) -> None:
        env = (envelope - envelope.mean()) * np.hanning(envelope.size)
        self.size = max(1 << 18, 1 << int(np.ceil(np.log2(max(envelope.size, 2)))))
        self.magnitude = np.abs(np.fft.rfft(env, self.size)) / max(envelope.size, 1)

    def at(self, bpm: np.ndarray) -> np.ndarray:
        bins = np.rint(np.asarray(bpm) / 60.0 / FRAME_RATE * self.size).astype(np.int64)
        return np.asarray(self.magnitude[np.clip(bins, 0, self.magnitude.size - 1)])

    def tempo_score(self, bpm: np.ndarray) -> np.ndarray:
        """How well a beat at each `bpm` explains the envelope: the pulse and its first harmonics,
        with a mild preference for tempi near 120 (where every beat tracker's octave errors go)."""
        harmonics = (1.0, 0.5, 1 / 3, 0.25)
        score = sum(w * self.at(bpm * (k + 1)) for k, w in enumerate(harmonics))
        prior = np.exp(-0.5 * np.log2(bpm / DEFAULT_TEMPO) ** 2)
        return np.asarray(score * prior)


def estimate_tempo(envelope: np.ndarray) -> tuple[float, float]:
    """(BPM, pulse clarity 0-1) from an onset envelope; clarity near 0 means no steady beat."""
    if envelope.size < 4 * FRAME_RATE or not np.any(envelope > 0):
        return DEFAULT_TEMPO, 0.0
    spectrum = PulseSpectrum(envelope)
    bpm = np.arange(MIN_TEMPO, MAX_TEMPO, 0.01)
    best = float(bpm[int(np.argmax(spectrum.tempo_score(bpm)))])
    # A steady pulse of any shape puts about half of the envelope's mean into its spectral line
    # (the Hann window's coherent gain); an envelope of random onsets puts a small fraction there.
    ratio = float(spectrum.at(np.array([best]))[0]) / (0.5 * float(envelope.mean()) + 1e-12)
    return best, _ramp(ratio, 0.1, 0.7)


def beat_regularity(envelope: np.ndarray, bpm: float) -> float:
    """Autocorrelation of the envelope one beat apart (0-1): how alike consecutive beats are."""
    env = envelope - envelope.mean()
    denom = float(env @ env)
    lag = int(round(60.0 / bpm * FRAME_RATE))
    if denom <= 0 or lag <= 0 or lag >= env.size:
        return 0.0
    values = [float(env[: env.size - k] @ env[k:]) / denom for k in (lag - 1, lag, lag + 1) if k > 0]
    return float(np.clip(max(values), 0.0, 1.0))


# ITU-R BS.1770 K-weighting (a high shelf, then a high pass) as its 48 kHz biquads. The filter is
# applied as its magnitude response on each block's spectrum, which by Parseval gives the same mean
# square as filtering in time for the 400 ms blocks the standard uses, without scipy.signal.
_K_SHELF = ((1.53512485958697, -2.69169618940638, 1.19839281085285), (1.0, -1.69065929318241, 0.73248077421585))
_K_HIGHPASS = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))


def _biquad_power(coeffs: tuple[tuple[float, ...], tuple[float, ...]], freqs: np.ndarray) -> np.ndarray:
    b, a = coeffs
    z = np.exp(-1j * 2 * np.pi * freqs / 48_000.0)
    num = b[0] + b[1] * z + b[2] * z**2
    den = a[0] + a[1] * z + a[2] * z**2
    return np.asarray(np.abs(num / den) ** 2)


def integrated_loudness(channels: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Gated integrated loudness (BS.1770-4, LUFS; the nearest public measure to Spotify's dB).

    A full-scale 1 kHz sine in one channel reads -3.0; silence reads -70 or below."""
    step = int(0.1 * rate)
    n_steps = channels.shape[1] // step
    if n_steps < 4:
        channels = np.pad(channels, ((0, 0), (0, 4 * step - channels.shape[1])))
        n_steps = 4
    freqs = np.fft.rfftfreq(step, 1.0 / rate)
    weight = _biquad_power(_K_SHELF, freqs) * _biquad_power(_K_HIGHPASS, freqs)
    # One-sided spectrum: every bin but DC (and Nyquist, for an even length) stands for two.
    weight[1:-1 if step % 2 == 0 else None] *= 2.0
    # The standard's 400 ms blocks overlap by 75%, so each is the mean of four 100 ms steps: filter
    # the steps once instead of every block four times.
    power_steps = np.zeros(n_steps)
    for channel in channels:
        spectra = np.fft.rfft(channel[: n_steps * step].reshape(n_steps, step), axis=1)
        power_steps += (np.abs(spectra) ** 2 @ weight) / step**2
    power = np.convolve(power_steps, np.full(4, 0.25), mode="valid")
    loudness = -0.691 + 10 * np.log10(power + 1e-20)
    gated = power[loudness > -70.0]
    if gated.size == 0:
        return -70.0
    relative = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
    gated = power[loudness > max(relative, -70.0)]
    return float(-0.691 + 10 * math.log10(float(gated.mean()) + 1e-20))


_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def chroma(mag: np.ndarray) -> np.ndarray:
    """Energy per pitch class (C = 0) summed over the song, from the bins between 65 Hz and 2 kHz."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    band = (freqs >= 65.0) & (freqs <= 2000.0)
    pitch = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    energy = (mag[:, band] ** 2).sum(axis=0)
    return np.bincount(pitch, weights=energy, minlength=12)


def key_and_mode(profile: np.ndarray) -> tuple[int, int, float]:
    """(key, mode 1 major / 0 minor, major-minor margin) by Krumhansl-Schmuckler key profiles."""
    if not np.any(profile > 0):
        return -1, -1, 0.0
    scores = []
    for template in (_MAJOR, _MINOR):
        scores.append([float(np.corrcoef(profile, np.roll(template, k))[0, 1]) for k in range(12)])
    major, minor = np.nan_to_num(np.array(scores))
    mode = 1 if major.max() >= minor.max() else 0
    key = int(np.argmax(major if mode else minor))
    return key, mode, float(major.max() - minor.max())


def zero_crossing_rate(x: np.ndarray, n_frames: int) -> np.ndarray:
    """Sign changes per sample in each STFT frame, counted once over the signal (not per frame)."""
    changes = np.concatenate(([0], np.cumsum(np.signbit(x[1:]) != np.signbit(x[:-1]))))
    starts = np.arange(n_frames) * HOP
    ends = np.minimum(starts + N_FFT - 1, changes.size - 1)
    starts = np.minimum(starts, changes.size - 1)
    return np.asarray((changes[ends] - changes[starts]) / (N_FFT - 1), dtype=np.float64)


def _ramp(value: float, low: float, high: float) -> float:
    """0 at `low`, 1 at `high`, linear between (either order), clipped."""
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def describe(decoded: Decoded) -> tuple[dict[str, float], dict[str, str], int, int, dict[str, float]]:
    """The nine features (Spotify's scales), their provenance, key, mode and the raw measures."""
    x = decoded.mono
    loudness = float(np.clip(integrated_loudness(decoded.channels), -60.0, 0.0))
    provenance = dict(PROVENANCE)
    if float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) < 1e-5:
        # Digital silence: no beat, no colour. Tempo stays at the default and says so.
        provenance["tempo"] = ESTIMATED
        silent = dict.fromkeys(FEATURES, 0.0) | {"loudness": loudness, "tempo": DEFAULT_TEMPO}
        return silent, provenance, -1, -1, {}

    mag = magnitude_spectrogram(x)
    # float32 throughout: a minute of frames is 2,600 x 1,025 bins, and float64 copies cost time.
    power = mag * mag
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE).astype(np.float32)
    frame_energy = power.sum(axis=1, dtype=np.float64) + 1e-12
    total = float(frame_energy.sum())
    centroid = float((power @ freqs).sum(dtype=np.float64) / total)
    high_ratio = float(power[:, freqs >= 4000.0].sum(dtype=np.float64) / total)
    voice_band = (freqs >= 300.0) & (freqs <= 3400.0)
    voice_ratio = float(power[:, voice_band].sum(dtype=np.float64) / total)
    geo = np.exp(np.mean(np.log(mag + np.float32(1e-10)), axis=1))
    frame_db = 10 * np.log10(frame_energy)
    # The colour of a song is in its sounding frames, not in the gaps between notes.
    loud_frames = frame_db > frame_db.max() - 40.0
    flatness = float(np.median((geo / (mag.mean(axis=1) + 1e-10))[loud_frames]))
    pause_fraction = float(np.mean(frame_db < np.median(frame_db) - 15.0))
    floor_ratio = float(np.percentile(frame_db, 10) - np.median(frame_db))
    frame_centroid = (power[loud_frames] @ freqs) / frame_energy[loud_frames]
    centroid_variation = float(frame_centroid.std() / (frame_centroid.mean() + 1e-9))
    zero_cross = zero_crossing_rate(x, frame_db.size)[loud_frames]
    zcr_variation = float(zero_cross.std() / (zero_cross.mean() + 1e-9)) if zero_cross.size else 0.0

    envelope = onset_envelope(mag)
    tempo, clarity = estimate_tempo(envelope)
    if clarity < 0.05:
        # No steady pulse (a drone, noise, speech): any figure would be a guess, so say so.
        tempo, provenance["tempo"] = DEFAULT_TEMPO, ESTIMATED
    regularity = beat_regularity(envelope, tempo)
    onset_rate = float(np.mean(envelope > envelope.mean() + 2 * envelope.std())) * FRAME_RATE
    key, mode, mode_margin = key_and_mode(chroma(mag))

    loud_score = _ramp(loudness, -30.0, -5.0)
    bright = _ramp(centroid, 800.0, 3500.0)
    # Each figure below is a documented heuristic (docs/audio-analysis.md), not a trained model.
    energy = 0.6 * loud_score + 0.2 * bright + 0.1 * _ramp(flatness, 0.02, 0.3) + 0.1 * _ramp(onset_rate, 0.5, 6.0)
    tempo_liking = math.exp(-0.5 * ((tempo - 118.0) / 35.0) ** 2)
    danceability = 0.4 * regularity + 0.35 * clarity + 0.25 * tempo_liking
    acousticness = 1.0 - (0.45 * _ramp(high_ratio, 0.02, 0.2) + 0.3 * _ramp(flatness, 0.02, 0.3) + 0.25 * loud_score)
    speechiness = 0.5 * _ramp(pause_fraction, 0.05, 0.35) + 0.5 * _ramp(zcr_variation, 0.4, 1.2)
    vocal = (_ramp(voice_ratio, 0.35, 0.75) * (1.0 - _ramp(flatness, 0.1, 0.4))
             * _ramp(centroid_variation, 0.05, 0.25))
    instrumentalness = 1.0 - max(vocal, _ramp(speechiness, 0.2, 0.6))
    liveness = 0.08 + 0.5 * _ramp(floor_ratio, -25.0, -5.0) * _ramp(flatness, 0.05, 0.3)
    valence = (0.35 * _ramp(mode_margin, -0.2, 0.2) + 0.25 * energy + 0.2 * _ramp(tempo, 70.0, 160.0)
               + 0.2 * bright)
    features = {
        "acousticness": acousticness, "danceability": danceability, "energy": energy,
        "instrumentalness": instrumentalness, "liveness": liveness, "loudness": loudness,
        "speechiness": speechiness, "tempo": tempo, "valence": valence,
    }
    features = {k: (v if k in ("loudness", "tempo") else float(np.clip(v, 0.0, 1.0))) for k, v in features.items()}
    measures = {"centroid_hz": centroid, "high_ratio": high_ratio, "flatness": flatness,
                "pulse_clarity": clarity, "regularity": regularity, "onset_rate": onset_rate,
                "pause_fraction": pause_fraction, "zcr_variation": zcr_variation,
                "voice_ratio": voice_ratio, "centroid_variation": centroid_variation,
                "mode_margin": mode_margin}
    return features, provenance, key, mode, measures


def analyse(path: str | Path, window_s: float = WINDOW_S) -> AnalysisResult:
    """Measure one file. Never raises for a bad file: a failure comes back with a one-line reason.

    Raises TuiDjError only when the decoder itself (the audio extra) is not installed."""
    require_decoder()
    start = time.perf_counter()
    try:
        decoded = decode(path, window_s)
        features, provenance, key, mode, measures = describe(decoded)
    except ValueError as exc:
        return AnalysisResult(str(path), reason=str(exc), seconds=time.perf_counter() - start)
    except (OSError, MemoryError, RuntimeError, TypeError, IndexError, ZeroDivisionError) as exc:
        # FFmpeg and numpy meet untrusted bytes here; one bad file must not stop a library scan.
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        return AnalysisResult(str(path), reason=reason, seconds=time.perf_counter() - start)
    return AnalysisResult(
        path=str(path),
        features=tuple(float(features[f]) for f in FEATURES),
        provenance=tuple(provenance[f] for f in FEATURES),
        duration_s=decoded.duration_s,
        key=key,
        mode=mode,
        seconds=time.perf_counter() - start,
        extra=measures,
    )
