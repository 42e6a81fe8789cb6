"""`tui-dj evaluate`: the trained agent and every baseline over the same seeded sessions.

Each session seed fixes the listener, so every policy meets the same people. For each policy:
mean and 95% bootstrap interval of session return, like rate, skip rate, session length, quit
rate and within-session diversity; catalog coverage; and the return normalised between random (0)
and the oracle (1), bootstrapped with the sessions paired across policies.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from tui_dj.atomic import atomic_write_bytes
from tui_dj.catalog.model import Catalog
from tui_dj.config import EnvConfig
from tui_dj.errors import TuiDjError
from tui_dj.learn.baselines import DQNPolicy, Policy, baselines
from tui_dj.learn.env import DJEnv, SongTable

METRICS = ("return", "like_rate", "skip_rate", "length", "quit_rate", "diversity")
EVAL_SEED_BASE = 7_000_000_000  # far from any training episode's seed
BOOTSTRAP = 2000


def session_seeds(sessions: int, seeds: int) -> np.ndarray:
    """`sessions` listener seeds spread over `seeds` evaluation seeds."""
    per = -(-sessions // seeds)
    return np.array([EVAL_SEED_BASE + s * 1_000_000 + i for s in range(seeds) for i in range(per)][:sessions], np.int64)


def run_session(env: DJEnv, policy: Policy, seed: int) -> tuple[dict[str, float], list[int]]:
    rng = np.random.default_rng(seed)
    env.reset(seed=int(seed))
    start = len(env.trace)  # the similarity model starts from five songs already played
    policy.begin(env, rng)
    total, done = 0.0, False
    events: list[str] = []
    while not done:
        index = policy.choose(env, rng)
        _, reward, terminated, truncated, info = env.step(index)
        policy.observe(env, index, reward)
        total += reward
        events.append(info["event"])
        done = terminated or truncated
    played = env.trace.played[start:]
    x = env.songs.features[played]
    diversity = 0.0
    if len(x) > 1:
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        diversity = float(d.sum() / (len(x) * (len(x) - 1)))
    n = len(events)
    return {
        "return": total,
        "like_rate": events.count("like") / n,
        "skip_rate": events.count("skip") / n,
        "length": float(n),
        "quit_rate": float(events[-1] == "quit"),
        "diversity": diversity,
    }, played


def _interval(values: np.ndarray, idx: np.ndarray) -> tuple[float, float, float]:
    boot = values[idx].mean(axis=1)
    return float(values.mean()), float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))


def _make_policy(name: str, model: Path | None) -> Policy:
    if name == "dqn":
        from tui_dj.learn.agent import load_agent

        assert model is not None
        return DQNPolicy(load_agent(model)[0])
    return {p.name: p for p in baselines()}[name]


def _run_policy(name: str, songs: SongTable, env_config: EnvConfig, model: Path | None,
                seeds: np.ndarray, candidates: int) -> tuple[dict[str, np.ndarray], float]:
    """Every session for one policy (run in a worker process when there are several)."""
    import torch

    torch.set_num_threads(1)
    env = DJEnv(songs, env_config, candidates=candidates)
    policy = _make_policy(name, model)
    rows = {m: np.zeros(len(seeds)) for m in METRICS}
    seen: set[int] = set()
    for i, seed in enumerate(seeds):
        result, played = run_session(env, policy, int(seed))
        for m in METRICS:
            rows[m][i] = result[m]
        seen.update(played)
    return rows, len(seen) / len(songs)


def evaluate(catalog: Catalog, model: Path | None, env_config: EnvConfig, sessions: int = 1000,
             seeds: int = 5, candidates: int = 64, console: Console | None = None,
             workers: int | None = None) -> dict[str, Any]:
    """Run every policy over the same sessions; return the summary (also what the JSON holds).

    Policies run side by side in `workers` processes (default: one per CPU, at most the policies).
    """
    if sessions < 2 or seeds < 1:
        raise TuiDjError("Evaluate needs at least 2 sessions and 1 seed.")
    console = console or Console(stderr=True)
    songs = SongTable.from_catalog(catalog)
    DJEnv(songs, env_config, candidates=candidates)  # refuses a catalog too small, before any work
    # The slowest first, so that the processes finish together.
    names = ["oracle"] + (["dqn"] if model is not None else []) + \
        ["thompson", "linucb", "diverse", "greedy", "popular", "random"]
    seeds_used = session_seeds(sessions, seeds)
    workers = workers if workers is not None else min(os.cpu_count() or 1, len(names))
    if sessions < 100:
        workers = 1  # starting processes costs more than it saves
    per_policy: dict[str, dict[str, np.ndarray]] = {}
    coverage: dict[str, float] = {}
    t0 = time.perf_counter()
    args = (songs, env_config, model, seeds_used, candidates)
    with console.status(f"evaluating {len(names)} policies over {len(seeds_used):,} sessions…") as status:
        if workers <= 1:
            results = []
            for name in names:
                status.update(f"evaluating {name} over {len(seeds_used):,} sessions…")
                results.append(_run_policy(name, *args))
        else:
            context = multiprocessing.get_context("spawn")  # torch and fork do not mix
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                futures = [pool.submit(_run_policy, name, *args) for name in names]
                results = []
                for done, future in enumerate(futures, 1):
                    results.append(future.result())
                    status.update(f"evaluating: {done} of {len(names)} policies done…")
    order = ["random", "popular", "greedy", "diverse", "linucb", "thompson", "dqn", "oracle"]
    for name in order:
        if name in names:
            rows, cov = results[names.index(name)]
            per_policy[name] = rows
            coverage[name] = cov
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(seeds_used), size=(BOOTSTRAP, len(seeds_used)))
    lo_name, hi_name = "random", "oracle"
    lo_boot = per_policy[lo_name]["return"][idx].mean(axis=1)
    hi_boot = per_policy[hi_name]["return"][idx].mean(axis=1)
    lo_mean, hi_mean = per_policy[lo_name]["return"].mean(), per_policy[hi_name]["return"].mean()
    summary: dict[str, Any] = {}
    for name, rows in per_policy.items():
        entry: dict[str, Any] = {m: dict(zip(("mean", "low", "high"), _interval(v, idx), strict=True))
                                 for m, v in rows.items()}
        entry["coverage"] = coverage[name]
        boot = (rows["return"][idx].mean(axis=1) - lo_boot) / np.where(hi_boot - lo_boot == 0, 1, hi_boot - lo_boot)
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
        report["checks"] = _checks(summary, env_config)
    return report


def _checks(s: dict[str, Any], env: EnvConfig) -> dict[str, Any]:
    """The comparisons the project's claims rest on, stated with their numbers."""
    dqn = s["dqn"]["return"]
    out: dict[str, Any] = {}
    bandit = max(("linucb", "thompson"), key=lambda n: s[n]["return"]["mean"])
    for name in ("greedy", bandit):
        other = s[name]["return"]
        gain = (dqn["mean"] - other["mean"]) / abs(other["mean"]) if other["mean"] else float("inf")
        out[f"dqn_vs_{name}"] = {
            "dqn": dqn["mean"], name: other["mean"], "relative_gain": gain,
            "intervals_overlap": not (dqn["low"] > other["high"] or other["low"] > dqn["high"]),
        }
    greedy = s["greedy"]["return"]
    out["dqn_within_greedy_interval"] = greedy["low"] <= dqn["mean"] <= greedy["high"]
    out["dqn_share_of_greedy"] = dqn["mean"] / greedy["mean"] if greedy["mean"] else None
    return out


def table(report: dict[str, Any]) -> Table:
    env = report["env"]
    flags = [k for k in ("boredom", "drift", "quit") if not env[k]]
    title = (f"{report['sessions']:,} sessions ({report['seeds']} seeds) on {report['catalog']['name']}; "
             f"reward {env['reward']}" + (f"; off: {', '.join(flags)}" if flags else ""))
    t = Table(title=title, title_justify="left")
    t.add_column("policy")
    for label in ("return", "like rate", "skip rate", "length", "quit rate", "diversity", "coverage", "score"):
        t.add_column(label, justify="right")

    def ci(entry: dict[str, float], digits: int = 2) -> str:
        half = (entry["high"] - entry["low"]) / 2
        return f"{entry['mean']:.{digits}f} ± {half:.{digits}f}"

    for name, e in report["policies"].items():
        style = "bold" if name == "dqn" else ""
        t.add_row(name, ci(e["return"]), ci(e["like_rate"]), ci(e["skip_rate"]), ci(e["length"], 1),
                  ci(e["quit_rate"]), ci(e["diversity"]), f"{e['coverage']:.1%}", ci(e["normalised"]),
                  style=style)
    return t


def run_evaluate(catalog: Catalog, model: Path | None, env_config: EnvConfig, sessions: int, seeds: int,
                 out: Path | None, console: Console | None = None) -> dict[str, Any]:
    """Load the model (if any), evaluate, print the table and write the JSON."""
    console = console or Console()
    agent = None
    if model is not None:
        from tui_dj.learn.agent import load_agent

        agent, meta = load_agent(Path(model), n_songs=len(catalog))
        trained_env = (meta.get("train_config") or {}).get("env")
        if trained_env and trained_env != asdict(env_config):
            Console(stderr=True).print(f"[yellow]note:[/] {model} was trained with env settings {trained_env}; "
                                       f"evaluating with {asdict(env_config)}.")
    report = evaluate(catalog, Path(model) if model is not None else None, env_config, sessions=sessions,
                      seeds=seeds, candidates=agent.config.candidates if agent is not None else 64,
                      console=Console(stderr=True))
    console.print(table(report))
    if "checks" in report:
        console.print_json(json.dumps(report["checks"]))
    if out is not None:
        atomic_write_bytes(Path(out), json.dumps(report, indent=2).encode())
        Console(stderr=True).print(f"Wrote {out}")
    return report
