"""What more cores buy `tui-dj train`: the default run at 232,725 songs with 1 and with N torch
threads, and P runs side by side with one thread each (as `evaluate --leave-one-out` trains them).

Not part of `python -m benchmarks` (it trains three times or more); run it on the machine asked
about: `python -m benchmarks.train_threads --threads 1 16 --parallel 8`. The trained model does not
depend on the thread count (the same seed gives the same mean return), so the rows compare time.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from benchmarks._util import Row, emit

SONGS = 232_725


def train_once(threads: int, songs: int = SONGS, episodes: int | None = None) -> tuple[float, float, float]:
    """One default training run on the generated catalog: (seconds, peak MB, mean return of the
    last 100 sessions). `songs` and `episodes` shrink it (a smoke test)."""
    from tui_dj.catalog.synthetic import builtin_catalog
    from tui_dj.config import TrainConfig
    from tui_dj.learn.train import train

    catalog = builtin_catalog(n=songs)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = train(replace(TrainConfig(), threads=threads), catalog, Path(out), episodes=episodes)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, peak, sum(result.returns[-100:]) / max(1, len(result.returns[-100:]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads of each single run")
    parser.add_argument("--parallel", type=int, default=0, help="this many one-thread runs side by side (0: none)")
    parser.add_argument("--songs", type=int, default=SONGS, help="catalog size (default: the issue's 232,725)")
    parser.add_argument("--episodes", type=int, default=None, help="sessions per run (default: as `tui-dj train`)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for threads in args.threads:
        with ProcessPoolExecutor(1) as pool:  # a fresh process each: its own peak memory
            seconds, peak, mean_return = pool.submit(train_once, threads, args.songs, args.episodes).result()
        rows.append(Row("train threads", f"one run, {threads} torch thread(s)", seconds, "s",
                        note=f"peak {peak:.0f} MB, mean return {mean_return:.3f}"))
    if args.parallel:
        start = time.perf_counter()
        with ProcessPoolExecutor(args.parallel) as pool:
            runs = [pool.submit(train_once, 1, args.songs, args.episodes) for _ in range(args.parallel)]
            each = [run.result()[0] for run in runs]
        wall = time.perf_counter() - start
        rows.append(Row("train threads", f"{args.parallel} runs side by side, 1 thread each", wall, "s",
                        note=f"each run {min(each):.0f}-{max(each):.0f} s"))
    emit(rows)


if __name__ == "__main__":
    main()
