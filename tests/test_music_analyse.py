"""Features measured from generated audio: tempo of click tracks, loudness and energy in order, and
files that must fail (or not) without crashing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import audio_gen as gen
from tui_dj.catalog.model import FEATURES
from tui_dj.catalog.music.analyse import (
    AUDIO_EXTRA_HINT,
    DEFAULT_TEMPO,
    ESTIMATED,
    MEASURED,
    analyse,
    integrated_loudness,
)
from tui_dj.errors import TuiDjError

gen.need_av()
TEMPO, LOUDNESS, ENERGY = (FEATURES.index(f) for f in ("tempo", "loudness", "energy"))


@pytest.mark.parametrize(("bpm", "suffix"), [(90, ".mp3"), (120, ".flac"), (150, ".ogg")])
def test_click_track_tempo_within_two_bpm(tmp_path: Path, bpm: int, suffix: str) -> None:
    path = gen.write_audio(tmp_path / f"clicks{bpm}{suffix}", gen.clicks(bpm, 20))
    result = analyse(path)
    assert result.ok, result.reason
    assert result.features is not None and result.provenance is not None
    assert abs(result.features[TEMPO] - bpm) <= 2.0
    assert result.provenance[TEMPO] == MEASURED


def test_every_feature_on_spotify_scales(tmp_path: Path) -> None:
    result = analyse(gen.write_audio(tmp_path / "song.m4a", gen.song(128, 20)))
    assert result.features is not None and result.provenance is not None
    for name, value, origin in zip(FEATURES, result.features, result.provenance, strict=True):
        if name == "loudness":
            assert -60.0 <= value <= 0.0
        elif name == "tempo":
            assert 40.0 <= value <= 220.0
        else:
            assert 0.0 <= value <= 1.0, name
        assert origin in (MEASURED, ESTIMATED)
    assert result.duration_s == pytest.approx(20.0, abs=0.1)


def test_louder_signal_reads_louder_and_more_energetic(tmp_path: Path) -> None:
    quiet = analyse(gen.write_audio(tmp_path / "quiet.wav", gen.song(120, 12, gain=0.05)))
    loud = analyse(gen.write_audio(tmp_path / "loud.wav", gen.song(120, 12, gain=1.0)))
    assert quiet.features is not None and loud.features is not None
    assert loud.features[LOUDNESS] > quiet.features[LOUDNESS] + 20  # 26 dB apart
    assert loud.features[ENERGY] > quiet.features[ENERGY]


def test_loudness_follows_bs1770_reference() -> None:
    # The standard's own check: a full-scale 1 kHz sine in one channel reads -3.01 LUFS.
    t = np.arange(22_050 * 5) / 22_050
    sine = np.sin(2 * np.pi * 1000 * t)[None, :].astype(np.float32)
    assert integrated_loudness(sine) == pytest.approx(-3.01, abs=0.1)
    assert integrated_loudness(sine * 0.1) == pytest.approx(-23.01, abs=0.1)


def test_silence_noise_and_one_second_file_give_features(tmp_path: Path) -> None:
    silence = analyse(gen.write_audio(tmp_path / "silence.wav", np.zeros(gen.RATE * 3, np.float32)))
    noise = analyse(gen.write_audio(tmp_path / "noise.flac", gen.noise(8)))
    short = analyse(gen.write_audio(tmp_path / "short.opus", gen.tone(1.0)))
    for result in (silence, noise, short):
        assert result.ok, result.reason
    assert silence.features is not None and silence.provenance is not None
    assert silence.features[LOUDNESS] == -60.0
    # No pulse in silence or noise: the tempo is a default, and says it is a guess.
    assert silence.features[TEMPO] == DEFAULT_TEMPO and silence.provenance[TEMPO] == ESTIMATED
    assert noise.provenance is not None and noise.provenance[TEMPO] == ESTIMATED
    assert short.duration_s == pytest.approx(1.0, abs=0.05)


def test_bad_files_fail_with_a_reason(tmp_path: Path) -> None:
    text = tmp_path / "letter.mp3"
    text.write_text("Dear reader, this is not music.")
    good = gen.write_audio(tmp_path / "good.mp3", gen.song(100, 6))
    truncated = tmp_path / "truncated.mp3"
    truncated.write_bytes(good.read_bytes()[:3000])
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    for path in (text, empty, tmp_path / "gone.wav"):
        result = analyse(path)
        assert not result.ok and result.features is None
        assert result.reason and "\n" not in result.reason
    # A truncated file still has its first part: it is measured, not refused.
    assert analyse(truncated).ok


def test_non_ascii_file_name(tmp_path: Path) -> None:
    path = gen.write_audio(tmp_path / "Björk – Jóga.flac", gen.song(90, 6))
    assert analyse(path).ok


def test_missing_decoder_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def no_av(name: str, *args: object, **kwargs: object) -> object:
        if name == "av":
            raise ImportError("No module named 'av'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_av)
    with pytest.raises(TuiDjError) as caught:
        analyse(tmp_path / "x.mp3")
    assert str(caught.value) == AUDIO_EXTRA_HINT and "tui-dj[audio]" in str(caught.value)
