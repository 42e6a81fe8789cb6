"""Shared pieces of the fault-injection tests: how many repetitions, and killing a child mid-work."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

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
