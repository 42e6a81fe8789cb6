"""One listening session, UI-free: the rules of a reaction, undo, the history, and what to show.

Each method is one thing a person does (react to the song playing, let it end, play or queue a
song, undo, forgive a dislike) and returns one `SessionView`. The console turns each key into one
of these calls; tests, the listener panels and Python scripts make the very same calls.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tui_dj.catalog import FEATURES, Catalog, Track
from tui_dj.errors import TuiDjError
from tui_dj.learn.dj import DJ, DJSnapshot
from tui_dj.learn.rewards import REWARDS
from tui_dj.session.view import (
    Learned,
    QRow,
    QueueEntry,
    SessionStats,
    SessionView,
    TasteRow,
    model_words,
)
from tui_dj.store import HistoryEvent, HistoryStore, ProfileLock, ProfilePaths

if TYPE_CHECKING:
    from tui_dj.learn.agent import DQNAgent

UNDO_DEPTH = 50
AUTOSAVE_S = 180.0  # "every few minutes"
RETRY_S = 30.0  # after a failed save (a full disk), try again this much later
RECENT_REWARDS = 30
VIEW_ROWS = 15  # rows of "Up next" and of the Q-table in a view
_COUNTED = {"like": "likes", "finish": "finishes", "skip": "skips", "dislike": "dislikes"}
OUT_OF_SONGS = ("Every song in this catalog is disliked or kept out, so nothing can play: undo (u), "
                "forgive a dislike in the history (h), or open another catalog.")


@dataclass
class _Undo:
    """One reaction, with everything needed to take it back."""

    learned: Learned
    play_number: int
    event_uid: str
    dj: DJSnapshot
    stats: SessionStats


class Session:
    """A listening session of one profile; every public method holds the one lock."""

    def __init__(self, catalog: Catalog, dj: DJ, *, agent: DQNAgent | None, metadata: dict[str, Any],
                 profile: str, paths: ProfilePaths, store: HistoryStore, lock: ProfileLock | None,
                 read_only: bool, model_source: str, notice: str | None = None,
                 autosave_s: float = AUTOSAVE_S) -> None:
        self.catalog = catalog
        self.profile = profile
        self.read_only = read_only
        self.model_source = model_source
        self.notice = notice
        self.autosave_s = autosave_s
        self._dj = dj
        self._agent = agent
        self._metadata = metadata
        self._paths = paths
        self._store = store
        self._profile_lock = lock
        self._lock = threading.RLock()
        self._closed = False
        self._disliked_before = frozenset(dj.banned)  # an undo here never brings these back
        self._reaction: str | None = None  # the reaction given to the song playing
        self._play_number = 0
        self._undo: deque[_Undo] = deque(maxlen=UNDO_DEPTH)
        self._stats = SessionStats()
        self._before: dict[int, float] = {}  # each shown song's score before the last reaction
        self._reactions = int(metadata.get("reactions", metadata.get("feedback_count", 0)))
        self._track_cache: dict[int, Track] = {}
        self._dirty = False
        self._last_save = time.monotonic()
        self._next_save_try = 0.0
        self._save_warning: str | None = None
        self._session_uid = store.start_session(profile, catalog.name, model_source)

    # -- the things a person does --------------------------------------------------------------

    def view(self) -> SessionView:
        """What to show now."""
        with self._lock:
            return self._view()

    def start(self, near: str | None = None) -> SessionView:
        """Start playing, if nothing plays yet; `near` ("a song, an artist or a genre") picks the
        first song, which counts as a song the person chose: evidence of their taste."""
        with self._lock:
            self._check_open()
            if self._dj.current is None:
                if near is not None:
                    self._choose(self._find(near))
                return self._advance()
            return self._view()

    def react(self, reaction: Literal["like", "skip", "dislike"] | str) -> SessionView:
        """React to the song playing.

        - like: it is liked and plays on (a second like changes nothing);
        - skip: the next song starts; after a like, the like stands ("next, please");
        - dislike: it never plays again for this profile and the next song starts; a like given to
          it is replaced.
        """
        with self._lock:
            self._check_open()
            if reaction not in ("like", "skip", "dislike"):
                raise TuiDjError(f"A reaction is like, skip or dislike, not {str(reaction)[:40]!r}; "
                                 "a song that ends is song_ended().")
            if self._dj.current is None:
                return self._advance()  # nothing was playing: start
            given = self._reaction
            if reaction == "like":
                learned = self._learn("like") if given is None else None
                return self._view(learned=learned)
            learned = None
            if reaction == "dislike":
                if given == "like":
                    self._take_back(self._undo.pop(), how="replaced")
                learned = self._learn("dislike")
            elif given is None:
                learned = self._learn("skip", advancing=True)
            return self._advance(learned)

    def song_ended(self, play_number: int | None = None) -> SessionView:
        """The song playing reached its end: listened to the end, unless already reacted to; the
        next song starts. `play_number` (the view's) makes a late end of an earlier song do nothing."""
        with self._lock:
            self._check_open()
            if self._dj.current is None or (play_number is not None and play_number != self._play_number):
                return self._view()
            learned = self._learn("finish", advancing=True) if self._reaction is None else None
            return self._advance(learned)

    def move_on(self, play_number: int | None = None) -> SessionView:
        """The song playing could not be played (its file is gone or broken): the next song starts,
        nothing is learned about this one, and it is not picked again in this session. A late call
        for an earlier song does nothing."""
        with self._lock:
            self._check_open()
            if self._dj.current is None or (play_number is not None and play_number != self._play_number):
                return self._view()
            self._dj.banned.add(self._dj.current.row)
            return self._advance()

    def play(self, song: str | int) -> SessionView:
        """Play a song now (a track id or a catalog row); its reaction is learned as any other's."""
        with self._lock:
            self._check_open()
            self._choose(song)
            return self._advance()

    def enqueue(self, song: str | int) -> SessionView:
        """Put a song at the front of "Up next"."""
        with self._lock:
            self._check_open()
            self._choose(song)
            if self._dj.current is None:
                return self._advance()
            return self._view()

    def undo(self) -> SessionView:
        """Take back the last reaction (history, taste, network); what plays does not change."""
        with self._lock:
            self._check_open()
            if not self._undo:
                return self._view(message="Nothing to undo.")
            entry = self._undo.pop()
            self._take_back(entry, how="undo")
            message = f"Took back the {entry.learned.reaction} of {entry.learned.track.name}."
            return self._advance(message=message) if self._dj.current is None else self._view(message=message)

    def forgive(self, song: str | int) -> SessionView:
        """Take back every dislike of a song by this profile, so that it may play again."""
        with self._lock:
            self._check_open()
            row = self._resolve(song)
            track = self._track(row)
            if row not in self._dj.banned:
                return self._view(message=f"{track.name} is not disliked.")
            self._dj.banned.discard(row)
            self._disliked_before = self._disliked_before - {row}
            if not self.read_only:
                self._store.forgive(self.profile, track.track_id)
            self._dj.rerank()
            if self._dj.current is None:
                return self._advance(message=f"{track.name} may play again.")
            return self._view(message=f"{track.name} may play again.")

    # -- reading ---------------------------------------------------------------------------------

    @property
    def current(self) -> Track | None:
        with self._lock:
            return None if self._dj.current is None else self._track(self._dj.current.row)

    @property
    def stats(self) -> SessionStats:
        with self._lock:
            return self._stats

    @property
    def taste(self) -> dict[str, float]:
        """The current taste vector in raw units: feature name -> value."""
        with self._lock:
            raw = self.catalog.scaler.inverse(self._dj.trace.taste())
            return {name: float(v) for name, v in zip(FEATURES, raw, strict=True)}

    @property
    def model_description(self) -> str:
        """Which model this session plays with, in words: "the bundled model", the file given with
        `model=` (as a path), or "profile ana's own (from models/dqn.pt)": what this profile learned,
        and the model it started from."""
        if Path(self.model_source) != self._paths.model:
            return model_words(self.model_source)
        base = self._metadata.get("base_model")
        own = f"profile {self.profile}'s own"
        return f"{own} (from {model_words(str(base))})" if base and Path(str(base)) != self._paths.model else own

    @property
    def warning(self) -> str | None:
        """A problem the user should see (a full disk, say) while the session carries on."""
        with self._lock:
            return self._store.warning or self._save_warning

    def score(self, song: str | int) -> float:
        """The policy's score (the DQN's Q-value) of playing `song` next, in the state now."""
        with self._lock:
            row = np.array([self._resolve(song)], np.int64)
            return float(self._dj.policy.decide(self._dj.songs, self._dj.trace, row, self._dj.policy_rng).scores[0])

    def search(self, query: str, limit: int = 20) -> list[Track]:
        with self._lock:
            return [self._track(i) for i in self.catalog.search(query, limit)]

    def history(self, limit: int = 50) -> list[HistoryEvent]:
        """This profile's latest events, newest first (taken-back ones left out)."""
        with self._lock:
            if not self.read_only:
                self._store.flush()
            return self._store.events(self.profile, limit)

    # -- the rules, inside the lock ----------------------------------------------------------------

    def _learn(self, reaction: str, advancing: bool = False) -> Learned:
        """Record and learn from a reaction to the song playing (`advancing`: the next song starts
        right after, so the queue need not be ranked in between)."""
        start = time.perf_counter()
        dj = self._dj
        assert dj.current is not None
        track = self._track(dj.current.row)
        reward = REWARDS[reaction]
        snap, stats_before = dj.snapshot(), self._stats
        self._before = self._scores()
        loss = dj.react(reaction, reward, rerank=not advancing)
        uid, saved = ("", False) if self.read_only else self._store.add_event(
            profile=self.profile, session=self._session_uid, kind=reaction, track=track, reward=reward)
        update_ms = (time.perf_counter() - start) * 1000.0
        learned = Learned(reaction, reward, track, update_ms, loss, saved)
        s = self._stats
        self._stats = replace(s, total_reward=s.total_reward + reward, last_update_ms=update_ms,
                              recent_rewards=(s.recent_rewards + (reward,))[-RECENT_REWARDS:],
                              **{_COUNTED[reaction]: getattr(s, _COUNTED[reaction]) + 1})
        self._undo.append(_Undo(learned, self._play_number, uid, snap, stats_before))
        self._reaction = reaction
        self._reactions += 1
        self._dirty = True
        self._maybe_autosave()
        return learned

    def _take_back(self, entry: _Undo, how: Literal["undo", "replaced"]) -> None:
        self._dj.restore(entry.dj)
        self._dj.banned |= self._disliked_before
        self._stats = replace(entry.stats, plays=self._stats.plays, last_update_ms=self._stats.last_update_ms)
        if entry.play_number == self._play_number:
            self._reaction = None
        self._reactions = max(0, self._reactions - 1)
        self._dirty = True
        if not self.read_only and entry.event_uid:
            self._store.revert(entry.event_uid, how)
            if how == "undo":
                self._store.add_event(profile=self.profile, session=self._session_uid, kind="undo",
                                      track=entry.learned.track, reward=None)

    def _advance(self, learned: Learned | None = None, message: str | None = None,
                 replaced: int | None = None) -> SessionView:
        pick = self._dj.advance()
        self._reaction = None
        if pick is None:
            return self._view(learned=learned, message=message or OUT_OF_SONGS)
        self._play_number += 1
        self._stats = replace(self._stats, plays=self._stats.plays + 1)
        if not self.read_only:
            self._store.add_event(profile=self.profile, session=self._session_uid, kind="play",
                                  track=self._track(pick.row), reward=None)
        return self._view(learned=learned, message=message, replaced=replaced)

    def _choose(self, song: str | int) -> None:
        """The person chose a song: it goes first in "Up next", and the history says so."""
        row = self._resolve(song)
        if not self.read_only:
            self._store.add_event(profile=self.profile, session=self._session_uid, kind="choose",
                                  track=self._track(row), reward=None)
        self._dj.choose(row, now=False)

    def _scores(self) -> dict[int, float]:
        dj = self._dj
        scores = dict(dj.ranked)
        if dj.head is not None and dj.head_score is not None:
            scores[dj.head.row] = dj.head_score
        return scores

    def _view(self, learned: Learned | None = None, message: str | None = None,
              replaced: int | None = None, rows: int = VIEW_ROWS) -> SessionView:
        dj = self._dj
        self._fetch([*dj.chosen, *(r for r, _ in dj.ranked[:rows]), *self._scores()]
                    + ([dj.head.row] if dj.head is not None else []))
        queue = [QueueEntry(self._track(r), "chosen") for r in dj.chosen]
        if dj.head is not None:
            queue.append(QueueEntry(self._track(dj.head.row), dj.head.why))
        queue += [QueueEntry(self._track(r), "best") for r, _ in dj.ranked[: max(0, rows - len(queue))]]
        head = dj.head.row if dj.head is not None else None
        scored = sorted(self._scores().items(), key=lambda item: -item[1])[:rows]
        q_rows = tuple(QRow(self._track(r), q, None if r not in self._before else q - self._before[r], r == head)
                       for r, q in scored)
        taste = dj.trace.taste()
        raw = self.catalog.scaler.inverse(taste)
        return SessionView(
            now_playing=None if dj.current is None else self._track(dj.current.row),
            play_number=self._play_number,
            reaction=self._reaction,
            queue=tuple(queue[:rows]),
            q_rows=q_rows,
            taste=tuple(TasteRow(name, float(raw[i]), float(taste[i])) for i, name in enumerate(FEATURES)),
            stats=self._stats,
            learned=learned,
            replaced=None if replaced is None else self._track(replaced),
            message=message,
            out_of_songs=dj.current is None and self._play_number > 0,
            read_only=self.read_only,
            notice=self.notice,
            warning=self._store.warning or self._save_warning,
            reacted=tuple((r, x) for r, x in zip(dj.trace.played, dj.trace.reactions, strict=True) if x),
        )

    def _track(self, index: int) -> Track:
        track = self._track_cache.get(index)
        if track is None:
            self._fetch([index])
            track = self._track_cache[index]
        return track

    def _fetch(self, rows: list[int]) -> None:
        """Look the songs of `rows` up in one go, those not already at hand."""
        missing = [r for r in dict.fromkeys(rows) if r not in self._track_cache]
        if not missing:
            return
        if len(self._track_cache) > 4096:
            self._track_cache.clear()
        for track in self.catalog.tracks_at(missing):
            self._track_cache[track.index] = track

    def _find(self, query: str) -> int:
        """The song a person means by `query`: a track id, a genre's most typical song, else the
        best search match of a title or an artist."""
        index = self.catalog.index_of(query)
        if index is None:
            index = self.catalog.typical_of_genre(query)
        if index is None:
            hits = self.catalog.search(query, 1)
            index = hits[0] if hits else None
        if index is None:
            raise TuiDjError(f"Nothing in this catalog is called {query[:60]!r}, by an artist of that name, "
                             "or of that genre; try a word of a title or an artist's name.")
        return index

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

    # -- saving ----------------------------------------------------------------------------------

    def _maybe_autosave(self) -> None:
        now = time.monotonic()
        if self._dirty and now - self._last_save >= self.autosave_s and now >= self._next_save_try:
            self._save()

    def _save(self) -> bool:
        if self.read_only or self._agent is None:
            return True
        metadata = dict(self._metadata)
        metadata.update(profile=self.profile, reactions=self._reactions, catalog=self.catalog.name,
                        catalog_fingerprint=self.catalog.fingerprint,
                        base_model=str(self._metadata.get("base_model", self.model_source)), saved_at=time.time())
        metadata.pop("feedback_count", None)
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

