"""`kill -9` and a full disk while `tui-dj train` writes: the last checkpoint always loads, `--resume`
continues from it, and a half-written file is never taken for a checkpoint."""

from __future__ import annotations

import errno
import io
import json
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.faults import repeats, tui_dj_command
from tui_dj.catalog import builtin_catalog
from tui_dj.config import load_config
from tui_dj.errors import TuiDjError
from tui_dj.learn import model_file
from tui_dj.learn.model_file import load_agent
from tui_dj.learn.trace import OBS_DIM, SONG_DIM
from tui_dj.learn.train import CHECKPOINT_FILE, LOG_FILE, MODEL_FILE, train

# A checkpoint after every episode, so that most kills land during or between checkpoint writes.
TINY = """
checkpoint_every = 1
[agent]
hidden = 16
batch_size = 8
buffer_size = 500
candidates = 16
"""
FOREVER = 10**6  # episodes asked of a run that is going to be killed
# What a killed atomic write may leave beside its target (tui_dj.atomic: ".NAME.XXXX.tmp").
TEMP = re.compile(r"^\.(dqn\.pt|dqn\.checkpoint\.pt)\.[^/]+\.tmp$")
DECOY = ".dqn.checkpoint.pt.decoy.tmp"


def _episode(path: Path) -> int:
    """The episode a checkpoint or model was saved at; loading it is the check that it is whole."""
    agent, meta = load_agent(path, training=path.name == CHECKPOINT_FILE)
    q = agent.q_values(np.zeros(OBS_DIM, np.float32), np.zeros((3, SONG_DIM), np.float32))
    assert q.shape == (3,) and np.isfinite(q).all()  # whole weights, not zeros read from a torn file
    return int(meta["episode"] if path.name == CHECKPOINT_FILE else meta["episodes"])


def _logged(out: Path) -> list[int]:
    """Episodes in the training log; a line cut by the kill is skipped as the resume does."""
    episodes = []
    for line in (out / LOG_FILE).read_text(encoding="utf-8").splitlines():
        try:
            episodes.append(int(json.loads(line)["episode"]))
        except (ValueError, KeyError, TypeError):
            continue
    return episodes


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _start_run(tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A run of two episodes (in this process, to save a start-up), and a decoy checkpoint."""
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "run"
    train(load_config(config, {"episodes": 2}), builtin_catalog(), out)
    # The decoy is a whole checkpoint of this catalog at episode 9,999 under the name a killed write
    # leaves: if anything ever took a temporary file for the checkpoint, the episodes would jump.
    other = tmp_path / "other"
    train(load_config(config, {"episodes": 1}), builtin_catalog(), other)
    state = model_file.read_state(other / CHECKPOINT_FILE)
    meta = json.loads(state["metadata"])
    meta["episode"] = 9_999
    state["metadata"] = json.dumps(meta)
    buffer = io.BytesIO()
    model_file.torch_format.write(buffer, state)  # as read: arrays, lists and numbers
    shutil.rmtree(other)
    return out, config, buffer.getvalue()


def _kill_once(out: Path, config: Path, rng: random.Random, log: Path) -> tuple[bool, str]:
    """Resume the run and SIGKILL it: mostly while it writes checkpoints, sometimes while it starts."""
    cmd = tui_dj_command("train", "--builtin", "--config", str(config), "--out", str(out), "--resume",
                         "--episodes", str(FOREVER), "--no-chart")
    checkpoint = out / CHECKPOINT_FILE
    stamp = _stamp(checkpoint)
    with log.open("w") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
        if rng.random() < 0.25:
            where = "start-up"
            time.sleep(rng.uniform(0.05, 2.5))
        else:
            where = "training"
            deadline = time.monotonic() + 120
            while _stamp(checkpoint) == stamp and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.4))
        alive = proc.poll() is None
        if alive:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert alive or proc.returncode == -signal.SIGKILL, log.read_text()
    return alive, where


def _check_after_kill(out: Path, previous: int) -> tuple[int, int]:
    names = {p.name for p in out.iterdir()}
    whole = {n for n in names if not n.startswith(".")}
    temps = names - whole - {DECOY}
    # Under the checkpoint names only whole files; anything else is a temporary name nobody reads,
    # and the next run clears those away: they never pile up.
    assert whole <= {MODEL_FILE, CHECKPOINT_FILE, "logs"}, names
    assert all(TEMP.match(n) for n in temps), temps
    assert len(temps) <= 2, temps
    assert {p.name for p in (out / "logs").iterdir()} <= {"train.jsonl"} | {
        p.name for p in (out / "logs").glob(".train.jsonl.*.tmp")}
    episode = _episode(out / CHECKPOINT_FILE)
    assert previous <= episode < 9_999  # never back, never the decoy
    # dqn.pt is written just before the checkpoint: the same episode or one checkpoint later.
    assert _episode(out / MODEL_FILE) in (episode, episode + 1)
    # Everything up to the checkpoint is in the log exactly once (a line cut by the kill may follow).
    assert [e for e in _logged(out) if e < episode] == list(range(episode))
    return episode, len(temps)


def _kill_repeatedly(tmp_path: Path, times: int) -> dict[str, Any]:
    out, config, decoy = _start_run(tmp_path)
    rng = random.Random(11)
    episode, killed, leftovers, where = 2, 0, 0, {"start-up": 0, "training": 0}
    progress = []
    for _ in range(times):
        (out / DECOY).write_bytes(decoy)
        alive, moment = _kill_once(out, config, rng, tmp_path / "stderr.txt")
        killed += alive
        where[moment] += 1
        after, left = _check_after_kill(out, episode)
        leftovers += left
        progress.append(after)
        episode = after
    # The run then finishes from its last checkpoint: every episode logged once, in order.
    proc = subprocess.run(tui_dj_command("train", "--builtin", "--config", str(config), "--out", str(out),
                                         "--resume", "--episodes", str(episode + 3), "--no-chart"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Trained 3 sessions" in proc.stderr
    assert _logged(out) == list(range(episode + 3))
    assert _episode(out / MODEL_FILE) == _episode(out / CHECKPOINT_FILE) == episode + 3
    # A run that starts clears what killed runs left: nothing but whole files remains.
    assert sorted(p.name for p in out.iterdir()) == sorted([MODEL_FILE, CHECKPOINT_FILE, "logs"])
    assert [p.name for p in (out / "logs").iterdir()] == ["train.jsonl"]
    return {"killed": killed, "where": where, "checkpoints": progress, "final": episode + 3,
            "leftovers": leftovers}


def test_kill_during_train_quick(tmp_path: Path) -> None:
    result = _kill_repeatedly(tmp_path, 2)
    assert result["killed"] >= 1
    print(f"train killed {result['killed']} times; checkpoint episodes {result['checkpoints']}; "
          f"resumed to {result['final']}")


@pytest.mark.slow
def test_kill_during_train_repeated(tmp_path: Path) -> None:
    times = repeats(20, 5)
    result = _kill_repeatedly(tmp_path, times)
    print(f"train killed {result['killed']} of {times} times ({result['where']}); the checkpoint loaded "
          f"every time, at episodes {result['checkpoints']}; --resume then finished at {result['final']} "
          f"with every episode logged once; {result['leftovers']} temporary files left by kills, all "
          "cleared by the next run")
    assert result["killed"] >= times * 3 // 4
    # Resuming made progress between kills: the run moved forward, not round in circles.
    assert result["checkpoints"][-1] > 2


# --- a full disk while a checkpoint is written -------------------------------------------------------


def test_full_disk_while_saving_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "run"
    catalog = builtin_catalog(200, seed=5)
    train(load_config(config, {"episodes": 2}), catalog, out)
    before = {name: (out / name).read_bytes() for name in (MODEL_FILE, CHECKPOINT_FILE)}
    real_save = torch.save

    def checkpoint_fails(obj: object, f: Any, *args: Any, **kwargs: Any) -> None:
        if CHECKPOINT_FILE in str(f):
            # Half the file is on disk when the space runs out.
            Path(getattr(f, "name", f)).write_bytes(b"PK\x03\x04" + b"\0" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", checkpoint_fails)
    with pytest.raises(TuiDjError) as err:
        train(load_config(config), catalog, out, resume=True, episodes=5)
    message = str(err.value)
    assert "No space left on device" in message and "previous file is unchanged" in message
    assert "\n" not in message and CHECKPOINT_FILE in message
    monkeypatch.undo()
    # The previous checkpoint is whole and still the one at episode 2; no temporary file is left.
    assert (out / CHECKPOINT_FILE).read_bytes() == before[CHECKPOINT_FILE]
    assert _episode(out / CHECKPOINT_FILE) == 2
    assert sorted(p.name for p in out.iterdir()) == ["dqn.checkpoint.pt", "dqn.pt", "logs"]
    # Once there is space again, --resume carries on from episode 2.
    result = train(load_config(config), catalog, out, resume=True, episodes=5)
    assert result.episodes == 3
    assert _logged(out) == [0, 1, 2, 3, 4]
    assert _episode(out / CHECKPOINT_FILE) == 5


def test_full_disk_through_the_cli_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tui_dj.cli import app

    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "run"

    def no_space(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", no_space)
    result = CliRunner().invoke(app, ["train", "--builtin", "--config", str(config), "--out", str(out),
                                      "--episodes", "2", "--no-chart"], env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tui-dj: Could not save") and "No space left on device" in last
    assert not (out / CHECKPOINT_FILE).exists() and not (out / MODEL_FILE).exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_profile_clears_what_a_killed_save_left(tmp_path: Path) -> None:
    """The session's model save is atomic too; a `kill -9` in it leaves a temporary file, which the
    next session that holds the profile's lock removes (a read-only one leaves it to the owner)."""
    from tui_dj import open_session

    data = tmp_path / "data"
    small = builtin_catalog(150)
    open_session(catalog=small, profile="ana", data_dir=data, seed=0).close()
    folder = data / "profiles" / "ana"
    left = folder / ".model.pt.k1ll3d.tmp"
    left.write_bytes(b"PK\x03\x04 half a model")
    keep = folder / "notes.txt"  # anything else in the folder is not ours to remove
    keep.write_text("x")
    owner = open_session(catalog=small, profile="ana", data_dir=data, seed=0)
    try:
        assert not left.exists() and keep.exists()
        left.write_bytes(b"being written by the owner")
        reader = open_session(catalog=small, profile="ana", data_dir=data, seed=0)
        assert reader.read_only and left.exists()
        reader.close()
    finally:
        owner.close()


def test_full_disk_while_writing_the_training_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The log is appended between checkpoints; a full disk there is one sentence too, and the
    last checkpoint stays whole and resumable."""
    from typer.testing import CliRunner

    from tui_dj.cli import app

    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "run"
    train(load_config(config, {"episodes": 2}), builtin_catalog(), out)
    before = (out / CHECKPOINT_FILE).read_bytes()
    real_open = Path.open

    class FullLog(io.TextIOWrapper):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def open_full(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if self.name == "train.jsonl" and "a" in mode:
            return FullLog(handle.detach(), encoding="utf-8")
        return handle

    monkeypatch.setattr(Path, "open", open_full)
    result = CliRunner().invoke(app, ["train", "--builtin", "--config", str(config), "--out", str(out),
                                      "--resume", "--episodes", "6", "--no-chart"], env={"NO_COLOR": "1"})
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tui-dj: Could not write") and "train.jsonl" in last and "No space left on device" in last
    assert (out / CHECKPOINT_FILE).read_bytes() == before
    train(load_config(config), builtin_catalog(), out, resume=True, episodes=4)
    assert _logged(out) == [0, 1, 2, 3]
