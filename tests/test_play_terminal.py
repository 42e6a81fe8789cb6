"""`tui-dj play` in a real (pseudo-)terminal: what it says when the console closes, however it
closes, and that the model `tui-dj train` writes is the one it plays."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.clirun import run_cli, run_in_terminal
from tui_dj.catalog import builtin_catalog, save_catalog
from tui_dj.store import open_history

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    save_catalog(builtin_catalog(300, seed=2), folder)
    return folder


def _likes(data: Path, profile: str = "default") -> int:
    with open_history(data) as store:
        assert store is not None
        return [e.kind for e in store.events(profile, 50)].count("like")


@pytest.mark.parametrize("quit_key", [b"q", b"\x03"], ids=["q", "ctrl-c"])
def test_the_console_closes_saving_and_says_what_was_kept(tmp_path: Path, catalog: Path, quit_key: bytes) -> None:
    data = tmp_path / "data"
    code, out = run_in_terminal("play", "--data-dir", data, "--catalog", catalog, cwd=tmp_path,
                                steps=[("plays 1", b"l"), ("♥ liked", quit_key)])
    assert code == 0, out[-2000:]
    after = out[out.rindex("♥ liked"):]
    assert after.count("Saved profile") == 1
    assert f"Saved profile 'default' (its model and listening history) in {data}." in after
    assert "Traceback" not in out
    assert _likes(data) == 1


def test_play_with_the_model_train_wrote(tmp_path: Path, catalog: Path) -> None:
    code, _, stderr = run_cli("train", "--catalog", catalog, "--episodes", "3", "--no-chart", "--out",
                              tmp_path / "models")
    assert code == 0, stderr
    suggested = re.search(r"`tui-dj (play [^`]+)`", stderr)
    assert suggested, stderr
    args = shlex.split(suggested.group(1))
    assert args[1:3] == ["--catalog", str(catalog)]  # the catalog it was trained on, as typed
    data = tmp_path / "data"
    code, out = run_in_terminal(*args, "--data-dir", data, cwd=tmp_path,
                                steps=[("plays 1", b"l"), ("♥ liked", b"q")])
    assert code == 0, out[-2000:]
    assert "model: models/dqn.pt" in out or f"model: {tmp_path / 'models' / 'dqn.pt'}" in out
    assert "Saved profile 'default'" in out


def test_a_keyboard_interrupt_reaching_main_is_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import tui_dj.cli as cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tui-dj: interrupted; nothing already saved was changed."]


def test_builtin_plays_the_built_in_catalog_even_beside_an_imported_one(tmp_path: Path, catalog: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_dj.session.checks import check_play_options

    save_catalog(builtin_catalog(300, seed=2), tmp_path / "data" / "processed")
    monkeypatch.chdir(tmp_path)
    assert check_play_options(None, None, "default") == Path("data/processed")
    assert check_play_options(None, None, "default", builtin=True) is None
    assert check_play_options(catalog, None, "default", builtin=True) is None
    code, stdout, _ = run_cli("play", "--help")
    assert code == 0 and "--builtin" in stdout


def test_play_start_begins_with_the_named_artist_and_a_name_that_is_nothing_is_one_sentence(
        tmp_path: Path, catalog: Path) -> None:
    artist = builtin_catalog(300, seed=2).tracks["artist"].iloc[7]
    data = tmp_path / "data"
    code, out = run_in_terminal("play", "--data-dir", data, "--catalog", catalog, "--start", artist,
                                cwd=tmp_path, steps=[("plays 1", b"q")])
    assert code == 0, out[-2000:]
    with open_history(data) as store:
        assert store is not None
        first = [e for e in store.events("default", 50) if e.kind == "choose"]
    assert len(first) == 1 and first[0].artist == artist
    code, out = run_in_terminal("play", "--data-dir", data, "--catalog", catalog, "--start", "zzqx nothing",
                                cwd=tmp_path, steps=[])
    assert code == 1 and "Nothing in this catalog is called 'zzqx nothing'" in out and "Traceback" not in out
