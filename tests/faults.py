"""Shared pieces of the fault-injection tests: how many repetitions, killing a child mid-work, and a
pickle that would run code."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SLOW_SCALE_ENV = "TUI_DJ_SLOW_SCALE"


def repeats(full: int, reduced: int) -> int:
    """`full` repetitions under `pytest -m slow`, `reduced` when CI asks for the reduced form."""
    return reduced if os.environ.get(SLOW_SCALE_ENV) == "reduced" else full


def tui_dj_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui_dj", *args]


def kill_at_random(cmd: list[str], low: float, high: float, rng: random.Random, env: dict[str, str] | None = None) -> bool:
    """Start `cmd`, SIGKILL it after a random delay in [low, high) s; True if it was still running."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(rng.uniform(low, high))
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def leftovers(folder: Path) -> list[str]:
    """Temporary names that a finished, failed or killed write may leave beside its target."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


class FaultySQLite:
    """Every SQLite connection tui-dj opens while this is installed, with writes that can be made to
    fail like a full disk (`full = True`) and every statement's text kept (`seen`)."""

    def __init__(self, monkeypatch: Any) -> None:
        import sqlite3

        self.full = False
        self.seen: list[str] = []
        real_connect = sqlite3.connect
        outer = self

        class Connection:
            def __init__(self, real: Any) -> None:
                self.real = real

            def execute(self, sql: str, params: Any = ()) -> Any:
                outer.seen.append(sql)
                if outer.full and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "BEGIN")):
                    raise sqlite3.OperationalError("database or disk is full")
                return self.real.execute(sql, params)

            def executescript(self, sql: str) -> Any:
                outer.seen.append(sql)
                return self.real.executescript(sql)

            def close(self) -> None:
                self.real.close()

            def __enter__(self) -> Any:
                return self.real.__enter__()

            def __exit__(self, *exc: Any) -> Any:
                return self.real.__exit__(*exc)

        def connect(*args: Any, **kwargs: Any) -> Any:
            return Connection(real_connect(*args, **kwargs))

        monkeypatch.setattr(sqlite3, "connect", connect)


class Exploit:
    """Unpickling this runs `touch MARKER`: it must never happen when a model file is opened."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (os.system, (f"touch {self.marker}",))
