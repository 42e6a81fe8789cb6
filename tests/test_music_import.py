"""A generated music folder through `import_music`: rows, failures named, the cache on a re-scan
(unchanged, moved, changed, deleted files), worker processes, and ctrl-c keeping what was done."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from tests import audio_gen as gen
from tui_dj.catalog.model import FEATURES, META_COLUMNS
from tui_dj.catalog.music import MusicProgress, expand_provenance, import_music, local_track_id
from tui_dj.catalog.music.cache import MusicCache

gen.need_av()
pytest.importorskip("tinytag", reason="tinytag is not installed")


def _library(root: Path) -> Path:
    """Six songs in five formats (one untagged, one with a non-ASCII name) and one text file."""
    gen.tag_file(gen.write_audio(root / "Alpha" / "Beta" / "01 First.mp3", gen.song(120, 8, seed=1)),
                 title="First", artist="Alpha", album="Beta", genre="Rock/Pop", isrc="USABC1234567")
    gen.tag_file(gen.write_audio(root / "Alpha" / "Beta" / "02 Second.flac", gen.song(100, 8, seed=2)),
                 title="Second", artist="Alpha", album="Beta", genre="Jazz")
    gen.tag_file(gen.write_audio(root / "Gamma" / "third.m4a", gen.song(140, 8, seed=3)),
                 title="Third", artist="Gamma")
    gen.tag_file(gen.write_audio(root / "Gamma" / "fourth.ogg", gen.song(90, 8, seed=4)),
                 title="Fourth", artist="Gamma")
    gen.write_audio(root / "Björk – Jóga.opus", gen.song(95, 8, seed=5))
    gen.write_audio(root / "Delta" / "Epsilon" / "06 Sixth.wav", gen.song(110, 8, seed=6))
    (root / "Delta" / "Epsilon" / "07 Not music.mp3").write_text("not audio at all")
    return root


@pytest.fixture(scope="module")
def music_first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object, float]:
    base = tmp_path_factory.mktemp("music")
    root = _library(base / "Music")
    cache = base / "cache"
    start = time.perf_counter()
    result = import_music([root], cache_dir=cache, workers=2)
    return root, cache, result, time.perf_counter() - start


def test_rows_columns_and_provenance(music_first: tuple) -> None:
    root, _, result, _ = music_first
    tracks = result.tracks
    assert list(tracks.columns[: len(META_COLUMNS)]) == list(META_COLUMNS)
    assert {"path", "isrc"} <= set(tracks.columns)
    assert len(result) == 6 and result.raw.shape == (6, len(FEATURES)) and result.raw.dtype == np.float32
    assert result.provenance.shape == (6, len(FEATURES))
    assert set(expand_provenance(result.provenance).ravel()) <= {"measured", "estimated"}
    first = tracks[tracks["name"] == "First"].iloc[0]
    assert (first["artist"], first["album"], first["genres"], first["isrc"]) == ("Alpha", "Beta", "rock, pop", "USABC1234567")
    assert first["popularity"] == 0 and abs(first["duration_ms"] - 8000) < 100
    assert Path(first["path"]).is_absolute() and first["track_id"] == local_track_id(first["path"])
    joga = tracks[tracks["name"] == "Jóga"].iloc[0]
    assert joga["artist"] == "Björk"
    sixth = tracks[tracks["name"] == "Sixth"].iloc[0]
    assert (sixth["artist"], sixth["album"]) == ("Delta", "Epsilon")
    tempo = result.raw[:, FEATURES.index("tempo")]
    assert np.all((tempo >= 40) & (tempo <= 220))


def test_failures_counted_and_named(music_first: tuple) -> None:
    _, _, result, _ = music_first
    summary = result.summary
    assert summary["files"] == 7 and summary["analysed"] == 7 and summary["rows"] == 6
    assert [f["name"] for f in summary["failed"]] == ["07 Not music.mp3"]
    assert summary["failed"][0]["reason"]


def test_rescan_comes_from_the_cache_five_times_faster(music_first: tuple) -> None:
    root, cache, first, first_seconds = music_first
    start = time.perf_counter()
    again = import_music([root], cache_dir=cache, workers=2)
    seconds = time.perf_counter() - start
    assert again.summary["analysed"] == 0 and again.summary["from_cache"] == 7
    assert again.summary["failed"] == first.summary["failed"]
    np.testing.assert_array_equal(again.raw, first.raw)
    assert again.tracks.equals(first.tracks)
    assert seconds * 5 < first_seconds


def test_moved_changed_and_deleted_files(tmp_path: Path) -> None:
    root = tmp_path / "Music"
    for i, bpm in enumerate((100, 120, 140)):
        gen.tag_file(gen.write_audio(root / f"song{i}.flac", gen.clicks(bpm, 6)),
                     title=f"Song {i}", artist="A")
    cache = tmp_path / "cache"
    first = import_music([root], cache_dir=cache, workers=0)
    assert first.summary["analysed"] == 3

    (root / "moved").mkdir()
    shutil.move(root / "song0.flac", root / "moved" / "song0.flac")
    gen.write_audio(root / "song1.flac", gen.clicks(90, 6))  # changed: new size and mtime
    gen.tag_file(root / "song1.flac", title="Song 1", artist="A")
    (root / "song2.flac").unlink()

    second = import_music([root], cache_dir=cache, workers=0)
    summary = second.summary
    assert summary["files"] == 2 and summary["removed"] == 1 and summary["moved"] == 1
    assert summary["analysed"] == 1  # only the changed file; the moved one kept its analysis
    paths = sorted(Path(p).relative_to(root).as_posix() for p in second.tracks["path"])
    assert paths == ["moved/song0.flac", "song1.flac"]
    with MusicCache(cache) as stored:
        assert sorted(Path(p).relative_to(root).as_posix() for p in stored.entries()) == paths
    tempo = FEATURES.index("tempo")
    changed = second.raw[second.tracks["name"].tolist().index("Song 1"), tempo]
    assert abs(changed - 90) <= 2


def test_the_cache_keeps_every_folder_until_its_files_are_gone(tmp_path: Path) -> None:
    # One cache for every prep: scanning folder B (or a folder with no music) must not forget A.
    a, b, empty = tmp_path / "A", tmp_path / "B", tmp_path / "empty"
    for i, bpm in enumerate((100, 130)):
        gen.write_audio(a / f"a{i}.wav", gen.clicks(bpm, 4))
    gen.write_audio(b / "b0.wav", gen.clicks(120, 4))
    empty.mkdir()
    cache = tmp_path / "cache"
    assert import_music([a], cache_dir=cache, workers=0).summary["analysed"] == 2
    assert len(import_music([empty], cache_dir=cache, workers=0)) == 0
    assert import_music([b], cache_dir=cache, workers=0).summary["analysed"] == 1
    again = import_music([a], cache_dir=cache, workers=0).summary
    assert (again["analysed"], again["from_cache"], again["removed"]) == (0, 2, 0)
    with MusicCache(cache) as stored:
        assert sorted(Path(p).name for p in stored.entries()) == ["a0.wav", "a1.wav", "b0.wav"]

    # Only a file that is gone leaves the cache, whichever folder is scanned.
    (a / "a1.wav").unlink()
    later = import_music([b], cache_dir=cache, workers=0).summary
    assert (later["analysed"], later["moved"], later["removed"]) == (0, 0, 1)
    with MusicCache(cache) as stored:
        assert sorted(Path(p).name for p in stored.entries()) == ["a0.wav", "b0.wav"]


def test_interrupt_propagates_and_keeps_what_was_analysed(tmp_path: Path) -> None:
    root = tmp_path / "Music"
    for i in range(4):
        gen.write_audio(root / f"{i:02d} Song {i}.wav", gen.song(100 + 10 * i, 4, seed=i))
    cache = tmp_path / "cache"

    def stop_after_two(p: MusicProgress) -> None:
        if p.stage == "analysing" and p.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_music([root], cache_dir=cache, workers=2, progress=stop_after_two)
    again = import_music([root], cache_dir=cache, workers=0)
    assert again.summary["from_cache"] == 2 and again.summary["analysed"] == 2


def test_progress_reports_every_stage(tmp_path: Path) -> None:
    gen.write_audio(tmp_path / "Music" / "a.wav", gen.tone(1.0))
    seen: list[MusicProgress] = []
    import_music([tmp_path / "Music"], cache_dir=tmp_path / "cache", workers=0, progress=seen.append)
    assert [p.stage for p in seen] == ["scanning", "reading tags", "analysing"]
    assert seen[-1].done == seen[-1].total == 1 and seen[-1].current == "a.wav"


def test_missing_folder_is_one_sentence(tmp_path: Path) -> None:
    from tui_dj.errors import TuiDjError

    with pytest.raises(TuiDjError, match="does not exist"):
        import_music([tmp_path / "nowhere"], cache_dir=tmp_path / "cache")


def test_catalog_from_the_import(music_first: tuple) -> None:
    _, _, result, _ = music_first
    catalog = result.to_catalog()
    assert len(catalog) == len(result)
    np.testing.assert_allclose(catalog.raw_features(), result.raw, rtol=1e-4, atol=1e-3)
    assert os.fspath(result.tracks["path"].iloc[0])


def test_music_and_playback_import_nothing_heavy() -> None:
    # Library code: no UI, no torch; decoders and players load only when a file needs them.
    import subprocess
    import sys

    code = ("import sys, tui_dj.catalog.music, tui_dj.playback\n"
            "print(' '.join(m for m in ('rich', 'textual', 'torch', 'av', 'mpv', 'miniaudio', 'scipy')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []
