"""`tui-dj evaluate`: the trained agent and every baseline over the same simulated listeners.

Each session seed fixes the listener, so every policy meets the same people; the policy and the
candidates draw from streams of their own (`simulate.Streams`). For each policy: mean and 95%
bootstrap interval of every metric of `simulate.SessionResult.metrics`, catalog coverage, and the
return normalised between random (0) and the oracle (1), bootstrapped with the sessions paired
across policies. Progress goes to a callback; the CLI draws it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from tui_dj.catalog.model import Catalog
from tui_dj.config import EnvConfig
from tui_dj.errors import TuiDjError
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.policy import DQNPolicy, Policy
from tui_dj.learn.registry import EVALUATED, baseline
from tui_dj.learn.simulate import run_session
from tui_dj.learn.songs import SongTable
from tui_dj.learn.stats import interval, resamples

METRICS = ("return", "like_rate", "skip_rate", "length", "quit_rate", "diversity", "like_early", "like_late")
EVAL_SEED_BASE = 7_000_000_000  # far from any training session's seed


def session_seeds(sessions: int, seeds: int) -> np.ndarray:
    """`sessions` listener seeds spread over `seeds` evaluation seeds."""
    per = -(-sessions // seeds)
    return np.array([EVAL_SEED_BASE + s * 1_000_000 + i for s in range(seeds) for i in range(per)][:sessions], np.int64)


def make_policy(name: str, model: Path | None) -> Policy:
    """A policy of the registry; the DQN loaded from `model`, frozen (evaluation never learns)."""
    if name == "dqn":
        from tui_dj.learn.model_file import load_agent

        assert model is not None
        return DQNPolicy(load_agent(model)[0], mode="frozen")
    return baseline(name)


def _run_policy(name: str, songs: SongTable, env_config: EnvConfig, model: Path | None, seeds: np.ndarray,
                candidates: int, ticks: Any = None) -> tuple[dict[str, np.ndarray], float]:
    """Every session for one policy (run in a worker process when there are several)."""
    import torch

    torch.set_num_threads(1)
    policy = make_policy(name, model)
    generator = CandidateGenerator(songs.features, k=candidates)
    rows = {m: np.zeros(len(seeds)) for m in METRICS}
    seen: set[int] = set()
    for i, seed in enumerate(seeds):
        result = run_session(songs, policy, generator, env_config, int(seed))
        for m, value in result.metrics(songs, env_config.max_steps).items():
            rows[m][i] = value
        seen.update(result.played)
        if ticks is not None:
            ticks.put(1)
    return rows, len(seen) / len(songs)


class _Ticks:
    """Counts finished sessions in this process (a queue's `put`, for the one-process case)."""

    def __init__(self, total: int, on_progress: Callable[[int, int], None] | None) -> None:
        self.done, self.total, self.on_progress = 0, total, on_progress

    def put(self, n: int) -> None:
        self.done += n
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)


def evaluate(catalog: Catalog, model: Path | None, env_config: EnvConfig, sessions: int = 1000,
             seeds: int = 5, candidates: int = 64, workers: int | None = None,
             on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run every policy over the same sessions; the summary (also what the JSON holds).

    Policies run side by side in `workers` processes (default: one per CPU); `on_progress(done,
    total)` hears about every finished session.
    """
    if sessions < 2 or seeds < 1:
        raise TuiDjError("Evaluate needs at least 2 sessions and 1 seed.")
    songs = SongTable.from_catalog(catalog)
    if len(songs) < env_config.max_steps + env_config.history + 1:
        raise TuiDjError(f"A catalog of {len(songs)} songs is too small to evaluate sessions of "
                         f"{env_config.max_steps} songs; import more songs, or evaluate on the built-in catalog with --builtin.")
    # The slowest first (the registry's order, reversed), so that the processes finish together.
    names = [n for n in reversed(EVALUATED) if n != "dqn" or model is not None]
    seeds_used = session_seeds(sessions, seeds)
    total = len(names) * len(seeds_used)
    workers = workers if workers is not None else min(os.cpu_count() or 1, len(names))
    if sessions < 100:
        workers = 1  # starting processes costs more than it saves
    t0 = time.perf_counter()
    args = (songs, env_config, model, seeds_used, candidates)
    results: dict[str, tuple[dict[str, np.ndarray], float]] = {}
    if workers <= 1:
        counter = _Ticks(total, on_progress)
        for name in names:
            results[name] = _run_policy(name, *args, ticks=counter)
    else:
        context = multiprocessing.get_context("spawn")  # torch and fork do not mix
        with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
            ticks = manager.Queue()
            futures = {name: pool.submit(_run_policy, name, *args, ticks) for name in names}
            done = 0
            while not all(f.done() for f in futures.values()) or done < total:
                try:
                    done += ticks.get(timeout=0.2)
                except queue.Empty:
                    if all(f.done() for f in futures.values()):
                        break
                    continue
                if on_progress is not None:
                    on_progress(done, total)
            results = {name: future.result() for name, future in futures.items()}
    return _report(catalog, env_config, model, seeds, seeds_used, results, time.perf_counter() - t0)


def _report(catalog: Catalog, env_config: EnvConfig, model: Path | None, seeds: int, seeds_used: np.ndarray,
            results: dict[str, tuple[dict[str, np.ndarray], float]], seconds: float) -> dict[str, Any]:
    idx = resamples(len(seeds_used))
    lo_boot = results["random"][0]["return"][idx].mean(axis=1)
    hi_boot = results["oracle"][0]["return"][idx].mean(axis=1)
    lo_mean, hi_mean = results["random"][0]["return"].mean(), results["oracle"][0]["return"].mean()
    summary: dict[str, Any] = {}
    for name in (n for n in EVALUATED if n in results):
        rows, coverage = results[name]
        entry: dict[str, Any] = {}
        for metric, values in rows.items():
            if np.isnan(values).any():
                continue  # like_late in sessions of 20 songs or fewer
            entry[metric] = interval(values, idx, np.mean)
        entry["coverage"] = coverage
        span = np.where(hi_boot - lo_boot == 0, 1, hi_boot - lo_boot)
        boot = (rows["return"][idx].mean(axis=1) - lo_boot) / span
        entry["normalised"] = {
            "mean": float((rows["return"].mean() - lo_mean) / ((hi_mean - lo_mean) or 1.0)),
            "low": float(np.percentile(boot, 2.5)), "high": float(np.percentile(boot, 97.5)),
        }
        summary[name] = entry
    report: dict[str, Any] = {
        "catalog": {"name": catalog.name, "fingerprint": catalog.fingerprint, "songs": len(catalog)},
        "env": asdict(env_config),
        "sessions": len(seeds_used),
        "seeds": seeds,
        "seconds": round(seconds, 1),
        "model": str(model) if model is not None else "",
        "policies": summary,
    }
    if "dqn" in summary:
        report["checks"] = checks(summary)
    return report


def checks(summary: dict[str, Any]) -> dict[str, Any]:
    """The DQN against every baseline on session return: the gap and whether the intervals part."""
    dqn = summary["dqn"]["return"]
    out: dict[str, Any] = {}
    for name, entry in summary.items():
        if name in ("dqn", "oracle"):
            continue
        other = entry["return"]
        out[name] = {"difference": dqn["mean"] - other["mean"], "apart": dqn["low"] > other["high"]
                     or other["low"] > dqn["high"], "dqn_better": dqn["mean"] > other["mean"]}
    return out
