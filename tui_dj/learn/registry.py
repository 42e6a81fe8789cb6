"""The one list of policies that `evaluate` and the listener panels compare, and how each is made.

The DQN is not made here: `evaluate` loads it frozen from a model file, a panel lets the session
load it (`dqn`: learning online from every reaction, as in the console; `dqn-frozen`: the same
model with the online update off, the ablation every panel shows).
"""

from __future__ import annotations

from collections.abc import Sequence

from tui_dj.errors import TuiDjError
from tui_dj.learn.baselines import baselines
from tui_dj.learn.policy import Policy

ORDER = ("random", "popular", "greedy", "diverse", "liked-mean", "liked-mean-diverse", "linucb", "thompson",
         "gp-ucb", "dqn", "dqn-frozen", "oracle")
LEARNED = ("dqn", "dqn-frozen")
ORACLE = "oracle"
# What `evaluate` runs (its DQN is already frozen), and what a panel runs unless `--policies`
# names others: greedy and diverse only when named, as the panels ran before this registry, since
# every policy costs a whole panel's sessions.
EVALUATED = tuple(n for n in ORDER if n != "dqn-frozen")
PANEL = tuple(n for n in ORDER if n not in ("greedy", "diverse"))


def is_baseline(name: str) -> bool:
    """A policy the DQN must beat: neither the DQN nor the oracle, which reads the hidden taste."""
    return name not in LEARNED and name != ORACLE


def baseline(name: str) -> Policy:
    """A fresh baseline (or the oracle) of this name."""
    return {p.name: p for p in baselines()}[name]


def session_policy(name: str) -> Policy | None:
    """The policy a panel's session runs: None for the DQN the session loads itself."""
    return None if name in LEARNED else baseline(name)


def online_update(name: str) -> bool:
    """Whether the session's DQN learns from each reaction (off only for `dqn-frozen`)."""
    return name != "dqn-frozen"


def chosen(text: str | None, allowed: Sequence[str]) -> list[str]:
    """The policies named in `text` (comma-separated; None: all of `allowed`), in their order."""
    names = [p.strip() for p in (text or ",".join(allowed)).split(",") if p.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise TuiDjError(f"Unknown policy {unknown[0]!r}; choose from {', '.join(allowed)}.")
    return names
