"""Learning speed on a 232,725-song built-in catalog: updates/s of both networks side by side, the
default training run (500 sessions of 60 songs), one recommendation, and peak memory.

    python -m benchmarks.bench_learn [--quick] [--baseline GIT_REF | --baseline-src DIR]

`--baseline` also times the training run at another commit (a worktree of it), `--baseline-src`
with the `tui_dj` package of another source tree, in the same run, for a before/after.
`python -m benchmarks --baseline GIT_REF` passes its commit here too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._util import Row, emit, peak_rss_mb, run_measured, worktree
from tui_dj.config import EnvConfig, TrainConfig

FULL_SIZE = 232_725


def _fill(agent, rows: int, n_songs: int, rng: np.random.Generator) -> None:
    from tui_dj.learn.trace import OBS_DIM, SONG_DIM

    k = agent.config.candidates
    for _ in range(rows):
        encoding = agent.encode(rng.integers(0, n_songs, 1), rng.random((1, SONG_DIM), dtype=np.float32))[0]
        nxt = agent.encode(rng.integers(0, n_songs, k), rng.random((k, SONG_DIM), dtype=np.float32))
        agent.remember(rng.random(OBS_DIM, dtype=np.float32), encoding, float(rng.normal()),
                       rng.random(OBS_DIM, dtype=np.float32), nxt, False)


def updates_per_second(network: str, n_songs: int, updates: int) -> float:
    import torch

    from tui_dj.config import AgentConfig
    from tui_dj.learn.agent import DQNAgent

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    agent = DQNAgent(AgentConfig(network=network), n_songs=n_songs)  # type: ignore[arg-type]
    _fill(agent, 1000, n_songs, np.random.default_rng(0))
    agent.update(3)  # warm up
    start = time.perf_counter()
    agent.update(updates)
    return updates / (time.perf_counter() - start)


def recommendation_ms(catalog, model: Path | None, repeats: int) -> tuple[float, float]:
    """One decision as the DJ makes it: candidates, their inputs, the observation, Q-values, the pick
    (timed as the next song starts and the one after it is picked)."""
    import torch

    from tui_dj.learn.agent import DQNAgent
    from tui_dj.learn.candidates import CandidateGenerator
    from tui_dj.learn.dj import DJ
    from tui_dj.learn.model_file import load_agent
    from tui_dj.learn.policy import DQNPolicy
    from tui_dj.learn.songs import SongTable

    torch.set_num_threads(1)
    agent = load_agent(model)[0] if model is not None and model.is_file() else DQNAgent()
    songs = SongTable.from_catalog(catalog)
    generator = CandidateGenerator(songs.features, k=agent.config.candidates)
    reactions = ("like", "finish", "skip", "dislike")
    times = []
    dj = DJ(songs, DQNPolicy(agent), generator, np.random.default_rng(0))
    dj.start()
    for i in range(repeats):
        dj.learn(reactions[i % 4], 0.0, rerank=False)
        if i % 20 == 19:
            dj = DJ(songs, DQNPolicy(agent), generator, np.random.default_rng(i))
        start = time.perf_counter()
        dj.advance()
        times.append(time.perf_counter() - start)
    ms = np.asarray(times[10:]) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="a source tree whose tui_dj package is timed on the same training run")
    parser.add_argument("--baseline", metavar="GIT_REF", default=None,
                        help="a commit whose tui_dj package is timed on the same training run")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.baseline is not None:
            args.baseline_src = stack.enter_context(worktree(args.baseline))
        _measure(args)


def _measure(args: argparse.Namespace) -> None:
    n = 20_000 if args.quick else FULL_SIZE
    episodes = 200 if args.quick else TrainConfig().episodes  # the default run, as `tui-dj train` does it
    rows: list[Row] = []
    bench = "learn"
    env = {**os.environ, "COLUMNS": "120"}
    with tempfile.TemporaryDirectory() as tmp:
        # The training run goes first, from a parent that is still small: a child's peak memory
        # (ru_maxrss) starts from its parent's size at the fork.
        cat_dir = Path(tmp) / "catalog"
        run_measured([sys.executable, "-m", "tui_dj", "prep", "--synthetic", str(n), "--out", str(cat_dir)], env=env)
        train = [sys.executable, "-m", "tui_dj", "train", "--catalog", str(cat_dir), "--episodes", str(episodes),
                 "--no-chart", "--out"]
        if args.baseline_src is not None:
            base = str(args.baseline_src.resolve())  # run from there: `-m` looks in the cwd first
            wall, peak, _ = run_measured([*train, str(Path(tmp) / "base")], env={**env, "PYTHONPATH": base}, cwd=base)
            rows.append(Row(bench, "baseline tree: training wall time", wall, "s",
                            note=args.baseline or str(args.baseline_src)))
            rows.append(Row(bench, "baseline tree: training peak memory", peak, "MB"))
        wall, peak, _ = run_measured([*train, str(Path(tmp) / "run")], env=env)
        rows.append(Row(bench, f"training wall time, {episodes:,} sessions of {EnvConfig().max_steps}", wall, "s",
                        goal="< 60" if not args.quick else "", note=f"{n:,} songs, default settings, incl. start-up"))
        rows.append(Row(bench, "training peak memory", peak, "MB", goal="< 500"))
        from tui_dj.catalog import load_catalog

        catalog = load_catalog(cat_dir)
        p50, p99 = recommendation_ms(catalog, Path(tmp) / "run" / "dqn.pt", 300 if args.quick else 2000)
    feature_ups = updates_per_second("features", n, 100 if args.quick else 400)
    per_song_ups = updates_per_second("per-song", n, 5 if args.quick else 20)
    rows.append(Row(bench, "updates/s, feature-scoring network", feature_ups, "1/s", note=f"{n:,} songs, batch 64, 64 candidates"))
    rows.append(Row(bench, "updates/s, one-output-per-song network", per_song_ups, "1/s", note=f"{n:,} outputs"))
    rows.append(Row(bench, "speed-up, features over per-song", feature_ups / per_song_ups, "x", goal=">= 50"))
    rows.append(Row(bench, "one recommendation p50", p50, "ms", note="candidates + inputs + Q-values"))
    rows.append(Row(bench, "one recommendation p99", p99, "ms", goal="< 5"))
    rows.append(Row(bench, "benchmark process peak memory", peak_rss_mb(), "MB",
                    note="includes the per-song network and the catalog"))
    emit(rows)


if __name__ == "__main__":
    main()
