"""Even loudness: the gain rule, the limiter, and two files prep measured at -6 and -26 LUFS that
come out of each real player within 1 LU of each other (what the player outputs, decoded and
measured with the project's own integrated loudness). Audio generated here."""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import audio_gen as gen
from tests.clirun import run_cli
from tui_dj.catalog import load_catalog
from tui_dj.catalog.model import FEATURES, Track
from tui_dj.catalog.music.analyse import decode, integrated_loudness
from tui_dj.playback import SimulatedPlayer
from tui_dj.playback.base import FINISHED, Player
from tui_dj.playback.loudness import (
    CEILING_DB,
    MAX_BOOST_DB,
    TARGET_LUFS,
    Limiter,
    decibels_to_ratio,
    gain_for,
    running_min,
    song_gain,
)
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp

CEILING = decibels_to_ratio(CEILING_DB)


def _track(loudness: float, sources: str = "m" * 9, path: str | None = "/music/a.flac") -> Track:
    return Track(row=0, track_id="t", name="A", artist="B", album="", genres=(), popularity=0.0,
                 duration_ms=1000, features=dict.fromkeys(FEATURES, 0.0) | {"loudness": loudness},
                 path=path, sources=sources)


def test_the_gain_brings_a_song_to_the_target_and_caps_a_boost() -> None:
    assert TARGET_LUFS == -14.0
    assert gain_for(-6.0) == -8.0
    assert gain_for(-20.0) == 6.0
    assert gain_for(-26.0) == MAX_BOOST_DB == 12.0
    assert gain_for(-40.0) == MAX_BOOST_DB  # capped: the limiter would be squashing the song
    assert gain_for(-14.01) == 0.0  # too small to hear: no processing at all
    assert gain_for(-60.0) == 0.0 and gain_for(float("nan")) == 0.0  # silence is left alone


def test_only_loudness_measured_from_the_songs_own_file_sets_a_gain() -> None:
    loudness = FEATURES.index("loudness")
    assert song_gain(_track(-6.0)) == -8.0
    borrowed = "m" * loudness + "b" + "m" * (8 - loudness)
    assert song_gain(_track(-6.0, sources=borrowed)) == 0.0  # Spotify's figure, borrowed for a file
    assert song_gain(_track(-6.0, sources="", path=None)) == 0.0  # a Spotify-CSV song
    assert song_gain(None) == 0.0


def test_running_min_is_the_minimum_of_every_window() -> None:
    values = np.random.default_rng(0).uniform(0, 1, 500)
    for width in (1, 2, 7, 64):
        expected = np.lib.stride_tricks.sliding_window_view(values, width).min(axis=1)
        assert np.array_equal(running_min(values, width), expected)


def _through(limiter: Limiter, x: np.ndarray, seed: int = 0) -> np.ndarray:
    """`x` through `limiter` in blocks of random sizes, as a decoder hands them over, then flushed."""
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while i < len(x):
        n = int(rng.integers(1, 3000))
        out.append(limiter.apply(x[i:i + n]))
        i += n
    out.append(limiter.flush())
    return np.concatenate(out)


def test_the_limiter_never_lets_a_raised_peak_past_the_ceiling() -> None:
    x = np.random.default_rng(1).normal(0, 0.2, (44_100 * 3, 2)).astype(np.float32)
    x[10_000] = 0.99  # a lone full-scale peak
    y = _through(Limiter(12.0, 44_100), x)
    assert y.shape == x.shape  # every frame comes out, in step: the look-ahead delay is hidden
    assert np.abs(y).max() <= CEILING
    # Where nothing needs holding back, the gain is exactly the song's.
    quiet = np.zeros((44_100, 2), np.float32)
    quiet[:, 0] = 0.05 * np.sin(np.arange(44_100) / 10)
    assert np.allclose(_through(Limiter(12.0, 44_100), quiet), quiet * decibels_to_ratio(12.0), atol=1e-6)
    # The gain moves in ramps, never in steps: next to the peak it changes by little per frame.
    ratio = y[9_000:11_000, 0] / (x[9_000:11_000, 0] * decibels_to_ratio(12.0))
    assert np.abs(np.diff(ratio[np.abs(x[9_000:11_000, 0]) > 0.05])).max() < 0.2


def test_a_cut_is_a_plain_scaling_and_a_short_song_comes_out_whole() -> None:
    x = np.random.default_rng(2).uniform(-1, 1, (5_000, 2)).astype(np.float32)
    assert np.allclose(_through(Limiter(-8.0, 44_100), x), x * decibels_to_ratio(-8.0))
    short = x[:100] * 0.01
    assert np.allclose(_through(Limiter(6.0, 44_100), short), short * decibels_to_ratio(6.0), atol=1e-6)


# -- two files, prep, and what each player outputs -----------------------------------------------

def _at(x: np.ndarray, lufs: float) -> np.ndarray:
    stereo = np.stack([x, x]).astype(np.float64)
    return (x * 10 ** ((lufs - integrated_loudness(stereo, gen.RATE)) / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loud song (-6 LUFS: dense low-passed noise) and a quiet one (-26 LUFS: drums, bass and a
    chord), imported by `tui-dj prep` as a music folder into ROOT/catalog."""
    gen.need_av()
    root = tmp_path_factory.mktemp("loudness")
    noise = np.convolve(gen.noise(3.0, 0.5, seed=3), np.ones(4) / 4, mode="same")  # mostly below 11 kHz
    gen.write_audio(root / "Music" / "loud.flac", _at(noise, -6.0))
    gen.write_audio(root / "Music" / "quiet.flac", _at(gen.song(110, 3.0, seed=2), -26.0))
    code, _, stderr = run_cli("prep", root / "Music", "--out", root / "catalog", "--data-dir", root / "data")
    assert code == 0, stderr
    return root


@pytest.fixture(scope="module")
def measured(prepared: Path) -> list[Track]:
    """The two songs as the console gets them, the loud one first."""
    catalog = load_catalog(prepared / "catalog")
    tracks = sorted((catalog.track(i) for i in range(len(catalog))), key=lambda t: -t.features["loudness"])
    assert [Path(t.path or "").name for t in tracks] == ["loud.flac", "quiet.flac"]
    return tracks


def _loudness(path: Path) -> tuple[float, float]:
    """(LUFS as prep measures a file, the peak at the file's own rate) of an audio file."""
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray().reshape(-1, 2) if not f.format.is_planar else f.to_ndarray().T
                  for f in container.decode(audio=0)]
    raw = np.concatenate(frames)
    scale = float(np.iinfo(raw.dtype).max) + 1.0 if raw.dtype.kind == "i" else 1.0
    return integrated_loudness(decode(path).channels), float(np.abs(raw).max()) / scale


def _play_to_end(player: Player, track: Track, gain_db: float) -> None:
    player.play(track.path, track.duration_ms / 1000.0, gain_db)
    deadline = time.monotonic() + 20
    while not any(e.kind == FINISHED for e in player.poll()):
        assert time.monotonic() < deadline, "the song never finished"
        time.sleep(0.05)


def _mpv_output(track: Track, gain_db: float, out: Path) -> Path:
    """What mpv plays, written to `out` by its pcm output (faster than real time)."""
    try:
        from tui_dj.playback.mpv_player import MpvPlayer

        player = MpvPlayer("pcm", ao_pcm_file=str(out))
    except (ImportError, OSError) as exc:
        pytest.skip(f"mpv cannot be loaded here ({exc})")
    try:
        _play_to_end(player, track, gain_db)
    finally:
        player.close()
    return out


def _miniaudio_output(track: Track, gain_db: float, out: Path) -> Path:
    """What the miniaudio player sends its (null) device, in real time, written to `out`."""
    pytest.importorskip("miniaudio", reason="miniaudio (the audio extra) is not installed")
    from tui_dj.playback.miniaudio_player import MiniaudioPlayer

    heard: list[np.ndarray] = []
    lock = threading.Lock()

    def tap(block: np.ndarray) -> None:
        with lock:
            heard.append(block.copy())

    player = MiniaudioPlayer(null_output=True, tap=tap)
    try:
        _play_to_end(player, track, gain_db)
    finally:
        player.close()
    with lock:
        samples = np.concatenate(heard)
    with wave.open(str(out), "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(2)
        file.setframerate(44_100)
        file.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out


OUTPUTS: dict[str, Callable[[Track, float, Path], Path]] = {"mpv": _mpv_output, "miniaudio": _miniaudio_output}


@pytest.mark.parametrize("backend", sorted(OUTPUTS))
def test_two_songs_20_lu_apart_play_within_1_lu_of_each_other(
        backend: str, measured: list[Track], tmp_path: Path, record_property: Any) -> None:
    loud, quiet = measured
    assert loud.features["loudness"] == pytest.approx(-6.4, abs=0.5)  # what prep measured
    assert quiet.features["loudness"] == pytest.approx(-26.0, abs=0.5)
    figures = {}
    for track in measured:
        out = OUTPUTS[backend](track, song_gain(track), tmp_path / f"{Path(track.path or '').stem}.wav")
        figures[track.name] = _loudness(out)
    (loud_lufs, loud_peak), (quiet_lufs, quiet_peak) = figures[loud.name], figures[quiet.name]
    record_property("output LUFS", figures)
    print(f"\n{backend}: before {loud.features['loudness']:.2f} / {quiet.features['loudness']:.2f} LUFS,"
          f" after {loud_lufs:.2f} / {quiet_lufs:.2f} LUFS (peaks {loud_peak:.3f} / {quiet_peak:.3f})")
    assert abs(loud_lufs - quiet_lufs) <= 1.0
    assert abs(loud_lufs - TARGET_LUFS) <= 1.0 and abs(quiet_lufs - TARGET_LUFS) <= 1.0
    assert quiet_peak <= CEILING + 1e-3  # raised 12 dB, and never clipped


def test_with_loudness_off_the_songs_play_as_recorded(measured: list[Track], tmp_path: Path) -> None:
    loud, quiet = (_loudness(_mpv_output(t, 0.0, tmp_path / f"{i}.wav"))[0] for i, t in enumerate(measured))
    print(f"\nmpv, loudness off: {loud:.2f} / {quiet:.2f} LUFS")
    assert loud - quiet > 18.0


class _Recording(SimulatedPlayer):
    """The clock, keeping the gain each song was given to play and to preload at."""

    def __init__(self) -> None:
        super().__init__()
        self.gains: dict[str, float] = {}

    def play(self, path: str | Path | None, duration_s: float, gain_db: float = 0.0) -> None:
        self.gains[str(path)] = gain_db
        super().play(path, duration_s, gain_db)

    def preload(self, path: str | Path | None, gain_db: float = 0.0) -> None:
        self.gains[str(path)] = gain_db


@pytest.mark.parametrize("loudness", [True, False])
async def test_the_console_gives_each_song_its_gain(prepared: Path, measured: list[Track], tmp_path: Path,
                                                    loudness: bool) -> None:
    session = open_session(catalog=prepared / "catalog", data_dir=tmp_path, seed=1)
    player = _Recording()
    app = DJApp(session, player=player, loudness=loudness)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 30
            while len(player.gains) < 2:  # the song playing, and the next one preloaded
                assert time.monotonic() < deadline, "the songs never reached the player"
                await pilot.pause(0.05)
    finally:
        session.close()
    expected = {t.path: song_gain(t) if loudness else 0.0 for t in measured}
    assert player.gains == expected
    assert sorted(expected.values()) == (pytest.approx([-7.6, 12.0], abs=0.5) if loudness else [0.0, 0.0])


def test_play_refuses_a_loudness_other_than_on_or_off(tmp_path: Path) -> None:
    code, _, stderr = run_cli("play", "--loudness", "loud", "--data-dir", tmp_path)
    assert code != 0 and "'loud' is neither on nor off" in " ".join(stderr.split())
    assert not any(tmp_path.iterdir())  # refused before anything was opened
