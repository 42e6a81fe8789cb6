"""`tui-dj prep` with files: a summary on success; on bad input one sentence, exit 1, nothing lost."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_dj.catalog import builtin_catalog, load_catalog, save_catalog
from tui_dj.catalog.model import FEATURES
from tui_dj.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _prep(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["prep", *map(str, args)])
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, str]:
    """An existing processed catalog that a failed prep must leave exactly as it was."""
    out = tmp_path / "processed"
    catalog = builtin_catalog(200, seed=5)
    save_catalog(catalog, out)
    return out, catalog.fingerprint


def _assert_refused(code: int, stdout: str, stderr: str, *expected: str) -> None:
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tui-dj: ")
    assert "Traceback" not in stderr + stdout
    for text in expected:
        assert text in lines[0]


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


BAD_INPUTS = {
    "empty": (b"", "is empty"),
    "blank": (b"\n \r\n\t\n", "is empty"),
    "binary": (bytes(range(256)) * 40, "binary file"),
    "random_bytes": (bytes((i * 97 + 13) % 256 for i in range(5000)).replace(b"\x00", b"\x01"), "binary file"),
    "json_object": (json.dumps({"tracks": [{"id": "x", "energy": 0.5}]}).encode(), "is JSON, not CSV"),
    "json_list": (b' [\n {"track_id": "1"}\n]', "is JSON, not CSV"),
    "zip": (None, "ZIP archive"),
    "no_columns": (b"date,amount,payee\n2024-01-01,12.50,Shop\n", "nearest known format"),
    "header_only": (b"track_id,track_name,artist_name," + ",".join(FEATURES).encode() + b"\n", "no rows"),
    "unterminated_quote": (b"a,b\n\"x" + b"y" * 5000, "nearest known format"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_file_is_refused_in_one_sentence_and_the_old_catalog_survives(
    tmp_path: Path, previous: tuple[Path, str], kind: str
) -> None:
    data, expected = BAD_INPUTS[kind]
    path = tmp_path / f"{kind}.csv"
    if data is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("songs.csv", "a,b\n1,2\n")
    else:
        path.write_bytes(data)
    out, fingerprint = previous
    _assert_refused(*_prep(path, "--out", out), str(path), expected)
    assert load_catalog(out).fingerprint == fingerprint


def test_missing_file(tmp_path: Path, previous: tuple[Path, str]) -> None:
    out, fingerprint = previous
    _assert_refused(*_prep(tmp_path / "nope.csv", "--out", out), "nope.csv does not exist")
    assert load_catalog(out).fingerprint == fingerprint


def test_a_folder_given_as_a_file(tmp_path: Path, previous: tuple[Path, str]) -> None:
    out, fingerprint = previous
    # A folder is a music folder now: one with no music in it says what was looked for.
    _assert_refused(*_prep(tmp_path, "--out", out), "No playable music files were found", "pass a CSV by its file name")
    assert load_catalog(out).fingerprint == fingerprint


def test_none_of_the_required_columns_names_them(tmp_path: Path, previous: tuple[Path, str]) -> None:
    path = _write(tmp_path, "bank.csv", "date,amount,payee\n2024-01-01,12.50,Shop\n")
    code, stdout, stderr = _prep(path, "--out", previous[0])
    _assert_refused(code, stdout, stderr, "track_id", "danceability", "found: date, amount, payee",
                    "nearest known format is")


def test_every_row_unusable(csv_file, csv_songs, previous: tuple[Path, str]) -> None:
    songs = [dict(s, **{f: "" for f in FEATURES}) for s in csv_songs(5)]
    out, fingerprint = previous
    _assert_refused(*_prep(csv_file("kaggle", songs), "--out", out), "None of the 5 rows", "no audio features")
    assert load_catalog(out).fingerprint == fingerprint


def test_legacy_exportify_without_features(csv_file, csv_songs, previous: tuple[Path, str]) -> None:
    out, fingerprint = previous
    path = csv_file("exportify_legacy_no_features", csv_songs(3))
    _assert_refused(*_prep(path, "--out", out), "Exportify export without audio features", "re-export")
    assert load_catalog(out).fingerprint == fingerprint


def test_one_bad_file_among_good_ones_stops_before_any_work(csv_file, tmp_path: Path, previous: tuple[Path, str]) -> None:
    out, fingerprint = previous
    good = csv_file("kaggle")
    bad = _write(tmp_path, "bad.json", "[]")
    _assert_refused(*_prep(good, bad, "--out", out), "bad.json is JSON")
    assert load_catalog(out).fingerprint == fingerprint


def test_output_under_a_regular_file_is_unwritable(csv_file, tmp_path: Path) -> None:
    blocker = _write(tmp_path, "not-a-folder", "x")
    _assert_refused(*_prep(csv_file("kaggle"), "--out", blocker / "processed"), "Cannot write the catalog")
    assert blocker.read_text() == "x"


def test_output_that_is_a_file(csv_file, tmp_path: Path) -> None:
    target = _write(tmp_path, "catalog", "precious")
    _assert_refused(*_prep(csv_file("kaggle"), "--out", target), "it is a file, not a folder")
    assert target.read_text() == "precious"


def test_output_folder_with_other_files_is_not_replaced(csv_file, tmp_path: Path) -> None:
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "song.mp3").write_bytes(b"ID3")
    _assert_refused(*_prep(csv_file("kaggle"), "--out", folder), "not a tui-dj catalog")
    assert (folder / "song.mp3").read_bytes() == b"ID3"


def test_refused_write_mid_save_keeps_the_old_catalog(csv_file, previous: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores chmod, so a folder the OS will not write into is simulated at the rename.
    out, fingerprint = previous

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    _assert_refused(*_prep(csv_file("kaggle"), "--out", out), "Permission denied", "unchanged")
    monkeypatch.undo()
    assert load_catalog(out).fingerprint == fingerprint


def test_success_prints_formats_counts_and_replaces_the_catalog(csv_file, csv_songs, previous: tuple[Path, str]) -> None:
    out, fingerprint = previous
    songs = csv_songs(6)
    code, stdout, stderr = _prep(csv_file("tidytuesday", songs + songs[:2]), csv_file("exportify", songs[4:]),
                                 "--out", out)
    assert code == 0, stderr
    assert "tidytuesday.csv: TidyTuesday spotify_songs" in stdout
    assert "exportify.csv: Exportify" in stdout
    assert "duplicate rows merged" in stdout and "songs kept" in stdout
    assert f"Saved the catalog to {out}" in stderr
    loaded = load_catalog(out)
    assert len(loaded) == 6 and loaded.fingerprint != fingerprint


def test_placeholder_readme_in_the_output_folder_is_kept(csv_file, tmp_path: Path) -> None:
    out = tmp_path / "data" / "processed"
    out.mkdir(parents=True)
    (out / "README.md").write_text("processed catalogs go here\n")
    for _ in range(2):
        code, _, stderr = _prep(csv_file("kaggle"), "--out", out)
        assert code == 0, stderr
        assert (out / "README.md").read_text() == "processed catalogs go here\n"
    assert len(load_catalog(out)) == 20


def test_files_and_synthetic_together_are_refused(csv_file, tmp_path: Path) -> None:
    _assert_refused(*_prep(csv_file("kaggle"), "--synthetic", "10", "--out", tmp_path / "o"), "not both")


def test_real_entry_point_prints_no_traceback(tmp_path: Path, previous: tuple[Path, str]) -> None:
    out, fingerprint = previous
    bad = _write(tmp_path, "binary.csv", bytes(range(256)))
    proc = subprocess.run([sys.executable, "-m", "tui_dj", "prep", str(bad), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"tui-dj: {bad} is a binary file, not a CSV file."
    assert load_catalog(out).fingerprint == fingerprint


@pytest.mark.parametrize("name", ["spotify_songs_tidytuesday.csv", "SpotifyFeatures_first20k.csv",
                                  "exportify_liked_songs.csv"])
def test_real_files_through_the_command(csv_real_data: Path, tmp_path: Path, name: str) -> None:
    code, stdout, stderr = _prep(csv_real_data / name, "--out", tmp_path / "out")
    assert code == 0, stderr
    manifest = load_catalog(tmp_path / "out").manifest
    expected = {"spotify_songs_tidytuesday.csv": ("tidytuesday", 32_833),
                "SpotifyFeatures_first20k.csv": ("kaggle", 19_829),
                "exportify_liked_songs.csv": ("exportify", 2_701)}[name]
    assert (manifest["schema"], manifest["rows_read"]) == expected
    assert f"{expected[1]:,}" in stdout
    if name.startswith("SpotifyFeatures"):
        assert "dropped: truncated last line" in stdout


@pytest.mark.parametrize("n", [1, 2])
def test_a_catalog_of_one_or_two_songs_is_kept_with_a_warning(csv_file, csv_songs, tmp_path: Path, n: int) -> None:
    out = tmp_path / "out"
    code, _, stderr = _prep(csv_file("exportify", csv_songs(n)), "--out", out)
    assert code == 0, stderr
    assert len(load_catalog(out)) == n
    warning = next(line for line in stderr.splitlines() if "only" in line)
    assert f"This catalog has only {n} {'song' if n == 1 else 'songs'}:" in warning and "nothing to play" in warning
    assert f"`tui-dj prep --add FILES --out {out}`" in warning  # the advice writes where this prep did


def test_add_merges_new_songs_into_the_catalog_and_a_song_in_both_keeps_its_genres(
        csv_file, csv_songs, tmp_path: Path) -> None:
    out = tmp_path / "out"
    songs = csv_songs(8)
    assert _prep(csv_file("tidytuesday", songs[:5], name="first.csv"), "--out", out)[0] == 0
    # Songs 3 and 4 again (another genre), and three new ones; the catalog read back from disk
    # holds its strings as Arrow large strings, which the merge of genres must take.
    again = [dict(s, genre="jazz") for s in songs[3:5]] + songs[5:]
    code, _, stderr = _prep("--add", csv_file("tidytuesday", again, name="second.csv"), "--out", out)
    assert code == 0, stderr
    assert "5 songs before, 8 now" in stderr
    merged = load_catalog(out)
    assert len(merged) == 8
    genres = set(merged.track(merged.index_of(songs[3]["id"])).genres)  # type: ignore[arg-type]
    assert {songs[3]["genre"], "jazz"} <= genres


def test_force_advice_names_the_folder_it_was_given(csv_file, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _prep(csv_file("kaggle"), "--out", out)[0] == 0
    code, stdout, stderr = _prep("--out", out)
    _assert_refused(code, stdout, stderr, f"`tui-dj prep --force --out {out}`")
    assert _prep("--force", "--out", out)[0] == 0
    assert load_catalog(out).manifest.get("schema") == "synthetic"
