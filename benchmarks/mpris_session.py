"""Media keys (issue 15): a real `tui-dj play` on a private session bus, in a pseudo-terminal,
driven by `playerctl` as a desktop would drive it; prints the session as typed and answered.

`python -m benchmarks.mpris_session`. Needs dbus-daemon and playerctl (apt-get install dbus
playerctl), the mpris and audio extras; the three tagged songs are generated (tests/audio_gen.py).
"""

from __future__ import annotations

import os
import pty
import select
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.audio_gen import song, tag_file, write_audio

SONGS = [(96, "Low Tide", "The Quiet Ones", 0.1), (120, "Loud Engine", "Brickwall", 1.0),
         (140, "Middle Ground", "The Quiet Ones", 0.4)]
LINE = "{{mpris:trackid}} {{artist}} - {{title}} ({{album}}) {{duration(mpris:length)}} {{status}}"
STEPS = [("metadata", "--format", LINE), ("metadata",), ("next",), ("metadata", "--format", LINE),
         ("play-pause",), ("status",), ("position", "12"), ("position",), ("play-pause",), ("status",),
         ("volume", "0.6"), ("volume",), ("next",), ("metadata", "--format", LINE)]


def _playerctl(*args: str) -> str:
    done = subprocess.run(["playerctl", "-p", "tui_dj", *args], capture_output=True, text=True, timeout=20)
    return (done.stdout + done.stderr).strip()


def _wait(check: str, answer: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while _playerctl(check) != answer:
        if time.monotonic() > deadline:
            raise SystemExit(f"the console never answered {answer!r} to {check!r}")
        time.sleep(0.5)


def main() -> None:
    for tool in ("dbus-daemon", "playerctl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install dbus playerctl).")
    work = Path(tempfile.mkdtemp(prefix="tui-dj-mpris-"))
    for i, (bpm, title, artist, gain) in enumerate(SONGS):
        path = write_audio(work / "Music" / artist / "Demo" / f"0{i + 1} {title}.flac", song(bpm, 30.0, seed=i, gain=gain))
        tag_file(path, title=title, artist=artist, album="Demo", genre="indie")
    tui_dj = str(Path(sys.executable).with_name("tui-dj"))
    data = ["--data-dir", str(work / "data")]
    subprocess.run([tui_dj, "prep", str(work / "Music"), "--out", str(work / "catalog"), *data],
                   check=True, capture_output=True)
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert daemon.stdout is not None
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = daemon.stdout.readline().strip()
    pid, terminal = pty.fork()
    if pid == 0:  # the console, on a 100x30 terminal of its own
        os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
        os.execv(tui_dj, [tui_dj, "play", "--catalog", str(work / "catalog"), *data, "--seed", "1"])
    import fcntl
    import termios

    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))

    def drain() -> None:  # what the console draws is read and dropped, so it never blocks
        while True:
            try:
                if select.select([terminal], [], [], 0.2)[0] and not os.read(terminal, 65536):
                    return
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    try:
        _wait("status", "Playing")
        print("$ playerctl -l")
        print(subprocess.run(["playerctl", "-l"], capture_output=True, text=True).stdout.strip())
        for step in STEPS:
            print("$ " + shlex.join(["playerctl", "-p", "tui_dj", *step]))
            answer = _playerctl(*step)
            if answer:
                print(answer)
            time.sleep(1.0 if step[0] == "next" else 0.5)
        os.write(terminal, b"q")
        _, status = os.waitpid(pid, 0)
        print(f"(the console quit with status {os.waitstatus_to_exitcode(status)})")
        history = subprocess.run([tui_dj, "history", *data], capture_output=True, text=True).stdout
        print(history.rstrip())
    finally:
        daemon.terminate()
        daemon.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
