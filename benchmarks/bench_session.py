"""The session on a 232,725-song catalog: a reaction -> new queue and Q-table, open time, memory,
and a long session of 10,000 reactions (issue 5, item 4). `--baseline GIT_REF` also times the
opening and the reactions of an earlier commit, in the same run, on the same catalog folder.

`python -m benchmarks.bench_session [--quick] [--baseline GIT_REF]`
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._util import ROOT, Row, emit, peak_rss_mb, worktree

BENCH = "session"
FULL_SIZE = 232_725


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def listen(session: object, n: int, rng: np.random.Generator) -> list[float]:
    """`n` songs with a listener who likes energetic songs; the time of each reaction, in ms, from
    the call to the view it returns (the new queue and Q-table)."""
    times = []
    view = session.start()  # type: ignore[attr-defined]
    # A baseline commit before 0.3 (`--baseline`) calls the end of a song `song_ended`.
    finished = getattr(session, "song_finished", None) or session.song_ended  # type: ignore[attr-defined]
    for _ in range(n):
        energetic = view.now_playing.features["energy"] > 0.7
        reaction = "like" if energetic and rng.random() < 0.8 else "finish" if energetic else \
            str(rng.choice(["skip", "skip", "dislike", "finish"]))
        start = time.perf_counter()
        view = finished() if reaction == "finish" else session.react(reaction)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000.0)
        if reaction == "like":
            view = finished()
    return times


CHILD = """
import sys
import numpy as np
from tui_dj import open_session
from benchmarks.bench_session import listen
s = open_session(catalog=sys.argv[1], profile="peak", data_dir=sys.argv[2], seed=0)
listen(s, int(sys.argv[3]), np.random.default_rng(0))
s.close()
# VmHWM belongs to this program image alone; ru_maxrss would carry over the parent's peak.
print([line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
"""


KEYS_CHILD = """
import sys, time
import numpy as np
from tui_dj import open_session
from benchmarks.bench_session import listen
for attempt in ("first", "again"):  # the second opening finds what the first one kept
    start = time.perf_counter()
    s = open_session(catalog=sys.argv[1], profile="keys-" + attempt, data_dir=sys.argv[2], seed=0)
    print("OPEN", attempt, time.perf_counter() - start)
    if attempt == "first":
        s.close()
times = listen(s, int(sys.argv[3]), np.random.default_rng(0))
s.close()
print("TIMES", " ".join(f"{t:.3f}" for t in times))
"""


def _keys_of(tree: Path, catalog: Path, n: int) -> tuple[float, float, np.ndarray]:
    """Opening (first, again) and the reaction times of a fresh session, run with the code in `tree`."""
    from benchmarks._util import run_measured

    with tempfile.TemporaryDirectory() as data:
        _, _, out = run_measured([sys.executable, "-c", KEYS_CHILD, str(catalog), data, str(n)], cwd=str(tree),
                                 env={**os.environ, "PYTHONPATH": str(tree)})
    opened = {ln.split()[1]: float(ln.split()[2]) for ln in out.splitlines() if ln.startswith("OPEN ")}
    times = next(ln for ln in out.splitlines() if ln.startswith("TIMES ")).split()[1:]
    return opened["first"], opened["again"], np.array([float(t) for t in times])


def before_and_after(ref: str, n: int, window: int) -> list[Row]:
    """The same opening and reactions on commit `ref` (a git worktree) and on this code, one after
    the other on one processed catalog folder, so that the two are read as a ratio."""
    from benchmarks.bench_console import catalog_dir

    catalog = catalog_dir(FULL_SIZE)
    rows = []
    with worktree(ref) as tree:
        shutil.copy(Path(__file__), tree / "benchmarks" / "bench_session.py")
        runs = [("before", _keys_of(tree, catalog, n)), ("after", _keys_of(ROOT, catalog, n))]
    for when, (first, again, times) in runs:
        note = f"{'commit ' + ref if when == 'before' else 'this code'}; {FULL_SIZE:,} songs from {catalog.name}/"
        rows.append(Row(BENCH, f"{when}: open_session in a fresh process (its imports included)", first, "s", "", note))
        rows.append(Row(BENCH, f"{when}: open_session again in that process", again, "s", "", note))
        rows.append(Row(BENCH, f"{when}: reaction p50", float(np.percentile(times, 50)), "ms", "", f"{n} reactions; {note}"))
        rows.append(Row(BENCH, f"{when}: reaction p99", float(np.percentile(times, 99)), "ms", "< 30", f"{n} reactions; {note}"))
        rows.append(Row(BENCH, f"{when}: reaction p99 of the first {window}", float(np.percentile(times[:window], 99)),
                        "ms", "< 30", note))
    return rows


def console_like_peak(catalog: object, tmp: str, keys: int) -> Row:
    """Peak memory of a fresh process that does what `tui-dj play` does: load a processed catalog,
    open a session, react to songs."""
    from benchmarks._util import run_measured
    from tui_dj.catalog import save_catalog

    folder = Path(tmp) / "processed"
    save_catalog(catalog, folder)  # type: ignore[arg-type]
    wall, _, out = run_measured([sys.executable, "-c", CHILD, str(folder), tmp, str(keys)],
                                cwd=str(Path(__file__).resolve().parent.parent))
    peak = int(out.split()[-1]) / 1024.0
    return Row(BENCH, "peak memory: load catalog, open, react (own process)", peak, "MB", "< 500",
               note=f"{keys} keys, {wall:.1f} s; the feature network plays without torch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", metavar="GIT_REF",
                        help="also time the opening and reactions of this commit, in the same run (a git worktree)")
    args = parser.parse_args()
    n_keys = 200 if args.quick else 1000
    n_long = 1000 if args.quick else 10_000
    window = 100 if args.quick else 500

    from tui_dj import open_session
    from tui_dj.catalog import builtin_catalog
    from tui_dj.store import HistoryStore

    rows: list[Row] = []
    start = time.perf_counter()
    catalog = builtin_catalog(FULL_SIZE)
    rows.append(Row(BENCH, "build the 232,725-song built-in catalog", time.perf_counter() - start, "s"))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        session = open_session(catalog=catalog, profile="bench", data_dir=tmp, seed=0)
        rows.append(Row(BENCH, "open_session (catalog in memory)", time.perf_counter() - start, "s",
                        note=f"model: {session.model_source}"))
        times = np.array(listen(session, n_keys, rng))
        note = f"{n_keys} keys, 232,725 songs, fsync'd history write included"
        rows.append(Row(BENCH, "reaction -> new queue + Q-table p50", float(np.percentile(times, 50)), "ms", note=note))
        rows.append(Row(BENCH, "reaction -> new queue + Q-table p99", float(np.percentile(times, 99)), "ms", "< 30", note))
        session.close()

        # The long session: a fresh profile, memory and latency at the start and at the end.
        session = open_session(catalog=catalog, profile="long", data_dir=tmp, seed=1)
        mem_start = rss_mb()
        first_half = listen(session, n_long // 2, rng)  # the replay buffer (5,000 rows) is full by now
        mem_full = rss_mb()
        long_times = np.array(first_half + listen(session, n_long - n_long // 2, rng))
        mem_end = rss_mb()
        session.close()
        with HistoryStore.open(Path(tmp), read_only=True) as store:
            reactions = sum(store.count("long", kind) for kind in ("like", "finish", "skip", "dislike"))
            plays = store.count("long", "play")
        note = f"{n_long:,} reactions"
        rows.append(Row(BENCH, "long session: memory after the first song", mem_start, "MB", note=note))
        rows.append(Row(BENCH, f"long session: memory after {n_long // 2:,} songs", mem_full, "MB", note=note))
        rows.append(Row(BENCH, "long session: memory at the end", mem_end, "MB", f"<= {mem_full + 5:.0f}", note))
        rows.append(Row(BENCH, f"long session: p99 of the first {window}", float(np.percentile(long_times[:window], 99)), "ms", "< 50"))
        rows.append(Row(BENCH, f"long session: p99 of the last {window}", float(np.percentile(long_times[-window:], 99)), "ms", "< 50"))
        rows.append(Row(BENCH, "long session: reactions in the history", reactions, "events",
                        f">= {n_long}", note=f"exactly {n_long:,} expected; {plays:,} plays"))
        rows.append(console_like_peak(catalog, tmp, 50 if args.quick else 200))
    rows.append(Row(BENCH, "peak memory of this process", peak_rss_mb(), "MB",
                    note="includes generating the catalog in memory"))
    if args.baseline:
        rows += before_and_after(args.baseline, n_keys, window)
    emit(rows)


if __name__ == "__main__":
    main()
