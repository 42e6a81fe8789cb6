"""What `tui-dj evaluate --panel` prints: the panels' tables and the lines that explain them."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.table import Table


def panel_table(summary: dict[str, Any], title: str) -> Table:
    """Per policy, the median over the listeners of the like rate over songs 1-20 and over the rest
    (with the 95% interval of that median), the worst listener's, the median skip rate, and the
    DQN's median over this policy's (its interval, listeners paired, is in the JSON)."""
    songs = summary["songs"]
    table = Table(title=title, title_justify="left")
    table.add_column("policy", no_wrap=True)
    table.add_column("1-20", justify="right", no_wrap=True)
    table.add_column(f"21-{songs} [95%]", justify="right", no_wrap=True)
    table.add_column("worst", justify="right", no_wrap=True)
    table.add_column("skips", justify="right", no_wrap=True)
    table.add_column("dqn ÷", justify="right", no_wrap=True)
    for name, e in summary["policies"].items():
        late = e["like_late"]
        ratio = e.get("dqn_ratio")
        table.add_row(
            name, f"{e['like_early']['median']:.2f}",
            f"{late['median']:.2f} [{late['low']:.2f}-{late['high']:.2f}]",
            f"{e['worst_late']:.2f}", f"{e['skip_rate']:.2f}",
            "" if ratio is None else f"{ratio['median']:.2f}",
            style="bold" if name == "dqn" else "",
        )
    return table


def panel_notes(summary: dict[str, Any]) -> list[str]:
    """The lines under the table: the worst listener and how often Up next told the truth."""
    lines = []
    for name, e in summary["policies"].items():
        if name == "dqn":
            lines.append(f"DQN: {e['listeners']} listeners; worst: {e['worst_listener']} ({e['worst_late']:.2f}); "
                         f"the head of Up next was the song that followed in {e['up_next_followed']:.1%} of "
                         "the changes without a dislike.")
    return lines


# --- the families panel -----------------------------------------------------------------------

# Column heads of the policy × family table: four letters each, so nine families fit 80 columns.
FAMILY_HEADS = {"simulator": "sim", "thresholds": "rule", "radius": "list", "skip-heavy": "skip",
                "dislike-heavy": "dis", "lazy": "lazy", "implicit": "impl", "mood": "mood", "two-tastes": "two"}


def _short(value: float) -> str:
    """.52 for 0.52 (and 1.0 for 1): the tables of nine families need every column they can get."""
    return f"{value:.2f}".removeprefix("0") if value < 1 else f"{value:.1f}"


# Policy names short enough for the families table at 80 columns.
SHORT_NAMES = {"liked-mean-diverse": "likes+div", "liked-mean": "likes"}


def _bound(value: float) -> str:
    """An interval's end in a few characters (a bootstrap over a median near 0 can run to 10^7)."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}" if value < 100 else "99+"


def _ratio(ratio: dict[str, float] | None) -> str:
    return "" if ratio is None else f"{ratio['median']:.2f} [{_bound(ratio['low'])}-{_bound(ratio['high'])}]"


def family_tables(summary: dict[str, Any]) -> list[Table]:
    """Two tables: per family, the DQN against the best baseline of that family with its runs of
    rejections; then every policy's median score per family (the frozen DQN's among them)."""
    songs, families = summary["songs"], summary["families"]
    count = max((e["listeners"] for e in families.values()), default=0)
    verdict = Table(title=f"families: {count} listeners each × {songs} songs; median score over 21-{songs}",
                    title_justify="left", box=None, pad_edge=False)
    for head in ("family", "best baseline", "dqn [95%]", "dqn ÷ best", "runs"):
        verdict.add_column(head, no_wrap=True, justify="left" if head in ("family", "best baseline") else "right")
    for family, e in families.items():
        dqn = e["policies"].get("dqn")
        best = e.get("best_baseline")
        verdict.add_row(
            family,
            "" if best is None else f"{SHORT_NAMES.get(best, best)} {_short(e['policies'][best]['late']['median'])}",
            "" if dqn is None else f"{_short(dqn['late']['median'])} [{_short(dqn['late']['low'])}-"
                                   f"{_short(dqn['late']['high'])}]",
            _ratio(e.get("dqn_vs_best")),
            "" if dqn is None else f"{dqn['run_after']['median']:g}/{dqn['run_after']['worst']}/"
                                   f"{dqn['run_any']['worst']}",
        )
    grid = Table(title="every policy, median score per family", title_justify="left", box=None, pad_edge=False)
    grid.add_column("policy", no_wrap=True)
    for family in families:
        grid.add_column(FAMILY_HEADS.get(family, family[:4]), justify="right", no_wrap=True)
    names = list(dict.fromkeys(p for e in families.values() for p in e["policies"]))
    for name in names:
        grid.add_row(name, *(_short(e["policies"][name]["late"]["median"]) if name in e["policies"] else ""
                             for e in families.values()), style="bold" if name == "dqn" else "")
    return [verdict, grid]


def family_notes(summary: dict[str, Any]) -> list[str]:
    """The words of the tables, and which of the goals the DQN met."""
    songs, goals = summary["songs"], summary["goals"]
    lines = [
        f"score: like rate over songs 21-{songs}; lazy and implicit (who seldom or never press like): "
        "the share of the songs they heard that they love. best baseline: the highest median of that "
        "family, the oracle and the DQN left out (likes: near my likes, liked-mean; likes+div: the "
        "same with diversity). dqn-frozen: the same DQN, the online update off. "
        "dqn ÷ best: the medians' ratio [95% interval, listeners paired]. runs: the longest run of "
        "skips and dislikes after the first like or finish (median/worst over the listeners), then "
        "the worst anywhere, cold start included. Songs 41 on, every listener and the frozen DQN's "
        "ratio are in the JSON (--json). The heads of the second table: " +
        ", ".join(f"{h} {f}" for f, h in FAMILY_HEADS.items() if f in summary["families"]) + ".",
    ]
    checks = summary.get("checks", {})
    if checks:
        met = {goal: [f for f, c in checks.items() if c[goal]] for goal in ("ratio", "run_after", "run_any")}
        lines.append(f"Goals met by the DQN: ÷ best ≥ {goals['ratio']} in {len(met['ratio'])} of {len(checks)} "
                     f"families; runs after the first like or finish median ≤ {goals['run_after_median']} and "
                     f"worst ≤ {goals['run_after_worst']} in {len(met['run_after'])}; worst anywhere ≤ "
                     f"{goals['run_any_worst']} in {len(met['run_any'])}.")
        followed = [e["policies"]["dqn"]["up_next_followed"] for e in summary["families"].values()
                    if "dqn" in e["policies"]]
        lines.append(f"The head of Up next was the song that followed in {np.nanmean(followed):.1%} of the "
                     "DQN's changes without a dislike.")
    online = summary.get("online")
    if online:
        said = []
        for label, span in (("late", f"21-{songs}"), ("end", f"41-{songs}")):
            if label in online:
                e = online[label]
                behind = [f for f, d in e["per_family"].items() if d < 0]
                said.append(f"songs {span} {e['mean']:+.3f} [{e['low']:+.3f} to {e['high']:+.3f}]"
                            + (f", behind in {', '.join(behind)}" if behind else ", behind in none"))
        lines.append("Online update on minus off (dqn - dqn-frozen), mean over families of the medians' "
                     "difference: " + "; ".join(said) + ".")
        said = []
        for label, span in (("late", f"21-{songs}"), ("end", f"41-{songs}")):
            if label in online and "paired" in online[label]:
                e = online[label]["paired"]
                ahead = [f for f, d in e["per_family"].items() if d["low"] > 0]
                behind = [f for f, d in e["per_family"].items() if d["high"] < 0]
                said.append(f"songs {span} {e['mean']:+.3f} [{e['low']:+.3f} to {e['high']:+.3f}], ahead in "
                            f"{', '.join(ahead) or 'none'}, behind in {', '.join(behind) or 'none'}")
        if said:
            lines.append("The same person by person (the mean of each one's on minus off; ahead or behind: "
                         "the family's interval clear of zero): " + "; ".join(said) + ".")
    return lines


def leave_out_table(report: dict[str, Any]) -> Table:
    """Per family: the DQN trained on every family against the one trained without it (over
    several training runs when the report has `seeds`: the mean of their medians, and the range
    of the seeds' own ratios)."""
    seeds = report.get("seeds")
    if seeds:
        title = (f"leave one family out over {len(seeds)} training runs (seeds {_seeds(seeds)}): "
                 f"mean of their median scores over songs 21-{report['songs']}")
    else:
        title = f"leave one family out: median score over songs 21-{report['songs']}"
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    heads = ["family", "trained on all", "without it", "without ÷ with", *(["by seed"] if seeds else []),
             f"≥ {report['within']:.0%}"]
    for head in heads:
        table.add_column(head, no_wrap=True, justify="left" if head == "family" else "right")
    for family, e in report["families"].items():
        span = e.get("seed_ratios")
        by_seed = [f"{span[0]:.2f}-{span[1]:.2f}" if span else "—"] if seeds else []
        table.add_row(family, _short(e["with"]), _short(e["without"]), _ratio(e["ratio"]) or "—", *by_seed,
                      "yes" if e["holds"] else "no")
    return table


def _seeds(seeds: list[int]) -> str:
    """0-6 for a run of seeds, else 0, 2, 5."""
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))
