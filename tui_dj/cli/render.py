"""Everything the commands print: Rich tables and progress bars over what the core returns.

The core (catalog, learn, store) reports progress through callbacks and returns plain data; this
module is the only place that turns them into text for a terminal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tui_dj.catalog.model import FEATURES, GENRE_SEP, Catalog
from tui_dj.store.records import SessionSummary

# --- prep -------------------------------------------------------------------------------------


@contextlib.contextmanager
def import_progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A bar per file read (bytes), then a spinner while the rows are merged."""
    if not console.is_terminal:
        # Off a terminal a transient bar leaves a blank line behind it, before the result or error.
        yield lambda what, done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=total or None)
            progress.update(tasks[what], completed=done)

        yield update


@contextlib.contextmanager
def music_progress(console: Console) -> Iterator[Callable[[Any], None]]:
    """A bar per stage of a music folder's import (scanning, reading tags, analysing): files done,
    songs a second, time left."""
    if not console.is_terminal:
        yield lambda p: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                  TaskProgressColumn(show_speed=True), TimeRemainingColumn(), TextColumn("{task.fields[now]}"),
                  console=console, transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(p: Any) -> None:
            if p.stage not in tasks:
                tasks[p.stage] = progress.add_task(p.stage.capitalize(), total=p.total or None, now="")
            name = str(p.current)[-30:] if p.current else ""
            progress.update(tasks[p.stage], completed=p.done, total=p.total or None, now=name)

        yield update


def _genre_count(catalog: Catalog) -> int:
    # Split the few distinct genre strings, not every row's.
    joined = catalog.tracks["genres"].dropna().unique()
    return len({g for text in joined for g in str(text).split(GENRE_SEP) if g})


def catalog_summary(catalog: Catalog) -> Table:
    """Where the songs came from, what was dropped or adjusted and why, and the feature ranges."""
    m = catalog.manifest
    table = Table(title=f"Catalog: {len(catalog):,} song{'' if len(catalog) == 1 else 's'}", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    sources = m.get("sources", [])
    for i, source in enumerate(sources):
        name = Path(str(source.get("path", ""))).name or str(source.get("path"))
        rows = source.get("rows_read", source.get("rows", 0))
        table.add_row(f"{name}: {source.get('schema_found', source.get('schema', ''))}",
                      f"{rows:,} row{'' if rows == 1 else 's'}",
                      end_section=i == len(sources) - 1)
    table.add_row("rows read", f"{m.get('rows_read', len(catalog)):,}")
    if m.get("duplicates_merged"):
        table.add_row("duplicate rows merged (genres kept)", f"{m['duplicates_merged']:,}")
    if "unique_tracks" in m:
        table.add_row("unique tracks", f"{m['unique_tracks']:,}")
    for reason, count in m.get("dropped", {}).items():
        table.add_row(f"dropped: {reason}", f"{count:,}")
    for reason, count in m.get("adjusted", {}).items():
        table.add_row(f"kept, {reason}", f"{count:,}")
    music = m.get("music")
    if music:
        table.add_row("music files found", f"{music.get('files', 0):,}")
        table.add_row("  analysed now", f"{music.get('analysed', 0):,}")
        table.add_row("  from the cache (unchanged)", f"{music.get('from_cache', 0):,}")
        if music.get("moved"):
            table.add_row("  moved (analysis kept)", f"{music['moved']:,}")
        rate = music.get("match_rate")
        if rate is not None:
            table.add_row("  features borrowed (match rate)", f"{music.get('borrowed', 0):,} ({rate:.0%})")
        if music.get("failed"):
            table.add_row("  could not be read", f"{len(music['failed']):,}")
    table.add_row("[bold]songs kept[/]", f"[bold]{len(catalog):,}[/]", end_section=True)
    table.add_row("genres", f"{_genre_count(catalog):,}")
    raw = catalog.raw_features()
    low, high = np.min(raw, axis=0), np.max(raw, axis=0)
    for i, name in enumerate(FEATURES):
        table.add_row(name, f"{low[i]:.3g} .. {high[i]:.3g}")
    table.add_row("fingerprint", catalog.fingerprint)
    return table


# --- history ----------------------------------------------------------------------------------


def _when(stamp: float | None) -> str:
    return "" if stamp is None else datetime.fromtimestamp(stamp).strftime("%m-%d %H:%M")


def sessions_table(rows: Sequence[SessionSummary], who: str, folder: Path) -> Table:
    """The latest sessions (all profiles, or one)."""
    # No outer edge: its four cells are the profile's name on an 80-column terminal.
    table = Table(title=f"Recent sessions, {who}" if rows else f"No sessions yet for {who} in {folder}",
                  title_justify="left", show_edge=False, pad_edge=False)
    for column in ("started", "min", "profile", "songs", "likes", "finish", "skips", "dislikes", "reward"):
        # Only the profile's name gives way on a narrow terminal: a cut header ("disli…") or number
        # says nothing.
        if column == "profile":
            table.add_column(column, overflow="ellipsis", min_width=7, max_width=20)  # names have no spaces
        else:
            table.add_column(column, justify="left" if column == "started" else "right", no_wrap=True,
                             min_width=11 if column == "started" else len(column))
    for s in rows:
        minutes = "" if s.ended is None else f"{(s.ended - s.started) / 60:.0f}"
        table.add_row(_when(s.started), minutes, s.profile, str(s.plays), str(s.likes),
                      str(s.finishes), str(s.skips), str(s.dislikes), f"{s.total_reward:+.2f}")
    return table


# --- train ------------------------------------------------------------------------------------


def catalog_label(name: str, songs: int) -> str:
    """A catalog in words, its song count once: the built-in one's name already says it."""
    if name.startswith("built-in ("):
        return name.replace(f"({songs} songs", f"({songs:,} songs")
    return f"{name} ({songs:,} songs)"


@contextlib.contextmanager
def train_progress(console: Console, total: int, start: int) -> Iterator[Callable[[Any], None]]:
    """A bar over training sessions with the mean return, ε, loss and speed (a `train.Progress` each)."""
    # Fits 80 columns: the bar takes what the numbers leave.
    with Progress(
        TextColumn("[bold]train[/]"), BarColumn(bar_width=None), MofNCompleteColumn(),
        TextColumn("return {task.fields[mean]:>5.1f}"), TextColumn("ε {task.fields[eps]:.2f}"),
        TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[sps]:>4.0f}/s"),
        TimeRemainingColumn(compact=True), console=console, transient=True,
    ) as progress:
        task = progress.add_task("train", total=total, completed=start, mean=0.0, eps=1.0, loss="  -  ", sps=0.0)

        def update(p: Any) -> None:
            progress.update(task, completed=p.episode, mean=p.mean_return, eps=p.epsilon,
                            loss="  -  " if p.loss is None else f"{p.loss:.3f}", sps=p.steps_per_s)

        yield update


def learning_curve(points: Sequence[float], width: int = 64, height: int = 10) -> str:
    """The mean return over the last 100 sessions as a small block chart for the terminal."""
    if not points:
        return ""
    # One column per slice of sessions: the slice's mean.
    columns = [float(np.mean(chunk)) for chunk in np.array_split(np.asarray(points), min(width, len(points)))]
    low, high = min(columns), max(columns)
    span = high - low or 1.0
    levels = [(c - low) / span * height for c in columns]
    blocks = " ▁▂▃▄▅▆▇█"
    rows = []
    for r in range(height - 1, -1, -1):
        label = f"{(high if r else low):>7.2f} ┤" if r in (height - 1, 0) else "        │"
        cells = "".join(blocks[int(round(min(max(v - r, 0.0), 1.0) * 8))] for v in levels)
        rows.append(label + cells)
    rows.append("        └" + "─" * len(columns))
    rows.append(f"         session 1 … {len(points):,}: mean session return over the last 100")
    return "\n".join(rows)


# --- evaluate ---------------------------------------------------------------------------------


@contextlib.contextmanager
def count_progress(console: Console, what: str) -> Iterator[Callable[[int, int], None]]:
    """A bar over a count of sessions, with the time left."""
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("left"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


@contextlib.contextmanager
def stage_progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A bar per stage of a long job (training models, then each family's sessions)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield update


def _ci(entry: dict[str, float], digits: int = 2) -> str:
    half = (entry["high"] - entry["low"]) / 2
    return f"{entry['mean']:.{digits}f} ±{half:.{digits}f}"


def evaluation_table(report: dict[str, Any], wide: bool = False) -> Table:
    """The policies' figures (mean ± half the 95% interval). The compact one fits 80 columns:
    return, like rate (songs 21 on, when sessions are that long), quit rate and normalised score."""
    env = report["env"]
    off = [k for k in ("boredom", "drift", "quit") if not env[k]]
    title = (f"{report['sessions']:,} sessions of up to {env['max_steps']} songs, {report['seeds']} seeds, "
             f"{report['catalog']['name']}; reward {env['reward']}" + (f"; off: {', '.join(off)}" if off else ""))
    table = Table(title=title, title_justify="left", caption=_evaluation_words(report, wide),
                  caption_justify="left")
    table.add_column("policy", no_wrap=True)
    late = any("like_late" in e for e in report["policies"].values())
    columns: list[tuple[str, str, int]] = [("return", "return", 2)]
    if wide:
        columns += [("like_rate", "like rate", 2), ("like_early", "likes 1-20", 2)]
        columns += [("like_late", "likes 21+", 2)] if late else []
        columns += [("skip_rate", "skip rate", 2), ("length", "length", 1), ("quit_rate", "quit", 2),
                    ("diversity", "diversity", 2)]
    else:
        columns += [("like_late", "likes 21+", 2)] if late else [("like_rate", "like rate", 2)]
        columns += [("quit_rate", "quit", 2)]
    for _, label, _ in columns:
        table.add_column(label, justify="right", no_wrap=True)
    if wide:
        table.add_column("coverage", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    for name, e in report["policies"].items():
        cells = [_ci(e[key], digits) if key in e else "" for key, _, digits in columns]
        if wide:
            cells.append(f"{e['coverage']:.1%}")
        table.add_row(name, *cells, _ci(e["normalised"]), style="bold" if name == "dqn" else "")
    return table


# What the evaluation table's words mean, said under it (only those on screen).
_COLUMN_WORDS = {
    "return": "return: a session's summed reward (like +1, heard to the end +0.5, skip -0.25, "
              "dislike or quit -1)",
    "likes 21+": "likes 21+: the share of songs 21 on that were liked",
    "like rate": "like rate: the share of songs liked",
    "quit": "quit: the share of sessions the listener left",
    "score": "score: the return placed between random (0) and the oracle (1)",
}
_POLICY_WORDS = {
    "oracle": "oracle: sees the listener's hidden taste (the ceiling)",
    "thompson": "thompson, linucb: linear bandits that learn from the session",
    "gp-ucb": "gp-ucb: a Gaussian-process bandit over where this session's reactions fell",
    "liked-mean": "liked-mean: plays what is near the mean of the songs liked so far",
    "diverse": "diverse: nearest to the taste, re-ranked for variety",
    "greedy": "greedy: nearest to the taste",
    "popular": "popular: the most popular songs",
}


def _evaluation_words(report: dict[str, Any], wide: bool) -> str:
    names = set(report["policies"])
    late = any("like_late" in e for e in report["policies"].values())
    columns = ["return", "likes 21+" if late else "like rate", "quit", "score"]
    if wide:
        columns = ["return", "score"]  # the wide table's other columns name themselves
    words = [_COLUMN_WORDS[c] for c in columns]
    if report["env"]["reward"] != "listener":  # the figures in brackets are the listener reward's
        words[0] = "return: a session's summed reward"
    words.append("± half the 95% interval")
    words += [text for name, text in _POLICY_WORDS.items() if name in names]
    return "; ".join(words) + "."


def evaluation_verdict(report: dict[str, Any]) -> str:
    """One or two sentences: how the DQN compares with the best baseline and the range."""
    policies = report["policies"]
    if "dqn" not in policies:
        return ""
    checks = report.get("checks", {})
    best = max((n for n in checks), key=lambda n: policies[n]["return"]["mean"])
    dqn, other = policies["dqn"]["return"], policies[best]["return"]
    apart = "intervals apart" if checks[best]["apart"] else "intervals overlapping"
    beaten = sum(1 for c in checks.values() if c["dqn_better"] and c["apart"])
    score = policies["dqn"]["normalised"]["mean"]
    return (f"DQN {dqn['mean']:.2f} against the best baseline ({best}) {other['mean']:.2f}, {apart}; "
            f"above {beaten} of {len(checks)} baselines with intervals apart; score {score:.2f} "
            "(random 0, oracle 1).")


# --- listener panels --------------------------------------------------------------------------
