"""Helpers the benchmark modules share: timing a child process, its peak memory, result rows."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Row:
    benchmark: str
    metric: str
    value: float
    unit: str
    goal: str = ""
    note: str = ""

    @property
    def met(self) -> str:
        """'yes'/'no' when the goal is a simple bound like '<= 3' or '>= 50', else ''."""
        goal = self.goal.strip()
        for op in ("<=", ">=", "<", ">"):
            if goal.startswith(op):
                try:
                    bound = float(goal[len(op):].split()[0])
                except ValueError:
                    return ""
                ok = {"<=": self.value <= bound, ">=": self.value >= bound,
                      "<": self.value < bound, ">": self.value > bound}[op]
                return "yes" if ok else "no"
        return ""


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> tuple[float, float, str]:
    """Run `cmd`; return (wall seconds, peak resident memory in MB of that process, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out, err = b"", b""
    # wait4 gives the peak memory of this one child, not the max over all children so far.
    import threading

    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = chunks.get("out", b""), chunks.get("err", b"")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, out.decode()


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(rows: list[Row]) -> None:
    """Print the rows for a person, then, as the last line, as JSON for `python -m benchmarks`."""
    for r in rows:
        print(f"{r.metric:<50} {r.value:>12,.3f} {r.unit:<6} {r.goal:<8} {r.met:<4} {r.note}")
    print("BENCH-ROWS " + json.dumps([asdict(r) for r in rows]))
    sys.stdout.flush()


ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A checkout of commit `ref` in a temporary folder (a git worktree), removed afterwards: the
    code a benchmark compares with, measured in the same run."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
