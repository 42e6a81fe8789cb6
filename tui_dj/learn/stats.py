"""The figures `evaluate` and the panels report: bootstrap intervals, paired ratios, runs of
rejections. One helper each, so that every table means the same by "95% interval"."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

BOOTSTRAP = 2000
REJECTIONS = ("skip", "dislike")
Statistic = Callable[..., np.ndarray]


def resamples(n: int, seed: int = 0, count: int = BOOTSTRAP) -> np.ndarray:
    """`count` resamples (with replacement) of `n` indices; shared by every policy, the same index
    is the same session or listener, so figures compared across policies are paired."""
    return np.random.default_rng(seed).integers(0, n, size=(count, n))


def interval(values: np.ndarray, idx: np.ndarray, statistic: Statistic = np.median) -> dict[str, float]:
    """The statistic (median or mean) of `values` and its 95% bootstrap interval."""
    values = np.asarray(values, np.float64)
    boot = statistic(values[idx], axis=1)
    return {"median" if statistic is np.median else "mean": float(statistic(values)),
            "low": float(np.percentile(boot, 2.5)), "high": float(np.percentile(boot, 97.5))}


def paired_ratio(a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> dict[str, float] | None:
    """median(a) / median(b) with its 95% interval, the same listeners resampled for both; None
    when b's median is 0 (no ratio to a policy that scored nothing)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if float(np.median(b)) <= 0:
        return None
    ratio = np.median(a[idx], axis=1) / np.maximum(np.median(b[idx], axis=1), 1e-9)
    return {"median": float(np.median(a) / np.median(b)),
            "low": float(np.percentile(ratio, 2.5)), "high": float(np.percentile(ratio, 97.5))}


def longest_run(outcomes: Sequence[str], after_first_good: bool = False) -> int:
    """The most skips and dislikes in a row; with `after_first_good`, only counting from the first
    song liked or let play to the end (the cold start before it left out)."""
    best = run = 0
    started = not after_first_good
    for outcome in outcomes:
        if outcome in REJECTIONS:
            if started:
                run += 1
                best = max(best, run)
        else:
            run = 0
            started = started or outcome in ("like", "finish")
    return best
