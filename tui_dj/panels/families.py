"""The families panel: people of every listener family (`learn.families`), the same people for
every policy, and what the panel reports per family: the score over songs 21-60 (and 41-60), the
longest runs of rejections, and the DQN against the best baseline of that family.

Each person is drawn from a seed fixed by their name, from a random stream of their own; they
react through `run.play` as the other panels' people do. With the TidyTuesday file, the families
whose taste can be a playlist's take a real playlist's (its songs out of the catalog, as in the
playlists panel); the others draw theirs from the catalog.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_dj.catalog import Catalog
from tui_dj.learn.families import FAMILIES, Person, draw, scored_on
from tui_dj.learn.registry import LEARNED, is_baseline
from tui_dj.learn.simulate import EARLY
from tui_dj.learn.songs import SongTable
from tui_dj.learn.stats import interval, longest_run, paired_ratio, resamples
from tui_dj.panels.playlists import Playlist

if TYPE_CHECKING:
    from tui_dj.panels.run import Result

PER_FAMILY = 8
END = 40  # "the end of the session": songs 41-60 are also reported
SPLITS = {"report": "", "dev": "dev "}  # a split's people: their names start with this
DRAW_STREAM, PLAYLIST_STREAM = 16, 17  # streams of a person's seed, apart from the session's three
# The goals, checked and written into the JSON: DQN ÷ best baseline, runs of rejections.
GOALS = {"ratio": 1.1, "run_after_median": 5, "run_after_worst": 8, "run_any_worst": 15}


@dataclass(frozen=True)
class Member:
    """One person of a family, made on demand from their seed (and a real playlist's songs)."""

    name: str
    family: str
    seed: int
    playlist: np.ndarray | None = None  # scaled features of the real playlist their taste is
    hidden: np.ndarray | None = None  # its rows, kept out of the session's catalog

    def __call__(self, songs: SongTable) -> Person:
        return draw(self.family, songs, np.random.default_rng([self.seed, DRAW_STREAM]), self.playlist)


def family_listeners(catalog: Catalog, per_family: int, playlists: list[Playlist],
                     split: str = "report") -> list[Member]:
    """`per_family` people of every family, in a fixed order; with playlists, a real one each for
    the families that take one (playlists with fewer than two songs in the catalog are passed by).
    `split` "dev" gives other people of the same families (their names, and so their seeds, start
    with "dev "): the development split that settings are tuned on, never the reported one."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    ids = catalog.tracks["track_id"]
    usable = []
    for playlist in playlists:
        rows = np.flatnonzero(ids.isin(playlist.track_ids).to_numpy())
        if len(rows) >= 2:
            usable.append(rows)
    out = []
    for family in FAMILIES:
        for i in range(per_family):
            name = f"{SPLITS[split]}{family} {i + 1}"
            seed = zlib.crc32(name.encode("utf-8"))
            if usable and FAMILIES[family].takes_playlist:
                rows = usable[int(np.random.default_rng([seed, PLAYLIST_STREAM]).integers(len(usable)))]
                out.append(Member(name, family, seed, catalog.features[rows], rows))
            else:
                out.append(Member(name, family, seed))
    return out


def score(result: Result, first: int, last: int) -> float:
    """The like rate of songs `first`..`last` (0-based, end excluded), or for a family scored on
    love, the share of the songs heard then that the person loves."""
    if scored_on(result.group) == "loved":
        loved = result.loved[first:last]
        return float(np.mean(loved)) if loved else 0.0
    return result.rate("like", first, last)


def _policy_figures(rows: list[Result], n_songs: int, idx: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    late = np.array([score(r, EARLY, n_songs) for r in rows])
    after = np.array([longest_run(r.outcomes, after_first_good=True) for r in rows])
    anywhere = np.array([longest_run(r.outcomes) for r in rows])
    changes = sum(r.changes for r in rows)
    entry: dict[str, Any] = {
        "late": interval(late, idx),
        "run_after": {"median": float(np.median(after)), "worst": int(after.max())},
        "run_any": {"median": float(np.median(anywhere)), "worst": int(anywhere.max())},
        "up_next_followed": sum(r.followed for r in rows) / changes if changes else float("nan"),
        "per_listener": {r.listener: round(float(v), 4) for r, v in zip(rows, late, strict=True)},
    }
    if n_songs > END:
        entry["end"] = interval(np.array([score(r, END, n_songs) for r in rows]), idx)
    return entry, late


def summarise_families(results: list[Result], n_songs: int) -> dict[str, Any]:
    """Per family and policy: the median score over songs 21 on (and 41 on) with its 95% interval
    (resampling listeners), the longest runs of rejections, how often Up next told the truth; per
    family, the best baseline and the DQN's (and the frozen DQN's) ratio to it, listeners paired."""
    grouped: dict[str, dict[str, list[Result]]] = {}
    for r in results:
        grouped.setdefault(r.group, {}).setdefault(r.policy, []).append(r)
    summary: dict[str, Any] = {"songs": n_songs, "goals": GOALS, "families": {}}
    for family in (f for f in FAMILIES if f in grouped):
        by_policy = grouped[family]
        n = min(len(rows) for rows in by_policy.values())
        idx = resamples(n)
        policies, scores = {}, {}
        for name, rows in by_policy.items():
            rows = sorted(rows, key=lambda r: r.listener)[:n]
            policies[name], scores[name] = _policy_figures(rows, n_songs, idx)
        entry: dict[str, Any] = {"scored_on": scored_on(family), "listeners": n, "policies": policies}
        rivals = [p for p in scores if is_baseline(p)]
        if rivals:
            best = max(rivals, key=lambda p: (policies[p]["late"]["median"], policies[p]["late"]["low"]))
            entry["best_baseline"] = best
            for learned in (p for p in LEARNED if p in scores):
                entry[f"{learned}_vs_best"] = paired_ratio(scores[learned], scores[best], idx)
        summary["families"][family] = entry
    summary["online"] = online_effect(grouped, n_songs)
    summary["checks"] = checks(summary)
    return summary


def online_effect(grouped: dict[str, dict[str, list[Result]]], n_songs: int) -> dict[str, Any] | None:
    """The online update on (dqn) against off (dqn-frozen), same people: per family, the difference
    of the median scores; over families, the mean of those differences with a 95% interval
    (listeners resampled within each family), for songs 21 on and 41 on. And `paired`: per family,
    the mean over its people of each one's own difference (on minus off), with its interval; over
    families, the mean of those. A difference of medians can hide people the update set back."""
    pairs = {f: (sorted(p["dqn"], key=lambda r: r.listener), sorted(p["dqn-frozen"], key=lambda r: r.listener))
             for f, p in grouped.items() if "dqn" in p and "dqn-frozen" in p}
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for label, first in (("late", EARLY), ("end", END)):
        if first >= n_songs:
            continue
        per_family, boots = {}, []
        paired, paired_boots = {}, []
        for seed, (family, (on, off)) in enumerate(pairs.items()):
            a = np.array([score(r, first, n_songs) for r in on])
            b = np.array([score(r, first, n_songs) for r in off])
            idx = resamples(len(a), seed=seed)
            per_family[family] = float(np.median(a) - np.median(b))
            boots.append(np.median(a[idx], axis=1) - np.median(b[idx], axis=1))
            own = (a - b)[idx].mean(axis=1)
            paired[family] = {"mean": float((a - b).mean()), "low": float(np.percentile(own, 2.5)),
                              "high": float(np.percentile(own, 97.5))}
            paired_boots.append(own)
        mean = np.mean(boots, axis=0)
        paired_mean = np.mean(paired_boots, axis=0)
        out[label] = {"per_family": per_family, "mean": float(np.mean(list(per_family.values()))),
                      "low": float(np.percentile(mean, 2.5)), "high": float(np.percentile(mean, 97.5)),
                      "paired": {"per_family": paired, "mean": float(np.mean([e["mean"] for e in paired.values()])),
                                 "low": float(np.percentile(paired_mean, 2.5)),
                                 "high": float(np.percentile(paired_mean, 97.5))}}
    return out


def checks(summary: dict[str, Any]) -> dict[str, Any]:
    """Which of the issue's goals the DQN meets, per family (None where it did not run)."""
    out: dict[str, Any] = {}
    for family, entry in summary["families"].items():
        dqn = entry["policies"].get("dqn")
        if dqn is None:
            continue
        ratio = entry.get("dqn_vs_best")
        out[family] = {
            "ratio": None if ratio is None else ratio["median"] >= GOALS["ratio"],
            "run_after": dqn["run_after"]["median"] <= GOALS["run_after_median"]
            and dqn["run_after"]["worst"] <= GOALS["run_after_worst"],
            "run_any": dqn["run_any"]["worst"] <= GOALS["run_any_worst"],
        }
    return out
