"""`tui-dj prep` of music folders, one after another into one data folder: the music cache keeps
every folder (a refused prep or another folder's forgets none), and the summary says what moved and
why a file was left out. Audio generated here; skipped without the audio extra."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.audio_gen import need_av, song, write_audio
from tests.clirun import run_cli


def _row(stdout: str, label: str) -> int:
    """The number in the summary's row `label`."""
    found = re.search(rf"{re.escape(label)}\s*│\s*([\d,]+)", stdout)
    assert found, f"no row {label!r} in:\n{stdout}"
    return int(found.group(1).replace(",", ""))


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A (three songs and a text file posing as an mp3), B (one song), and a folder with no music."""
    need_av()
    a, b, empty = tmp_path / "A", tmp_path / "B", tmp_path / "empty"
    for i, bpm in enumerate((96, 120, 140)):
        write_audio(a / f"0{i + 1} Tune {i}.wav", song(bpm, 1.5, seed=i))
    (a / "notes.mp3").write_text("this is not audio")
    write_audio(b / "other.wav", song(108, 1.5, seed=9))
    (empty / "readme.txt").parent.mkdir(parents=True)
    (empty / "readme.txt").write_text("no music here")
    return a, b, empty


def test_the_cache_serves_every_folder_prepped(folders: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, empty = folders
    data = tmp_path / "data"

    def prep(folder: Path) -> tuple[int, str, str]:
        return run_cli("prep", folder, "--out", tmp_path / f"out-{folder.name}", "--data-dir", data)

    code, stdout, stderr = prep(a)
    assert code == 0, stderr
    assert (_row(stdout, "analysed now"), _row(stdout, "from the cache (unchanged)")) == (4, 0)
    # The file left out is named with the reason.
    assert re.search(r"notes\.mp3: not a readable audio file", stderr), stderr

    code, stdout, stderr = prep(empty)
    assert code == 1 and stdout == ""
    assert stderr.startswith("tui-dj: No playable music files were found")  # no blank lines first
    assert stderr.count("\n") == 1

    code, stdout, stderr = prep(b)
    assert code == 0, stderr
    assert _row(stdout, "analysed now") == 1

    code, stdout, stderr = prep(a)
    assert code == 0, stderr
    assert (_row(stdout, "analysed now"), _row(stdout, "from the cache (unchanged)")) == (0, 4)  # the bad file too

    # A song moved inside A keeps its analysis, and the summary says so.
    (a / "moved").mkdir()
    shutil.move(a / "01 Tune 0.wav", a / "moved" / "01 Tune 0.wav")
    code, stdout, stderr = prep(a)
    assert code == 0, stderr
    assert (_row(stdout, "analysed now"), _row(stdout, "moved (analysis kept)")) == (0, 1)
