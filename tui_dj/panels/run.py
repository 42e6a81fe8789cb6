"""Play a panel's listeners through the session API, and sum their sessions up.

Every listener meets a fresh profile in a temporary data folder, `open_session` exactly as the
console opens it (the DQN: the model given, learning online from every reaction; a baseline:
`open_session(policy=...)`), and reacts to each song that plays: like then let it end, let it end,
skip or dislike. The listener draws from a random stream of its own, the session from its own.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from tui_dj.catalog import Catalog, builtin_catalog, load_catalog
from tui_dj.learn.baselines import OraclePolicy
from tui_dj.learn.registry import PANEL, online_update, session_policy
from tui_dj.learn.simulate import EARLY, Streams
from tui_dj.learn.songs import SongTable
from tui_dj.learn.stats import interval, paired_ratio, resamples
from tui_dj.panels.families import PER_FAMILY, family_listeners
from tui_dj.panels.personas import personas
from tui_dj.panels.playlists import (
    PlaylistListener,
    exportify_playlist,
    tidytuesday_playlists,
    without,
)
from tui_dj.session import open_session

SONGS = 60
POLICIES = PANEL


@dataclass(frozen=True)
class PanelSpec:
    """Which panel: `personas` on a catalog folder (None: the built-in catalog), `playlists`
    from the TidyTuesday file (its catalog saved in `catalog`) and an Exportify export, or
    `families`, `per_family` people of each listener family (on the TidyTuesday catalog, some
    tastes its real playlists, when the file is given)."""

    kind: str
    catalog: str | None = None
    tidytuesday: str | None = None
    exportify: str | None = None
    per_family: int = PER_FAMILY
    families: tuple[str, ...] | None = None  # only these families (None: every one)
    split: str = "report"  # families: the people reported, or "dev", others to tune on


@dataclass
class PanelListener:
    name: str
    base: Catalog
    make: Callable[[SongTable], Any]  # a fresh listener, given the songs of `catalog`
    seed: int
    hidden: np.ndarray | None = None  # rows of `base` the session must not play (a playlist's own)
    group: str = ""  # the family, in the families panel

    @property
    def catalog(self) -> Catalog:
        """The catalog the session plays from, made when asked for: 470 playlists each holding a
        copy of a 28,000-song catalog took 2.6 GB per worker process."""
        if self.hidden is None:
            return self.base
        return without(self.base, self.hidden, f"{self.base.name} without {self.name}")


@dataclass
class Result:
    """One listener's session under one policy."""

    listener: str
    policy: str
    outcomes: list[str] = field(default_factory=list)
    loved: list[bool] = field(default_factory=list)  # whether the person loved each song (families)
    group: str = ""
    followed: int = 0  # songs that followed the head of Up next seen while the one before played
    changes: int = 0  # songs that followed one another without a dislike between

    def rate(self, outcome: str, first: int = 0, last: int = SONGS) -> float:
        """Share of songs `first`..`last` (0-based, end excluded) with this outcome; a song never
        heard (the listener left) counts as not liked."""
        heard = self.outcomes[first:last]
        return sum(o == outcome for o in heard) / max(1, last - first)


_LOADED: dict[PanelSpec, list[PanelListener]] = {}


def _persona_listener(persona: Any, songs: SongTable) -> Any:
    return persona.listener(songs)


def _playlist_listener(features: np.ndarray, songs: SongTable) -> PlaylistListener:
    return PlaylistListener(features)


def load(spec: PanelSpec) -> list[PanelListener]:
    """The listeners of a panel, in a fixed order (loaded once per process)."""
    if spec in _LOADED:
        return _LOADED[spec]
    out: list[PanelListener] = []
    if spec.kind == "personas":
        catalog = builtin_catalog() if spec.catalog is None else load_catalog(Path(spec.catalog))
        for persona in personas(catalog):
            out.append(PanelListener(persona.name, catalog, partial(_persona_listener, persona), persona.seed))
    elif spec.kind == "playlists":
        assert spec.catalog is not None and spec.tidytuesday is not None
        catalog = load_catalog(Path(spec.catalog))
        lists = tidytuesday_playlists(Path(spec.tidytuesday))
        if spec.exportify:
            lists.append(exportify_playlist(Path(spec.exportify)))
        ids = catalog.tracks["track_id"]
        for playlist in lists:
            rows = np.flatnonzero(ids.isin(playlist.track_ids).to_numpy())
            if len(rows) < 2:
                continue
            features = catalog.features[rows]
            out.append(PanelListener(playlist.name, catalog, partial(_playlist_listener, features), playlist.seed,
                                     hidden=rows))
    elif spec.kind == "families":
        catalog = builtin_catalog() if spec.catalog is None else load_catalog(Path(spec.catalog))
        lists = [] if spec.tidytuesday is None else tidytuesday_playlists(Path(spec.tidytuesday))
        for member in family_listeners(catalog, spec.per_family, lists, spec.split):
            if spec.families is not None and member.family not in spec.families:
                continue
            out.append(PanelListener(member.name, catalog, member, member.seed, hidden=member.hidden,
                                     group=member.family))
    else:
        raise ValueError(f"unknown panel {spec.kind!r}")
    _LOADED[spec] = out
    return out


def play(listener: PanelListener, policy_name: str, model: str | None, n_songs: int = SONGS) -> Result:
    """One session of `n_songs` songs for `listener`, through the session API."""
    streams = Streams.spawn(listener.seed)  # the listener's stream; the session spawns its own
    catalog = listener.catalog
    table = SongTable.from_catalog(catalog)
    person = listener.make(table)
    policy = session_policy(policy_name)
    if isinstance(policy, OraclePolicy):
        policy.begin(person)
    loves = getattr(person, "loves", None)
    result = Result(listener.name, policy_name, group=listener.group)
    with tempfile.TemporaryDirectory() as data:
        kwargs: dict[str, Any] = {"catalog": catalog, "profile": "panel", "data_dir": data,
                                  "seed": listener.seed, "policy": policy}
        if policy is None:
            kwargs["online_update"] = online_update(policy_name)
            if model is not None:
                kwargs["model"] = model
        with open_session(**kwargs) as session:
            view = session.start()
            for _ in range(n_songs):
                playing = view.now_playing
                if playing is None:
                    break
                head = view.queue[0].track if view.queue else None
                if loves is not None:
                    result.loved.append(loves(playing.row))  # before hearing: a mood turns after
                outcome, _ = person.hear(table, playing.row, streams.listener)
                result.outcomes.append(outcome)
                if outcome == "quit":
                    break
                if outcome == "like":
                    session.react("like")
                    view = session.song_finished(view.play_number)
                elif outcome == "finish":
                    view = session.song_finished(view.play_number)
                else:
                    view = session.react(outcome)
                if outcome != "dislike" and head is not None:
                    result.changes += 1
                    result.followed += int(view.now_playing == head)
    return result


def _play_task(spec: PanelSpec, index: int, policy_name: str, model: str | None, n_songs: int) -> Result:
    import torch

    torch.set_num_threads(1)
    return play(load(spec)[index], policy_name, model, n_songs)


def run_panel(spec: PanelSpec, policies: list[str], model: str | None = None, limit: int | None = None,
              n_songs: int = SONGS, workers: int | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> list[Result]:
    """Every listener of the panel (the first `limit`) under every policy."""
    listeners = load(spec)
    count = len(listeners) if limit is None else min(limit, len(listeners))
    tasks = [(i, name) for name in policies for i in range(count)]
    results: list[Result] = []
    workers = workers if workers is not None else min(os.cpu_count() or 1, 2)
    if workers <= 1 or len(tasks) < 4:
        for done, (i, name) in enumerate(tasks, 1):
            results.append(play(listeners[i], name, model, n_songs))
            if on_progress is not None:
                on_progress(done, len(tasks))
        return results
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_play_task, spec, i, name, model, n_songs) for i, name in tasks]
        for done, future in enumerate(futures, 1):
            results.append(future.result())
            if on_progress is not None:
                on_progress(done, len(tasks))
    return results


def summarise(results: list[Result], n_songs: int = SONGS) -> dict[str, Any]:
    """Per policy: median and worst like rate over songs 21 on, median over the first 20, skip and
    dislike rates, with 95% bootstrap intervals of the medians (resampling listeners); and each
    policy's median like rate over songs 21 on against the DQN's, paired by listener."""
    by_policy: dict[str, list[Result]] = {}
    for r in results:
        by_policy.setdefault(r.policy, []).append(r)
    summary: dict[str, Any] = {"songs": n_songs, "policies": {}}
    late: dict[str, np.ndarray] = {}
    for name, rows in by_policy.items():
        rows.sort(key=lambda r: r.listener)
        idx = resamples(len(rows))
        late[name] = np.array([r.rate("like", EARLY, n_songs) for r in rows])
        early = np.array([r.rate("like", 0, EARLY) for r in rows])
        skips = np.array([r.rate("skip", 0, n_songs) for r in rows])
        dislikes = np.array([r.rate("dislike", 0, n_songs) for r in rows])
        changes = sum(r.changes for r in rows)
        worst = int(np.argmin(late[name]))
        summary["policies"][name] = {
            "listeners": len(rows),
            "like_late": interval(late[name], idx),
            "like_early": interval(early, idx),
            "worst_late": float(late[name][worst]),
            "worst_listener": rows[worst].listener,
            "skip_rate": float(np.median(skips)),
            "dislike_rate": float(np.median(dislikes)),
            "quit_rate": float(np.mean([r.outcomes[-1:] == ["quit"] for r in rows])),
            "up_next_followed": sum(r.followed for r in rows) / changes if changes else float("nan"),
            "per_listener": {r.listener: round(r.rate("like", EARLY, n_songs), 4) for r in rows},
        }
    if "dqn" in late:
        for name, values in late.items():
            if name == "dqn" or len(values) != len(late["dqn"]):
                continue
            ratio = paired_ratio(late["dqn"], values, resamples(len(values)))
            if ratio is not None:
                summary["policies"][name]["dqn_ratio"] = ratio
    return summary
