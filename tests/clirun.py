"""Running `tui-dj` in-process for tests, with colour and terminal codes stripped."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tui_dj.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_cli(*args: str | Path, columns: int = 160) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tui-dj ARGS`, on a terminal this wide (wide by default),
    without colour."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


# Terminal output: CSI sequences (colours, cursor moves), OSC sequences, and single-character escapes.
TERMINAL_CODES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def run_in_terminal(*args: str | Path, steps: list[tuple[str, bytes]], cwd: Path, size: tuple[int, int] = (80, 24),
                    timeout: float = 120.0) -> tuple[int, str]:
    """Run `tui-dj ARGS` in a pseudo-terminal of `size` (columns, lines), as a person would: for each
    (text, keys) of `steps`, wait until `text` has been written, then type `keys`. Returns the exit
    status and everything the program wrote, terminal codes removed."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import sys
    import termios
    import time

    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of this size, then tui-dj
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        os.chdir(cwd)
        os.execvpe(sys.executable, [sys.executable, "-m", "tui_dj", *map(str, args)], env)
    raw = b""
    deadline = time.monotonic() + timeout

    def read(wait: float) -> bool:
        nonlocal raw
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child has gone and its terminal with it
            return False
        raw += chunk
        return bool(chunk)

    def text() -> str:
        return TERMINAL_CODES.sub("", raw.decode("utf-8", "replace"))

    status: int | None = None
    try:
        for wanted, keys in steps:
            while wanted not in text():
                assert time.monotonic() < deadline, f"{wanted!r} never appeared; the terminal shows:\n{text()[-2000:]}"
                if not read(0.1):
                    raise AssertionError(f"tui-dj ended before {wanted!r} appeared:\n{text()[-2000:]}")
            os.write(fd, keys)
        while time.monotonic() < deadline and read(0.2):
            pass
        while status is None and time.monotonic() < deadline + 10:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
            else:
                time.sleep(0.05)
    finally:
        os.close(fd)
        if status is None:  # a failed step, or it never ended: stop it
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    assert status is not None, f"tui-dj did not end; the terminal shows:\n{text()[-2000:]}"
    return os.waitstatus_to_exitcode(status), text()
