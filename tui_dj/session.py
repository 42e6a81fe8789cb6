"""One listening session, UI-free: the next track, feedback learned online, the taste, the history.

The console, the tests and Python users all drive this one class. Every feedback becomes a DQN
transition: it is written to the history, the network takes a couple of gradient steps on it mixed
with replayed experience, and the queue and Q-table are recomputed before `feedback` returns.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from tui_dj.atomic import remove_leftovers
from tui_dj.catalog import FEATURES, Catalog, Track, builtin_catalog, load_catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent, Replay, default_model_path, load_agent
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.observation import SONG_DIM, SessionTrace
from tui_dj.learn.rewards import REWARDS
from tui_dj.paths import data_dir as resolve_data_dir
from tui_dj.store import (
    HistoryEvent,
    HistoryStore,
    ProfileLock,
    ProfilePaths,
    profile_paths,
)

FEEDBACK_EVENTS: tuple[str, ...] = ("like", "finish", "skip", "dislike")
# Choosing a song yourself (search, enter on a queue row) says at least "I'd listen to this".
CHOOSE_REWARD = REWARDS["finish"]

UPDATE_STEPS = 2  # gradient steps per feedback: enough to move, few enough for a 50 ms budget
# Each online step scores the next candidates of every row (batch x 64 songs); 16 rows keep a step
# near 3 ms on one core, where the training batch of 64 takes 16 ms.
ONLINE_BATCH = 16
REPLAY_CAPACITY = 5_000  # the session's replay buffer; a full one keeps memory flat
SEED_TRANSITIONS = 512  # simulated transitions the buffer starts with (see _seed_replay)
REPLAY_GAP = 50  # a song played within the last this-many plays is not picked again
TRACE_KEEP = 200  # older songs weigh 0.85**200 in the taste: dropping them keeps feedback O(1)
UNDO_DEPTH = 50
SEED_RATINGS = 10  # a reopened profile's trace starts from its latest ratings
AUTOSAVE_S = 180.0  # "every few minutes"
RETRY_S = 30.0  # after a failed save (a full disk), try again this much later
TABLE_SIZE = 32  # rows of the Q-table kept; the console shows ten or so
RECENT_REWARDS = 30
# With no trained model at all, the network first learns the simulated transitions for a moment.
WARM_UP_STEPS = 300
# Exploration: a new profile tries a song off the best-Q path now and then, less with every rating
# it gives (ε = max(EPS_MIN, EPS_START * EPS_DECAY ** ratings)); a profile with history barely does.
EPS_START = 0.3
EPS_DECAY = 0.93
EPS_MIN = 0.02


@dataclass(frozen=True)
class Feedback:
    event: str
    reward: float
    track: Track
    update_ms: float
    loss: float | None
    saved: bool = True  # False while the history write waits for disk space (retried)


@dataclass(frozen=True)
class QRow:
    track: Track
    q: float
    delta: float | None


@dataclass(frozen=True)
class SessionStats:
    plays: int = 0
    likes: int = 0
    finishes: int = 0
    skips: int = 0
    dislikes: int = 0
    total_reward: float = 0.0
    recent_rewards: tuple[float, ...] = ()
    last_update_ms: float | None = None


@dataclass
class _Undo:
    """Everything one signal changed, to put back on undo."""

    feedback: Feedback
    event_uid: str
    trace: SessionTrace
    agent: dict[str, Any]
    replay: dict[str, Any]
    stats: SessionStats
    rated_before: str | None
    current_obs: np.ndarray | None


class Session:
    """A listening session of one profile; every public method holds the one lock."""

    def __init__(
        self, catalog: Catalog, agent: DQNAgent, metadata: dict[str, Any], *, profile: str,
        base: Path, paths: ProfilePaths, store: HistoryStore, lock: ProfileLock | None,
        read_only: bool, seed: int | None, model_source: str, notice: str | None = None,
        autosave_s: float = AUTOSAVE_S,
    ) -> None:
        self.catalog = catalog
        self.profile = profile
        self.read_only = read_only
        self.data_dir = base
        self.model_source = model_source
        self.notice = notice
        self.autosave_s = autosave_s
        self._agent = agent
        self._metadata = metadata
        self._paths = paths
        self._store = store
        self._profile_lock = lock
        self._lock = threading.RLock()
        self._rng = np.random.default_rng(seed)
        self._closed = False
        self._setup_arrays()
        env = metadata.get("env", {}) if isinstance(metadata.get("env"), dict) else {}
        self._trace = SessionTrace(int(env.get("history", 5)), int(env.get("max_steps", 20)),
                                   prior=catalog.features.mean(axis=0))
        self._generator = CandidateGenerator(catalog.features, k=agent.config.candidates, seed=seed or 0)
        self._current: Track | None = None
        self._current_obs: np.ndarray | None = None
        self._rated: str | None = None  # the event already given about the current track
        self._user_queue: deque[int] = deque()
        self._recent: deque[int] = deque(maxlen=REPLAY_GAP)
        self._undo: deque[_Undo] = deque(maxlen=UNDO_DEPTH)
        self._stats = SessionStats()
        self._table: list[tuple[int, float]] = []
        self._explore: int | None = None  # an exploratory pick that plays next, shown first
        self._prev_q: dict[int, float] = {}
        self._track_cache: dict[int, Track] = {}
        self._feedback_count = int(metadata.get("feedback_count", 0))
        self._dirty = False
        self._last_save = time.monotonic()
        self._next_save_try = 0.0
        self._disliked = self._rows_of(store.disliked(profile))
        self._disliked_earlier = frozenset(self._disliked)  # undo here never revives these
        self._restore_profile_state()
        agent.replay = Replay(REPLAY_CAPACITY, agent.config.candidates, SONG_DIM, agent.per_song)
        self._seed_replay(SEED_TRANSITIONS)
        if model_source == "untrained":
            self._warm_up(WARM_UP_STEPS)
        self._session_uid = store.start_session(profile, catalog.name, model_source)
        self._refresh_table()

    # -- setup -----------------------------------------------------------------------------------

    def _setup_arrays(self) -> None:
        tracks = self.catalog.tracks
        self._ids = tracks["track_id"]
        self._popularity = (tracks["popularity"].to_numpy(np.float32) / 100.0).clip(0.0, 1.0)
        # The trace only compares artists for equality, so a small integer code per artist does,
        # at a twentieth of the memory of 232,725 strings.
        codes, _ = pd.factorize(tracks["artist"])
        self._artists = codes.astype(np.int32)

    def _rows_of(self, track_ids: set[str] | list[str]) -> set[int]:
        if not track_ids:
            return set()
        return {int(i) for i in np.flatnonzero(self._ids.isin(list(track_ids)).to_numpy())}

    def _restore_profile_state(self) -> None:
        """A reopened profile continues: its last ratings seed the taste, its last plays wait."""
        recent = self._store.recent_feedback(self.profile, SEED_RATINGS)
        rows = {str(self._ids.iloc[i]): i for i in self._rows_of([t for t, _ in recent])}
        for track_id, kind in recent:
            if track_id in rows:
                i = rows[track_id]
                self._trace.record(i, self.catalog.features[i], kind, str(self._artists[i]))
        played = [e.track_id for e in self._store.events(self.profile, REPLAY_GAP) if e.kind == "play"]
        for i in self._rows_of(played):
            self._recent.append(i)

    def _seed_replay(self, n: int) -> None:
        """Start the replay buffer with simulated listening on this catalog.

        Each simulated listener's hidden taste is a random song; a song among the nearest 5 % of a
        random sample is liked, 15 % finished, 60 % skipped, the rest disliked. Half the songs are
        picked near the taste, half at random. Every online update then mixes the new feedback with
        these typical transitions (and, as the evening goes on, with the user's own), so a handful
        of ratings nudges the network instead of overwriting what it learned in training.
        """
        features = self.catalog.features
        n_songs = len(features)
        k = self._agent.config.candidates
        rng = np.random.default_rng(self._rng.integers(2**32))
        made = 0
        while made < n:
            hidden = features[rng.integers(n_songs)]
            trace = SessionTrace(self._trace.history, self._trace.max_steps, self._trace.prior)
            for _ in range(8):
                sample = rng.integers(n_songs, size=256)
                dist = np.linalg.norm(features[sample] - hidden, axis=1)
                song = int(sample[np.argmin(dist)] if rng.random() < 0.5 else sample[0])
                rank = float((dist < np.linalg.norm(features[song] - hidden)).mean())
                event = "like" if rank < 0.05 else "finish" if rank < 0.15 else "skip" if rank < 0.6 else "dislike"
                obs = trace.observation()
                song_in = trace.song_inputs(features[[song]], self._popularity[[song]], self._artists[[song]])[0]
                trace.record(song, features[song], event, str(self._artists[song]))
                nxt = rng.integers(n_songs, size=k)
                self._remember(obs, song_in, song, REWARDS[event], trace, nxt)
                made += 1

    def _warm_up(self, steps: int) -> None:
        self._agent.learn_online(steps, 2 * ONLINE_BATCH, newest=False)

    # -- small helpers ---------------------------------------------------------------------------

    def _track(self, index: int) -> Track:
        track = self._track_cache.get(index)
        if track is None:
            if len(self._track_cache) > 4096:
                self._track_cache.clear()
            track = self._track_cache[index] = self.catalog.track(index)
        return track

    def _song_inputs(self, trace: SessionTrace, rows: np.ndarray) -> np.ndarray:
        return trace.song_inputs(self.catalog.features[rows], self._popularity[rows], self._artists[rows])

    def _q(self, trace: SessionTrace, obs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if self._agent.per_song:
            return self._agent.q_values(obs, None, rows)  # type: ignore[arg-type]
        return self._agent.q_values(obs, self._song_inputs(trace, rows))

    def _remember(self, obs: np.ndarray, song_in: np.ndarray, song: int, reward: float,
                  next_trace: SessionTrace, next_rows: np.ndarray) -> None:
        next_obs = next_trace.observation()
        next_songs = None if self._agent.per_song else self._song_inputs(next_trace, next_rows)
        self._agent.remember(obs, song_in, reward, next_obs, next_songs, False,
                             action=song, next_candidates=next_rows)

    def _excluded(self) -> np.ndarray:
        out = set(self._disliked) | set(self._recent) | set(self._user_queue)
        if self._current is not None:
            out.add(self._current.index)
        return np.fromiter(out, dtype=np.int64, count=len(out))

    def _resolve(self, song: str | int) -> int:
        if isinstance(song, int | np.integer) and not isinstance(song, bool):
            if 0 <= int(song) < len(self.catalog):
                return int(song)
            raise TuiDjError(f"There is no song number {song} in this catalog of {len(self.catalog):,}.")
        index = self.catalog.index_of(str(song))
        if index is None:
            raise TuiDjError(f"There is no song with id {str(song)[:60]!r} in this catalog.")
        return index

    def _check_open(self) -> None:
        if self._closed:
            raise TuiDjError("This session is closed; open a new one.")

    # -- agent snapshots (undo) ------------------------------------------------------------------

    def _agent_snapshot(self) -> dict[str, Any]:
        a = self._agent
        return {
            "online": {k: v.clone() for k, v in a.online.state_dict().items()},
            "target": {k: v.clone() for k, v in a.target.state_dict().items()},
            "optimizer": copy.deepcopy(a.optimizer.state_dict()),
            "updates": a.updates,
        }

    def _agent_restore(self, snap: dict[str, Any]) -> None:
        a = self._agent
        a.online.load_state_dict(snap["online"])
        a.target.load_state_dict(snap["target"])
        a.optimizer.load_state_dict(snap["optimizer"])
        a.updates = snap["updates"]

    def _replay_snapshot(self) -> dict[str, Any]:
        """The replay slot the next transition will overwrite, so undo can put it back."""
        r = self._agent.replay
        row = {name: arr[r.pos].copy() for name, arr in r.arrays.items() if r.pos < len(arr)}
        return {"pos": r.pos, "size": r.size, "row": row}

    def _replay_restore(self, snap: dict[str, Any]) -> None:
        r = self._agent.replay
        for name, value in snap["row"].items():
            r.arrays[name][snap["pos"]] = value
        r.pos, r.size = snap["pos"], snap["size"]

    def _learn(self) -> float | None:
        """A few gradient steps, each on replayed experience plus the newest transition."""
        return self._agent.learn_online(UPDATE_STEPS, ONLINE_BATCH, newest=True)

    # -- the table of candidates -----------------------------------------------------------------

    def _refresh_table(self, cands: np.ndarray | None = None) -> None:
        """Score fresh candidates around the taste plus the songs already shown; best first.

        `cands`: candidates already drawn for this very state (a feedback draws them for the
        replay's target), so they are not drawn twice.
        """
        trace = self._trace
        obs = trace.observation()
        if cands is None:
            cands = self._generator.candidates(trace.taste(), self._excluded(), self._rng)
        shown = [i for i, _ in self._table if i not in self._disliked and i not in self._recent
                 and (self._current is None or i != self._current.index) and i not in self._user_queue]
        rows = np.unique(np.concatenate([cands, np.asarray(shown, np.int64)]))
        if len(rows) == 0:
            self._table = []
            return
        q = self._q(trace, obs, rows)
        order = np.argsort(-q, kind="stable")[:TABLE_SIZE]
        self._table = [(int(rows[j]), float(q[j])) for j in order]
        self._explore = None
        if len(cands) > 1 and self._rng.random() < self.epsilon:
            self._explore = int(cands[self._rng.integers(len(cands))])

    @property
    def epsilon(self) -> float:
        """The chance that the next pick explores instead of taking the best Q-value."""
        return max(EPS_MIN, EPS_START * EPS_DECAY ** self._feedback_count)

    def _mark_feedback_table(self) -> None:
        """Remember the Q-values shown before a feedback, for the deltas after it."""
        self._prev_q = dict(self._table)

    # -- the public API --------------------------------------------------------------------------

    @property
    def current(self) -> Track | None:
        with self._lock:
            return self._current

    def next_track(self) -> Track:
        """Advance: the front of the user's queue, else the best pick; recorded as a play."""
        with self._lock:
            self._check_open()
            if self._user_queue:
                index = self._user_queue.popleft()
            elif self._explore is not None:
                index = self._explore
            else:
                if not self._table:
                    self._refresh_table()
                if not self._table:
                    raise TuiDjError("Every song in this catalog has been disliked or just played.")
                index = self._table[0][0]
            track = self._track(index)
            self._current = track
            self._current_obs = self._trace.observation()
            self._rated = None
            self._recent.append(index)
            self._store.add_event(profile=self.profile, session=self._session_uid, kind="play",
                                  track=track, reward=None)
            self._stats = _replace(self._stats, plays=self._stats.plays + 1)
            self._table = [(i, q) for i, q in self._table if i != index]
            self._explore = None
            return track

    def feedback(self, event: Literal["like", "finish", "skip", "dislike"] | str) -> Feedback:
        """Rate the current track; a second rating of the same track replaces the first."""
        with self._lock:
            self._check_open()
            if event not in FEEDBACK_EVENTS:
                raise TuiDjError(f"Feedback must be one of {', '.join(FEEDBACK_EVENTS)}, not {str(event)[:40]!r}.")
            if self._current is None:
                raise TuiDjError("Nothing is playing yet: call next_track() first.")
            if self._rated is not None and self._undo and self._undo[-1].feedback.track.index == self._current.index:
                self._revert(self._undo.pop(), how="replaced")
            return self._apply(event, self._current.index, REWARDS[event])

    def _apply(self, kind: str, index: int, reward: float) -> Feedback:
        start = time.perf_counter()
        track = self._track(index)
        is_feedback = kind in FEEDBACK_EVENTS
        obs = self._current_obs if is_feedback and self._current_obs is not None else self._trace.observation()
        trace_before, rated_before, current_obs = self._trace.copy(), self._rated, self._current_obs
        agent_before, replay_before, stats_before = self._agent_snapshot(), self._replay_snapshot(), self._stats
        song_in = self._song_inputs(self._trace, np.array([index]))[0]
        self._mark_feedback_table()
        if is_feedback:
            self._trace.record(index, self.catalog.features[index], kind, str(self._artists[index]))
            self._trace.keep_last(TRACE_KEEP)
            self._rated = kind
            if kind == "dislike":
                self._disliked.add(index)
        next_rows = self._generator.candidates(self._trace.taste(), self._excluded(), self._rng)
        self._remember(obs, song_in, index, reward, self._trace, next_rows)
        loss = self._learn()
        event_uid, saved = ("", False) if self.read_only else self._store.add_event(
            profile=self.profile, session=self._session_uid, kind=kind, track=track, reward=reward)
        self._refresh_table(next_rows)
        update_ms = (time.perf_counter() - start) * 1000.0
        self._count(kind, reward, update_ms)
        self._feedback_count += 1
        self._dirty = True
        result = Feedback(kind, reward, track, update_ms, loss, saved=saved or self.read_only)
        self._undo.append(_Undo(result, event_uid, trace_before, agent_before, replay_before, stats_before,
                                rated_before, current_obs))
        self._maybe_autosave()
        return result

    def _count(self, kind: str, reward: float, update_ms: float) -> None:
        s = self._stats
        field = {"like": "likes", "finish": "finishes", "skip": "skips", "dislike": "dislikes"}.get(kind)
        changes: dict[str, Any] = {
            "total_reward": s.total_reward + reward,
            "recent_rewards": (s.recent_rewards + (reward,))[-RECENT_REWARDS:],
            "last_update_ms": update_ms,
        }
        if field:
            changes[field] = getattr(s, field) + 1
        self._stats = _replace(s, **changes)

    def undo(self) -> Feedback | None:
        """Revert the last feedback (history row, trace, network weights); None if there is none."""
        with self._lock:
            self._check_open()
            if not self._undo:
                return None
            entry = self._undo.pop()
            self._revert(entry, how="undo")
            self._refresh_table()
            return entry.feedback

    def _revert(self, entry: _Undo, how: Literal["undo", "replaced"]) -> None:
        self._agent_restore(entry.agent)
        self._replay_restore(entry.replay)
        self._trace = entry.trace
        self._stats = _replace(entry.stats, plays=self._stats.plays, last_update_ms=self._stats.last_update_ms)
        fb = entry.feedback
        index = fb.track.index
        if fb.event == "dislike" and index not in self._disliked_earlier:
            self._disliked.discard(index)
        if fb.event == "choose":
            with contextlib.suppress(ValueError):
                self._user_queue.remove(index)
        if self._current is not None and index == self._current.index and fb.event in FEEDBACK_EVENTS:
            self._rated = entry.rated_before
        else:
            # The feedback was on an earlier song: the current one was picked after it.
            self._current_obs = self._trace.observation()
        self._feedback_count = max(0, self._feedback_count - 1)
        self._dirty = True
        if not self.read_only and entry.event_uid:
            self._store.revert(entry.event_uid, how)
            if how == "undo":
                self._store.add_event(profile=self.profile, session=self._session_uid, kind="undo",
                                      track=fb.track, reward=None)

    @property
    def taste(self) -> dict[str, float]:
        """The current taste vector in raw units: feature name -> value."""
        with self._lock:
            raw = self.catalog.scaler.inverse(self._trace.taste())
            return {name: float(v) for name, v in zip(FEATURES, raw, strict=True)}

    @property
    def taste_scaled(self) -> tuple[float, ...]:
        with self._lock:
            return tuple(float(v) for v in self._trace.taste())

    def queue(self, n: int = 10) -> list[Track]:
        """The next songs, best first; the ones the user queued come first."""
        with self._lock:
            rows = list(self._user_queue)
            if self._explore is not None and self._explore not in rows:
                rows.append(self._explore)
            rows += [i for i, _ in self._table if i not in rows]
            return [self._track(i) for i in rows[: max(0, n)]]

    def q_table(self, n: int = 10) -> list[QRow]:
        """The top candidates with their Q-values and the change since the previous feedback."""
        with self._lock:
            out = []
            for i, q in self._table[: max(0, n)]:
                before = self._prev_q.get(i)
                out.append(QRow(self._track(i), q, None if before is None else q - before))
            return out

    def search(self, query: str, limit: int = 20) -> list[Track]:
        with self._lock:
            return [self._track(i) for i in self.catalog.search(query, limit)]

    def enqueue(self, song: str | int) -> Track:
        """Put a song at the front of the queue; choosing it is learned as a mild yes."""
        with self._lock:
            self._check_open()
            index = self._resolve(song)
            if index in self._disliked:
                self._disliked.discard(index)  # choosing a disliked song yourself overrides it
            with contextlib.suppress(ValueError):
                self._user_queue.remove(index)
            self._user_queue.appendleft(index)
            self._apply("choose", index, CHOOSE_REWARD)
            return self._track(index)

    def play(self, song: str | int) -> Track:
        """Play a song now (a signal, like `enqueue`)."""
        with self._lock:
            self.enqueue(song)
            return self.next_track()

    @property
    def stats(self) -> SessionStats:
        with self._lock:
            return self._stats

    def history(self, limit: int = 50) -> list[HistoryEvent]:
        """This profile's latest events, newest first (taken-back ones left out)."""
        with self._lock:
            if self.read_only:
                return self._store.events(self.profile, limit)
            self._store.flush()
            return self._store.events(self.profile, limit)

    @property
    def warning(self) -> str | None:
        """A problem the user should see (a full disk, say) while the session carries on."""
        with self._lock:
            return self._store.warning or self._save_warning

    _save_warning: str | None = None

    # -- saving ----------------------------------------------------------------------------------

    def _maybe_autosave(self) -> None:
        now = time.monotonic()
        if self._dirty and now - self._last_save >= self.autosave_s and now >= self._next_save_try:
            self._save()

    def _save(self) -> bool:
        if self.read_only:
            return True
        metadata = dict(self._metadata)
        metadata.update(profile=self.profile, feedback_count=self._feedback_count,
                        catalog=self.catalog.name, catalog_fingerprint=self.catalog.fingerprint,
                        base_model=str(self._metadata.get("base_model", self.model_source)),
                        saved_at=time.time())
        try:
            self._agent.save(self._paths.model, metadata)
        except TuiDjError as exc:
            self._save_warning = f"{exc} tui-dj tries again in {RETRY_S:.0f} s."
            self._next_save_try = time.monotonic() + RETRY_S
            return False
        self._save_warning = None
        self._dirty = False
        self._last_save = time.monotonic()
        return True

    def save(self) -> bool:
        """Save the profile's model now (atomic); False, with `warning` set, if it failed."""
        with self._lock:
            return self._save()

    def close(self) -> None:
        """Save the model, end the session in the history and release the profile."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            problem = None
            try:
                if not self.read_only:
                    if self._dirty and not self._save():
                        problem = self._save_warning
                    self._store.end_session(self._session_uid)
                    if not self._store.flush():
                        problem = problem or self._store.warning
            finally:
                self._store.close()
                if self._profile_lock is not None:
                    self._profile_lock.release()
            if problem:
                raise TuiDjError(problem.replace(f" tui-dj tries again in {RETRY_S:.0f} s.", ""))

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _replace(stats: SessionStats, **changes: Any) -> SessionStats:
    from dataclasses import replace

    return replace(stats, **changes)


# ---------------------------------------------------------------------------------------------
# Opening a session.


def _load_catalog(catalog: None | str | Path | Catalog) -> Catalog:
    if catalog is None:
        return builtin_catalog()
    if isinstance(catalog, Catalog):
        return catalog
    return load_catalog(Path(catalog))


def _load_model(model: None | str | Path, paths: ProfilePaths, n_songs: int, seed: int | None,
                ) -> tuple[DQNAgent, dict[str, Any], str]:
    """The agent: the given file, else the profile's own, else the shipped default model."""
    if model is not None:
        source = Path(model)
    elif paths.model.is_file():
        source = paths.model
    else:
        source = default_model_path()
    if model is None and not source.is_file():
        # No shipped model in this checkout: an untrained network still learns from the keys.
        agent = DQNAgent(seed=seed or 0)
        agent.epsilon = 0.0
        return agent, {}, "untrained"
    agent, metadata = load_agent(source, n_songs=n_songs, seed=seed or 0)
    return agent, metadata, str(source)


@contextlib.contextmanager
def _cleanup_on_error(*closers: Any) -> Iterator[list[Any]]:
    held: list[Any] = list(closers)
    try:
        yield held
    except BaseException:
        for close in reversed(held):
            with contextlib.suppress(Exception):
                close()
        raise


def open_session(
    catalog: None | str | Path | Catalog = None,
    model: None | str | Path = None,
    profile: str = "default",
    data_dir: None | str | Path = None,
    seed: int | None = None,
    read_only: bool = False,
    on_locked: Literal["read-only", "refuse"] = "read-only",
    autosave_s: float = AUTOSAVE_S,
) -> Session:
    """Open a listening session (see the README); raises `TuiDjError` with one sentence.

    A profile already open in another console is opened read-only (`session.notice` says so), or
    refused with `on_locked="refuse"`.
    """
    base = resolve_data_dir(data_dir)
    paths = profile_paths(base, profile)  # refuses unsafe names before anything is written
    if seed is not None:
        torch.manual_seed(seed)
    # The session's network is tiny: extra intra-op threads only add hand-off latency (measured
    # 3-8x slower updates with two threads on a busy two-core machine).
    torch.set_num_threads(1)
    cat = _load_catalog(catalog)
    notice = None
    lock: ProfileLock | None = None
    with _cleanup_on_error() as closers:
        if not read_only:
            lock = ProfileLock(paths.lock)
            if lock.acquire():
                closers.append(lock.release)
                remove_leftovers(paths.model)  # a killed save's temporary file; the lock makes it ours
            else:
                holder = lock.holder()
                who = f" (process {holder})" if holder.isdigit() else ""
                message = f"Profile {profile!r} is open in another tui-dj{who}"
                if on_locked == "refuse":
                    raise TuiDjError(message + "; close it first, or open this one read-only.")
                notice = message + "; this session is read-only: it learns, but saves nothing."
                read_only, lock = True, None
        agent, metadata, source = _load_model(model, paths, len(cat), seed)
        if seed is not None:
            agent.rng = np.random.default_rng(seed)
        store = HistoryStore.open(base, read_only=read_only)
        closers.append(store.close)
        session = Session(cat, agent, metadata, profile=profile, base=base, paths=paths, store=store,
                          lock=lock, read_only=read_only, seed=seed, model_source=source, notice=notice,
                          autosave_s=autosave_s)
    if store.warning and session.notice is None:
        session.notice = store.warning
    return session
