"""`tui-dj history`, `export` and `locate`: what they print, and one sentence when input is bad."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tui_dj.catalog import builtin_catalog
from tui_dj.store import HistoryStore
from tui_dj.store.export import EXPORTIFY_HEADER


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    catalog = builtin_catalog(50)
    with HistoryStore.open(tmp_path) as store:
        session = store.start_session("ana", catalog.name, "default")
        for i, kind in enumerate(["like", "skip", "like", "dislike"]):
            track = catalog.track(i)
            store.add_event(profile="ana", session=session, kind="play", track=track, reward=None)
            store.add_event(profile="ana", session=session, kind=kind, track=track, reward=1.0)
        store.end_session(session)
        store.start_session("bob", catalog.name, "default")
    return tmp_path


def test_history_lists_sessions(data: Path) -> None:
    code, out, _ = run_cli("history", "--data-dir", str(data))
    assert code == 0
    assert "ana" in out and "bob" in out
    code, out, _ = run_cli("history", "--profile", "ana", "--data-dir", str(data))
    assert code == 0 and "ana" in out and "bob" not in out
    assert re.search(r"ana\s+│\s+4\s+│\s+2\s+│\s+0\s+│\s+1\s+│\s+1", out)


def test_history_headers_are_whole_at_80_columns(data: Path) -> None:
    code, out, _ = run_cli("history", "--data-dir", str(data), columns=80)
    assert code == 0
    header = next(line for line in out.splitlines() if "started" in line)
    assert re.findall(r"[a-z]+", header) == ["started", "min", "profile", "songs", "likes", "finish", "skips",
                                             "dislikes", "reward"], header
    assert max(len(line) for line in out.splitlines()) <= 80


def test_history_with_no_data_says_so(tmp_path: Path) -> None:
    code, out, _ = run_cli("history", "--data-dir", str(tmp_path / "none"))
    assert code == 0 and "No sessions yet" in out
    assert not (tmp_path / "none").exists()


def test_export_csv_and_m3u(data: Path, tmp_path: Path) -> None:
    code, out, _ = run_cli("export", "--profile", "ana", "--data-dir", str(data))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == EXPORTIFY_HEADER and len(rows) == 3
    target = tmp_path / "out" / "liked.m3u"
    code, _, err = run_cli("export", "-p", "ana", "--format", "m3u", "--out", str(target), "--data-dir", str(data))
    assert code == 0 and "Wrote 2 liked songs" in err
    assert target.read_text().startswith("#EXTM3U\n")


@pytest.mark.parametrize("args", [["export", "--profile", "../../etc"], ["history", "--profile", "a/b"],
                                  ["export", "--format", "xlsx"], ["export", "--profile", "nobody"]])
def test_bad_input_is_one_sentence(args: list[str], data: Path) -> None:
    code, out, err = run_cli(*args, "--data-dir", str(data))
    assert code == 1
    assert err.startswith("tui-dj: ") and err.count("\n") == 1 and "Traceback" not in err + out


def test_locate_prints_where_things_are(data: Path) -> None:
    code, out, _ = run_cli("locate", "--data-dir", str(data))
    assert code == 0
    assert str(data / "history.sqlite3") in out
    assert str(data / "profiles") in out
    assert "default model" in out


def test_an_unexpected_error_is_one_sentence_and_a_logged_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A bug is not bad input, but the person still gets one sentence; the traceback goes to the log."""
    import sys

    from tui_dj import cli
    from tui_dj.store import profiles

    monkeypatch.setenv("TUI_DJ_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["tui-dj", "locate"])
    monkeypatch.setattr(profiles, "history_db", lambda base: 1 / 0)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err.count("\n") == 1 and "unexpected error (ZeroDivisionError" in err and "Traceback" not in err
    log = tmp_path / "logs" / "errors.log"
    assert "Traceback" in log.read_text() and "ZeroDivisionError" in log.read_text()
