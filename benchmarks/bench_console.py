"""The console on a 232,725-song catalog: `tui-dj play` to the first screen, a reaction key to the
new queue and Q-table on screen (p50/p99), the same at 120x40 where the taste map shows and moves
with every key, and the console's peak memory. `--baseline GIT_REF` also times the keys of an earlier
commit in the same run.

`python -m benchmarks.bench_console [--quick]`

Each figure comes from a fresh process running the real app headless (Textual's `run_test`, 80x24)
against a real session; when tmux is installed, the start-up is also timed in a real terminal. A key
is timed from its key event to the first repaint after the new queue and Q-table reached the tables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import ROOT, Row, emit, run_measured, worktree

BENCH = "console"
FULL_SIZE = 232_725
QUICK_SIZE = 20_000
KEYS = ("d", "n", "l", "d")  # every one is a reaction: a dislike after a like replaces it


def catalog_dir(size: int) -> Path:
    """A processed synthetic catalog of `size` songs, built once with `tui-dj prep`."""
    from tui_dj.catalog import is_catalog_dir

    folder = Path(tempfile.gettempdir()) / "tui-dj-bench" / f"catalog-{size}"
    if not is_catalog_dir(folder):
        subprocess.run([sys.executable, "-m", "tui_dj", "prep", "--synthetic", str(size), "--out",
                        str(folder)], check=True, cwd=ROOT, capture_output=True)
    return folder


def _vm_hwm_mb() -> float:
    # VmHWM belongs to this program image alone; ru_maxrss would carry over the parent's peak.
    with open("/proc/self/status") as handle:
        line = next(ln for ln in handle if ln.startswith("VmHWM"))
    return int(line.split()[1]) / 1024.0


async def _child_startup(catalog: str, data: str, t0: float) -> None:
    """What `tui-dj play` does, headless: the time to the first frame and to the first song."""
    from tui_dj.tui.app import DJApp

    class TimedApp(DJApp):
        first_paint = 0.0

        def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            super()._display(screen, renderable)
            now = screen.query("#now")
            if not self.first_paint and now and "Now playing" in str(now.first().border_title):
                self.first_paint = time.time()

    def opener():  # type: ignore[no-untyped-def]
        from tui_dj import open_session

        return open_session(catalog=catalog, data_dir=data, seed=0)

    app = TimedApp(opener, autoplay=False, freeze_gc=True)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.view is None:
            if time.time() - t0 > 120 or not app.is_running:
                raise SystemExit("the first song never came")
            await asyncio.sleep(0.005)
        await pilot.pause()
        first_song = time.time() - t0
        first_screen = app.first_paint - t0
        await pilot.press("q")
    print(f"RESULT {first_screen} {first_song}")


async def _child_keys(catalog: str, data: str, n: int, size: tuple[int, int] = (80, 24),
                      hide_map: bool = False) -> None:
    """Feedback keys through the app: from the key event until the new tables are painted (and,
    at 120x40, the taste map with them unless `hide_map`: m is pressed first)."""
    from textual import events

    from tui_dj import open_session
    from tui_dj.tui.app import DJApp
    from tui_dj.tui.widgets import QTable, QueueTable

    class TimedApp(DJApp):
        """Notes when a view reaches the widgets and when the screen is next painted."""

        shown_at = 0.0
        painted_at = 0.0
        perform_ms: list[float] = []
        painted = asyncio.Event()  # set by the first paint after a view reached the widgets

        def _perform(self, action):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return super()._perform(action)
            finally:
                self.perform_ms.append((time.perf_counter() - start) * 1000.0)

        def _show(self, view) -> None:  # type: ignore[no-untyped-def]
            super()._show(view)
            self.shown_at = time.perf_counter()

        def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            super()._display(screen, renderable)
            self.painted_at = time.perf_counter()
            if self.painted_at >= self.shown_at > 0.0:
                self.painted.set()

    session = open_session(catalog=catalog, data_dir=data, seed=0)
    app = TimedApp(session, autoplay=False, freeze_gc=True)  # as `tui-dj play` runs
    times, session_ms = [], []
    async with app.run_test(size=size) as pilot:
        while app.view is None or app.pending:
            await asyncio.sleep(0.005)
        await pilot.pause()
        taste_map = app.screen.query("#map")
        if size >= (120, 40) and not (taste_map and taste_map.first().display):
            raise SystemExit("the taste map is not shown at 120x40")
        if hide_map:
            await pilot.press("m")
            await pilot.pause()
            if taste_map.first().display:
                raise SystemExit("m did not hide the taste map")
        queue, qtable = app.screen.query_one(QueueTable), app.screen.query_one(QTable)
        for i in range(n):
            key = KEYS[i % len(KEYS)]
            app.painted.clear()
            start = time.perf_counter()
            # The key as the terminal driver delivers it (pilot.press would also wait for idle).
            # Waiting on an event, not polling: a poll every fraction of a millisecond takes the
            # interpreter from the session's thread, which a real terminal never does.
            app.post_message(events.Key(key, key))
            while app.shown_at < start or app.painted_at < app.shown_at:
                try:
                    await asyncio.wait_for(app.painted.wait(), timeout=30)
                except TimeoutError:
                    raise SystemExit(f"key {i} ({key}) never reached the screen") from None
                app.painted.clear()
            times.append((app.painted_at - start) * 1000.0)
            assert app.view is not None and not app.pending
            head: Any = app.view.queue[0]  # a QueueEntry (a Track at older commits, for the baseline)
            assert getattr(head, "track", head).name in {str(c) for c in queue.get_row_at(0)}
            assert app.view.q_rows[0].track.name in {str(c) for c in qtable.get_row_at(0)}  # ▶ may come first
            session_ms.append(app.perform_ms[-1])
            await asyncio.sleep(0.05)  # a person does not type faster than this
        await pilot.press("q")
    print(f"RESULT {' '.join(f'{t:.3f}' for t in times)} | {' '.join(f'{t:.3f}' for t in session_ms)}")
    print(f"PEAK {_vm_hwm_mb()}")


def _tmux_startup(catalog: Path, data: str, tree: Path | None = None, runs: int = 1) -> tuple[float, float] | None:
    """`tui-dj play` in a real 80x24 terminal: seconds to the first frame and to the first song,
    the median of `runs` (`tree`: run another checkout's code). A tmux server is kept up across
    the runs, as it is for a person who opens tui-dj in tmux: its own start is not timed."""
    if shutil.which("tmux") is None:
        return None
    holder = f"djbench{os.getpid()}hold"
    subprocess.run(["tmux", "new-session", "-d", "-s", holder, "-x", "80", "-y", "24"], check=True)
    try:
        results = [_tmux_once(catalog, data, tree) for _ in range(runs)]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", holder], capture_output=True)
    found = [r for r in results if r is not None]
    if len(found) < len(results):
        return None
    return statistics.median(r[0] for r in found), statistics.median(r[1] for r in found)


def _tmux_once(catalog: Path, data: str, tree: Path | None) -> tuple[float, float] | None:
    name = f"djbench{os.getpid()}"
    exe = shutil.which("tui-dj") or f"{sys.executable} -m tui_dj"
    if tree is not None:
        exe = f"env PYTHONPATH={tree} {sys.executable} -m tui_dj"
    cmd = f"{exe} play --catalog {catalog} --data-dir {data} --speed 600"
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", cmd], check=True)
    first_frame = first_song = None
    try:
        while time.perf_counter() - start < 60 and first_song is None:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                                    text=True).stdout
            now = time.perf_counter() - start
            if first_frame is None and "Now playing" in screen:
                first_frame = now
            if "Now playing" in screen and "Opening the catalog" not in screen and "Up next" in screen:
                first_song = now
            time.sleep(0.02)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], capture_output=True)
        time.sleep(2)
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    if first_frame is None or first_song is None:
        return None
    return first_frame, first_song


def _key_result(out: str) -> tuple[list[float], list[float], float]:
    result = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    times_s, session_s = result[len("RESULT "):].split("|")
    peak = float(next(ln for ln in out.splitlines() if ln.startswith("PEAK ")).split()[1])
    return [float(t) for t in times_s.split()], [float(t) for t in session_s.split()], peak


def _startups(tree: Path, catalog: Path, data: str, env: dict[str, str], runs: int) -> tuple[float, float]:
    """The best of `runs` headless start-ups of the code in `tree`: (first screen, first song), s."""
    me = [sys.executable, "-m", "benchmarks.bench_console"]
    results = []
    for _ in range(runs):
        t0 = time.time()
        _, _, out = run_measured(me + ["--child", "startup", "--catalog", str(catalog), "--data", data,
                                       "--t0", str(t0)], cwd=str(tree), env={**env, "PYTHONPATH": str(tree)})
        line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
        results.append(tuple(map(float, line.split()[1:])))
    return min(r[0] for r in results), min(r[1] for r in results)


def _baseline(ref: str, catalog: Path, n_keys: int, songs: str, env: dict[str, str], runs: int) -> list[Row]:
    """The same start-up and key benchmarks on another commit's code (this file's children, run
    from a worktree of that commit), so that before and after are measured on one machine in one run."""
    with worktree(ref) as tree:
        shutil.copy(Path(__file__), tree / "benchmarks" / "bench_console.py")
        with tempfile.TemporaryDirectory() as data:
            first_screen, first_song = _startups(tree, catalog, data, env, runs)
            real = _tmux_startup(catalog, data, tree, runs)
            _, _, out = run_measured([sys.executable, "-m", "benchmarks.bench_console", "--child", "keys",
                                      "--catalog", str(catalog), "--data", data, "--n", str(n_keys)],
                                     cwd=str(tree), env={**env, "PYTHONPATH": str(tree)})
    times, _, _ = _key_result(out)
    note = f"commit {ref}, the same {n_keys} keys and {songs}, in this run"
    rows = [Row(BENCH, "before: tui-dj play -> first screen (headless)", first_screen, "s", "", f"{note}; best of {runs}"),
            Row(BENCH, "before: tui-dj play -> first song on screen (headless)", first_song, "s", "", f"{note}; best of {runs}")]
    if real is not None:
        rows += [Row(BENCH, "before: tui-dj play -> first screen (tmux, 80x24)", real[0], "s", "", f"{note}; median of {runs}"),
                 Row(BENCH, "before: tui-dj play -> first song (tmux, 80x24)", real[1], "s", "", f"{note}; median of {runs}")]
    return rows + [
        Row(BENCH, "before: key -> new queue + Q-table on screen p50", _percentile(times, 50), "ms", "", note),
        Row(BENCH, "before: key -> new queue + Q-table on screen p99", _percentile(times, 99), "ms", "", note)]


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_console", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 20,000-song catalog, fewer keys")
    parser.add_argument("--baseline", metavar="GIT_REF",
                        help="also time the keys of this commit's console, in the same run (a git worktree)")
    parser.add_argument("--child", choices=["startup", "keys"], help=argparse.SUPPRESS)
    parser.add_argument("--catalog", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--size", default="80x24", help=argparse.SUPPRESS)
    parser.add_argument("--hide-map", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "startup":
        asyncio.run(_child_startup(args.catalog, args.data, args.t0))
        return
    if args.child == "keys":
        width, height = map(int, args.size.split("x"))
        asyncio.run(_child_keys(args.catalog, args.data, args.n, (width, height), args.hide_map))
        return

    size = QUICK_SIZE if args.quick else FULL_SIZE
    # A p99 over 600 keys is the sixth-slowest key, not the third: steadier from run to run, and
    # the session's first 500 reactions are among them.
    n_keys = 40 if args.quick else 600
    catalog = catalog_dir(size)
    songs = f"{size:,} songs"
    rows: list[Row] = []
    me = [sys.executable, "-m", "benchmarks.bench_console"]
    with tempfile.TemporaryDirectory() as data:
        # A first run warms the disk cache and writes the profile, as a second `play` would find.
        # As `tui-dj play` runs (run_console sets this before torch loads).
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        runs = 1 if args.quick else 3
        if args.baseline:
            rows += _baseline(args.baseline, catalog, n_keys, songs, env, runs)
        first_screen, first_song = _startups(ROOT, catalog, data, env, runs)
        rows.append(Row(BENCH, "tui-dj play -> first screen (headless)", first_screen, "s", "< 1",
                        f"{songs}; best of {runs}; the session opens behind it"))
        rows.append(Row(BENCH, "tui-dj play -> first song on screen (headless)", first_song, "s", "< 2",
                        f"{songs}; imports + catalog + model + first pick"))
        real = _tmux_startup(catalog, data, runs=runs)
        if real is not None:
            rows.append(Row(BENCH, "tui-dj play -> first screen (tmux, 80x24)", real[0], "s", "< 1",
                            f"{songs}; median of {runs}; polled every 20 ms"))
            rows.append(Row(BENCH, "tui-dj play -> first song (tmux, 80x24)", real[1], "s", "< 2",
                            f"{songs}; median of {runs}"))
        _, _, out = run_measured(me + ["--child", "keys", "--catalog", str(catalog), "--data", data,
                                       "--n", str(n_keys)], cwd=str(ROOT), env=env)
        big = ["--child", "keys", "--catalog", str(catalog), "--data", data, "--n", str(n_keys), "--size", "120x40"]
        _, _, map_out = run_measured(me + big, cwd=str(ROOT), env=env)
        _, _, hidden_out = run_measured(me + big + ["--hide-map"], cwd=str(ROOT), env=env)
    times, session_ms, peak = _key_result(out)
    map_times, _, map_peak = _key_result(map_out)
    hidden_times, _, _ = _key_result(hidden_out)
    note = f"{n_keys} keys (d n l d ...), {songs}, 80x24; of which the session's one call " \
           f"p50 {_percentile(session_ms, 50):.1f} ms, p99 {_percentile(session_ms, 99):.1f} ms"
    rows.append(Row(BENCH, "key -> new queue + Q-table on screen p50", _percentile(times, 50),
                    "ms", "", note))
    rows.append(Row(BENCH, "key -> new queue + Q-table on screen p99", _percentile(times, 99),
                    "ms", "< 50", note))
    rows.append(Row(BENCH, "console peak memory (session + app)", peak, "MB", "< 500",
                    f"{songs}; VmHWM of the console process after {n_keys} keys"))
    map_note = f"{n_keys} keys (d n l d ...), {songs}, 120x40: the taste map shown and redrawn with each key"
    hidden_note = f"{n_keys} keys, {songs}, 120x40 with the map hidden (m): the same screen less the map"
    rows.append(Row(BENCH, "key -> screen at 120x40, map hidden p50", _percentile(hidden_times, 50), "ms", "",
                    hidden_note))
    rows.append(Row(BENCH, "key -> screen at 120x40, map hidden p99", _percentile(hidden_times, 99), "ms", "",
                    hidden_note))
    rows.append(Row(BENCH, "key -> screen with the taste map p50", _percentile(map_times, 50), "ms", "", map_note))
    rows.append(Row(BENCH, "key -> screen with the taste map p99", _percentile(map_times, 99), "ms", "< 50",
                    map_note))
    rows.append(Row(BENCH, "console peak memory with the taste map", map_peak, "MB", "< 500",
                    f"{songs}; VmHWM after {n_keys} keys at 120x40"))
    emit(rows)


if __name__ == "__main__":
    main()
