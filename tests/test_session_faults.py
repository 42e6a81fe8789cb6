"""A session survives `kill -9` and a full disk: the history stays whole, the model loads."""

from __future__ import annotations

import errno
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults import FaultySQLite, repeats
from tui_dj import open_session
from tui_dj.catalog import builtin_catalog
from tui_dj.learn import model_file
from tui_dj.learn.model_file import load_agent
from tui_dj.session import Session

SMALL = builtin_catalog(400)

# The child streams reactions through the Python API and prints each one once its call has
# returned, i.e. once it is acknowledged; it saves the model after every reaction (autosave 0 s),
# so kills also land in the middle of model writes.
CHILD = """
import sys
from tui_dj import open_session
from tui_dj.catalog import builtin_catalog
s = open_session(catalog=builtin_catalog(400), profile="ana", data_dir=sys.argv[1], seed=int(sys.argv[2]),
                 autosave_s=0.0)
print("READY", flush=True)
calls = [lambda: s.react("like"), lambda: s.react("skip"), lambda: s.song_finished(), lambda: s.react("dislike")]
view = s.start()
i = 0
while True:
    view = calls[i % 4]()
    print("ACK", view.learned.track.track_id, view.learned.reaction, flush=True)
    if i % 4 == 0:
        view = s.react("skip")  # after the like: the next song (the like stands)
    i += 1
"""


def _kill_once(data: Path, seed: int, rng: random.Random) -> list[tuple[str, str]]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    assert ready.startswith("READY"), proc.stderr.read() if proc.stderr else ready
    first = proc.stdout.readline()  # the kill comes after a first acknowledgement, never before
    assert first.startswith("ACK "), proc.stderr.read() if proc.stderr else first
    time.sleep(rng.uniform(0.0, 0.8))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    acked = [tuple(line.split()[1:3]) for line in [first, *out.splitlines()] if line.startswith("ACK ")]
    assert acked, "the child acknowledged nothing before it was killed"
    return acked  # type: ignore[return-value]


def _check_after_kill(data: Path, acked_total: list[tuple[str, str]]) -> None:
    conn = sqlite3.connect(data / "history.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = conn.execute("SELECT track_id, kind FROM events WHERE kind != 'play' ORDER BY id").fetchall()
    finally:
        conn.close()
    # Every acknowledged feedback is there, in order (at most one unacknowledged one more).
    assert stored[: len(acked_total)] == acked_total
    assert len(stored) - len(acked_total) <= 1
    model = data / "profiles" / "ana" / "model.pt"
    if model.exists():
        load_agent(model)


def _kill_repeatedly(tmp_path: Path, times: int) -> tuple[int, int]:
    data = tmp_path / "data"
    rng = random.Random(7)
    acked_total: list[tuple[str, str]] = []
    for i in range(times):
        acked = _kill_once(data, i, rng)
        acked_total += acked
        _check_after_kill(data, acked_total)
        # What one unacknowledged event may have added is counted from the database from now on.
        conn = sqlite3.connect(data / "history.sqlite3")
        acked_total = [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT track_id, kind FROM events WHERE kind != 'play' ORDER BY id").fetchall()]
        conn.close()
    # The profile opens again: the dead holders' locks went with them.
    with open_session(catalog=SMALL, profile="ana", data_dir=data, seed=0) as s:
        assert not s.read_only
    return times, len(acked_total)


def test_kill_during_feedback_quick(tmp_path: Path) -> None:
    kills, events = _kill_repeatedly(tmp_path, 2)
    print(f"session killed {kills} times; {events} acknowledged feedback events all present")


@pytest.mark.slow
def test_kill_during_feedback_repeated(tmp_path: Path) -> None:
    kills, events = _kill_repeatedly(tmp_path, repeats(20, 5))
    print(f"session killed {kills} times; {events} acknowledged feedback events all present")
    assert events > kills


def _enospc(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_while_saving_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0)
    s.start()
    s.react("like")
    assert s.save()
    model = tmp_path / "profiles" / "ana" / "model.pt"
    before = model.read_bytes()
    monkeypatch.setattr(model_file.torch_format, "write", _enospc)
    monkeypatch.setattr("tui_dj.session.saving.RETRY_S", 0.0)
    s.autosave_s = 0.0
    s.react("skip")  # the like stands; the next song
    s.react("skip")  # autosave fails here: the session carries on
    assert s.warning is not None and "No space left on device" in s.warning and "previous file is unchanged" in s.warning
    assert model.read_bytes() == before
    assert [p.name for p in model.parent.iterdir() if p.name.startswith(".")] == []
    s.song_finished()
    monkeypatch.undo()
    s.react("like")  # the retry succeeds once there is space
    assert s.warning is None
    s.close()
    _, meta = load_agent(model)
    assert meta["reactions"] == 4


def test_full_disk_on_close_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_dj.errors import TuiDjError

    s = open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0)
    s.start()
    s.react("like")
    monkeypatch.setattr(model_file.torch_format, "write", _enospc)
    with pytest.raises(TuiDjError, match="No space left") as err:
        s.close()
    assert "\n" not in str(err.value)
    # The lock is released all the same.
    monkeypatch.undo()
    with open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0) as again:
        assert not again.read_only


def test_full_disk_while_writing_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = FaultySQLite(monkeypatch)
    s: Session = open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0)
    s.start()
    s.react("like")
    disk.full = True
    view = s.react("skip")  # the like stands: the next song
    view = s.react("skip")
    assert view.learned is not None and not view.learned.saved
    assert s.warning is not None and "disk" in s.warning and "full" in s.warning
    view = s.react("dislike")
    assert view.q_rows and view.now_playing is not None  # the session keeps going
    disk.full = False
    view = s.song_finished()
    assert view.learned is not None and view.learned.saved
    assert s.warning is None
    assert [e.kind for e in s.history(20)] == ["play", "finish", "play", "dislike", "play", "skip", "play",
                                               "like", "play"]
    s.close()
    with sqlite3.connect(tmp_path / "history.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_read_only_and_locked_database_at_open(tmp_path: Path) -> None:
    from tui_dj.errors import TuiDjError

    open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0).close()
    other = sqlite3.connect(tmp_path / "history.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        import tui_dj.store.history as store_module

        old = store_module.BUSY_TIMEOUT_S
        store_module.BUSY_TIMEOUT_S = 0.1
        try:
            with pytest.raises(TuiDjError, match="locked by another program"):
                open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0)
        finally:
            store_module.BUSY_TIMEOUT_S = old
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The refused open left the profile free.
    with open_session(catalog=SMALL, profile="ana", data_dir=tmp_path, seed=0) as s:
        assert not s.read_only
