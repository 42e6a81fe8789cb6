"""Every error that suggests a command suggests one that works: each case below brings the error
about, takes the `tui-dj …` command out of its sentence, runs it as a person would (in a folder of
its own; `play` in a terminal), and checks that it succeeds and that it did what the error wanted.

The messages covered: a catalog that is not one (a CSV file, a missing, empty, damaged or other
folder, a folder of CSV files) for play, train and evaluate; prep replacing an imported catalog;
train over an existing run, and train interrupted; a model trained with other inputs; export of a
profile with no liked songs.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import run_cli, run_in_terminal
from tui_dj.catalog import builtin_catalog, chosen_catalog_dir, load_catalog, save_catalog
from tui_dj.catalog.model import TRACKS_FILE
from tui_dj.paths import PROCESSED_DIR

COMMAND = re.compile(r"`(tui-dj [^`]+)`")


def _error(code: int, stdout: str, stderr: str) -> str:
    """The one sentence an error printed (after any progress output)."""
    assert code == 1, stdout + stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("tui-dj: ") and "Traceback" not in stderr, stderr
    return line


def _runnable(sentence: str) -> list[str]:
    """The commands in a sentence that can be typed as they are (no FILES-style placeholder)."""
    commands = [c for c in COMMAND.findall(sentence) if not re.search(r"\b[A-Z]{3,}\b", c)]
    assert commands, f"no command to follow in: {sentence}"
    return commands


def _follow(command: str, cwd: Path, data: Path) -> None:
    """Run a suggested command as typed; train is shortened to a few sessions (the advice is about
    what to run, not for how long), play runs in a terminal: a like, then q."""
    args = shlex.split(command)[1:]
    if args[0] == "play":
        code, out = run_in_terminal(*args, "--data-dir", data, cwd=cwd, steps=[("plays 1", b"l"), ("♥ liked", b"q")])
        assert code == 0, out[-2000:]
        return
    if args[0] == "train" and "--resume" not in args:
        args += ["--episodes", "2", "--no-chart"]
    code, stdout, stderr = run_cli(*args)
    assert code == 0, f"`{command}` failed: {stderr}"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of its own to work in, as `tui-dj` is run from a project folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _songs_csv(csv_file: Callable[..., Path], csv_songs: Callable[..., list], name: str, n: int = 120) -> Path:
    return csv_file("exportify", csv_songs(n), name=name)


def _uses_processed() -> None:
    assert chosen_catalog_dir(None) == PROCESSED_DIR
    assert len(load_catalog(PROCESSED_DIR)) > 0


@pytest.mark.parametrize("command", ["play", "train", "evaluate"])
def test_a_csv_file_given_as_the_catalog(here: Path, csv_file, csv_songs, command: str) -> None:
    csv = _songs_csv(csv_file, csv_songs, "Acoustic.csv").relative_to(here)
    sentence = _error(*run_cli(command, "--catalog", csv, *(["--data-dir", "d"] if command == "play" else [])))
    assert _runnable(sentence) == ["tui-dj prep Acoustic.csv"], sentence
    _follow("tui-dj prep Acoustic.csv", here, here / "d")
    _uses_processed()
    assert len(load_catalog(PROCESSED_DIR)) == 120


@pytest.mark.parametrize("kind", ["missing", "empty", "damaged"])
def test_a_catalog_folder_that_is_missing_empty_or_damaged(here: Path, kind: str) -> None:
    folder = Path("mine")
    if kind == "empty":
        folder.mkdir()
    elif kind == "damaged":
        save_catalog(builtin_catalog(200), folder)
        data = (folder / TRACKS_FILE).read_bytes()
        (folder / TRACKS_FILE).write_bytes(data[: len(data) // 2])
    sentence = _error(*run_cli("evaluate", "--catalog", folder))
    [command] = _runnable(sentence)
    assert command == "tui-dj prep --out mine", sentence
    _follow(command, here, here / "d")
    assert len(load_catalog(folder)) == 3000  # now --catalog mine works


def test_a_folder_of_csv_files_given_as_the_catalog(here: Path, csv_file, csv_songs) -> None:
    exports = Path("exports")
    exports.mkdir()
    for seed, name in enumerate(("a.csv", "b.csv")):
        (exports / name).write_bytes(csv_file("exportify", csv_songs(70, seed), name=name).read_bytes())
    sentence = _error(*run_cli("train", "--catalog", exports))
    [command] = _runnable(sentence)
    assert command == "tui-dj prep exports/a.csv exports/b.csv", sentence
    _follow(command, here, here / "d")
    _uses_processed()
    assert len(load_catalog(PROCESSED_DIR)) == 140


def test_a_folder_that_holds_something_else(here: Path) -> None:
    Path("notes").mkdir()
    (Path("notes") / "todo.md").write_text("buy milk\n")
    sentence = _error(*run_cli("play", "--catalog", "notes", "--data-dir", "d"))
    [command] = _runnable(sentence)
    assert command == "tui-dj prep", sentence
    _follow(command, here, here / "d")
    _uses_processed()
    # With a catalog in data/processed, the advice is to use it.
    sentence = _error(*run_cli("play", "--catalog", "notes", "--data-dir", "d"))
    assert "leave out --catalog to use the one in data/processed" in sentence


def test_prep_of_the_built_in_catalog_over_an_imported_one(here: Path, csv_file, csv_songs) -> None:
    csv = _songs_csv(csv_file, csv_songs, "mine.csv")
    assert run_cli("prep", csv, "--out", "out")[0] == 0
    sentence = _error(*run_cli("prep", "--out", "out"))
    [command] = _runnable(sentence)
    assert command == "tui-dj prep --force --out out", sentence
    _follow(command, here, here / "d")
    assert load_catalog(Path("out")).manifest["schema"] == "synthetic"


def _imported_processed(csv_file: Callable[..., Path], csv_songs: Callable[..., list]) -> None:
    """An imported catalog in data/processed: the default of every command, unless told --builtin."""
    assert run_cli("prep", _songs_csv(csv_file, csv_songs, "mine.csv"))[0] == 0
    _uses_processed()


def test_train_over_an_existing_run(here: Path, csv_file, csv_songs) -> None:
    assert run_cli("train", "--builtin", "--episodes", "2", "--no-chart", "--out", "run")[0] == 0
    _imported_processed(csv_file, csv_songs)  # so a hint that forgot --builtin would fail
    sentence = _error(*run_cli("train", "--builtin", "--episodes", "2", "--no-chart", "--out", "run"))
    assert "(2 of 2 sessions)" in sentence
    resume, restart = _runnable(sentence)
    assert (resume, restart) == ("tui-dj train --builtin --out run --resume",
                                 "tui-dj train --builtin --out run --restart"), sentence
    _follow(restart, here, here / "d")
    log = (Path("run") / "logs" / "train.jsonl").read_text().splitlines()
    assert len(log) == 2  # started over: nothing of the first run kept
    code, _, stderr = run_cli(*shlex.split(resume)[1:], "--episodes", "3", "--no-chart")
    assert code == 0, stderr
    assert len((Path("run") / "logs" / "train.jsonl").read_text().splitlines()) == 3


def test_resume_of_a_finished_run_says_it_is_finished(here: Path) -> None:
    assert run_cli("train", "--builtin", "--episodes", "2", "--no-chart", "--out", "run")[0] == 0
    code, _, stderr = run_cli("train", "--builtin", "--out", "run", "--resume", "--no-chart")
    assert code == 0, stderr
    assert "The run in run is finished (2 sessions): nothing to do" in stderr
    assert "Trained 0 sessions" not in stderr
    [restart] = _runnable(stderr)
    assert restart == "tui-dj train --builtin --out run --restart"


def test_the_model_a_run_made_plays_on_its_catalog(here: Path, csv_file, csv_songs) -> None:
    _imported_processed(csv_file, csv_songs)
    code, _, stderr = run_cli("train", "--builtin", "--episodes", "2", "--no-chart", "--out", "run")
    assert code == 0, stderr
    [command] = _runnable(stderr)
    assert command == "tui-dj play --builtin --model run/dqn.pt", stderr
    _follow(command, here, here / "d")


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_catalog_too_small_names_the_built_in_one(here: Path, csv_file, csv_songs, command: str) -> None:
    assert run_cli("prep", csv_file("exportify", csv_songs(20), name="few.csv"))[0] == 0
    extra = ["--episodes", "2", "--out", "run", "--no-chart"] if command == "train" else ["--sessions", "2", "--seeds", "1"]
    sentence = _error(*run_cli(command, *extra))
    assert "too small" in sentence and "--builtin" in sentence, sentence
    code, _, stderr = run_cli(command, "--builtin", *extra)
    assert code == 0, stderr


def test_train_interrupted_after_a_checkpoint(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tui_dj.learn.train as training

    real = training.train

    def interrupted(*args, on_progress=None, **kwargs):  # type: ignore[no-untyped-def]
        def progress(p):  # type: ignore[no-untyped-def]
            if on_progress is not None:
                on_progress(p)
            if p.episode >= 3:
                raise KeyboardInterrupt

        return real(*args, on_progress=progress, **kwargs)

    Path("run.toml").write_text("episodes = 6\ncheckpoint_every = 2\n")
    monkeypatch.setattr(training, "train", interrupted)
    code, _, stderr = run_cli("train", "--builtin", "--config", "run.toml", "--no-chart", "--out", "run")
    monkeypatch.setattr(training, "train", real)
    assert code == 130, stderr
    sentence = stderr.strip().splitlines()[-1]
    assert "the checkpoint after 2 sessions is kept" in sentence
    [command] = _runnable(sentence)
    assert command == "tui-dj train --builtin --out run --resume", sentence
    _follow(command, here, here / "d")
    last = (Path("run") / "logs" / "train.jsonl").read_text().strip().splitlines()[-1]
    assert '"episode": 5,' in last  # the run went on from its checkpoint to the end


def test_a_model_trained_with_other_inputs(here: Path) -> None:
    import torch

    from tui_dj.learn.model_file import default_model_path

    state = torch.load(default_model_path(), map_location="cpu", weights_only=True)
    state["obs_dim"] = 3
    torch.save(state, "old.pt")
    sentence = _error(*run_cli("evaluate", "--builtin", "--model", "old.pt", "--sessions", "2", "--seeds", "1"))
    [command] = _runnable(sentence)
    assert command == "tui-dj train", sentence
    _follow(command, here, here / "d")
    assert Path("models/dqn.pt").is_file()  # which evaluate and `play --model models/dqn.pt` take


def test_export_of_a_profile_with_no_liked_songs(here: Path) -> None:
    from tui_dj.session import open_session

    data = here / "d"
    with open_session(catalog=builtin_catalog(300), data_dir=data, profile="ana", seed=1) as session:
        session.start()
    sentence = _error(*run_cli("export", "--profile", "ana", "--data-dir", data))
    [command] = _runnable(sentence)
    assert command == "tui-dj play --profile ana", sentence
    _follow(command, here, data)
    code, stdout, stderr = run_cli("export", "--profile", "ana", "--data-dir", data)
    assert code == 0, stderr
    assert len(stdout.strip().splitlines()) == 2  # the header and the one song liked
