"""One listening session, UI-free: the rules of a reaction, undo, and the history.

Each method is one thing a person does (react to the song playing, let it finish, play or queue a
song, undo, forgive a dislike) and returns one `SessionView`. The console turns each key into one
of these calls; tests, the listener panels and Python scripts make the very same calls. What a view
shows is put together in `view.py`, and the model file is saved by `saving.py`.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tui_dj.catalog import FEATURES, Catalog, Track
from tui_dj.errors import TuiDjError
from tui_dj.learn.dj import DJ, DJSnapshot
from tui_dj.learn.rewards import REWARDS
from tui_dj.session.journal import Journal
from tui_dj.session.saving import AUTOSAVE_S, ModelSaver, reactions_so_far
from tui_dj.session.view import (
    Extras,
    HistoryRow,
    Learned,
    SessionStats,
    SessionView,
    TrackLookup,
    assemble,
    model_words,
)
from tui_dj.store import HistoryStore, ProfileLock, ProfilePaths

if TYPE_CHECKING:
    from tui_dj.learn.agent import DQNAgent
    from tui_dj.learn.playing import PlayingAgent

UNDO_DEPTH = 50
RECENT_REWARDS = 30
_COUNTED = {"like": "likes", "finish": "finishes", "skip": "skips", "dislike": "dislikes"}
OUT_OF_SONGS = ("Every song in this catalog is disliked or kept out, so nothing can play: undo (u), "
                "forgive a dislike in the history (h), or open another catalog.")


@dataclass
class _Undo:
    """One reaction, with everything needed to take it back."""

    learned: Learned
    play_number: int
    event: Future[str]  # the reaction's event id, once written
    dj: DJSnapshot
    stats: SessionStats


class Session:
    """A listening session of one profile; every public method holds the one lock."""

    def __init__(self, catalog: Catalog, dj: DJ, *, agent: DQNAgent | PlayingAgent | None, metadata: dict[str, Any],
                 profile: str, paths: ProfilePaths, store: HistoryStore, lock: ProfileLock | None,
                 read_only: bool, model_source: str, notice: str | None = None,
                 autosave_s: float = AUTOSAVE_S) -> None:
        self.catalog = catalog
        self.profile = profile
        self.read_only = read_only
        self.model_source = model_source
        self.notice = notice
        self._dj = dj
        self._metadata = metadata
        self._paths = paths
        self._saver = ModelSaver(agent, paths.model, metadata, profile=profile, catalog=catalog,
                                 model_source=model_source, read_only=read_only, autosave_s=autosave_s)
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
        self._reactions = reactions_so_far(metadata)
        self._moved_on = False  # the deprecated feedback() started the next song (see next_track)
        self._tracks = TrackLookup(catalog)
        self._session_uid = store.start_session(profile, catalog.name, model_source)
        self._journal = Journal(store, profile, self._session_uid, read_only)
        self._written_play: int | None = None  # a play the journal wrote with the reaction before it

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
                                 "a song that finishes is song_finished().")
            if self._dj.current is None:
                return self._advance()  # nothing was playing: start
            given = self._reaction
            learned = None
            if reaction == "like":
                learned = self._learn("like") if given is None else None
                return self._view(learned=learned)
            if reaction == "dislike":
                if given == "like":
                    self._take_back(self._undo.pop(), how="replaced")
                learned = self._learn("dislike", advancing=True)
            elif given is None:
                learned = self._learn("skip", advancing=True)
            said = self._next_song()
            return self._view(learned=learned, message=said)

    def song_finished(self, play_number: int | None = None) -> SessionView:
        """The song playing finished: listened to the end ("finish"), unless already reacted to; the
        next song starts. `play_number` (the view's) makes a late finish of an earlier song do nothing."""
        with self._lock:
            self._check_open()
            if self._dj.current is None or (play_number is not None and play_number != self._play_number):
                return self._view()
            learned = self._learn("finish", advancing=True) if self._reaction is None else None
            said = self._next_song()
            return self._view(learned=learned, message=said)

    def move_on(self, play_number: int | None = None) -> SessionView:
        """The song playing could not be played (its file is gone or broken): the next song starts,
        nothing is learned about this one, and it is not picked again in this session. A late call
        for an earlier song does nothing."""
        with self._lock:
            self._check_open()
            if self._dj.current is None or (play_number is not None and play_number != self._play_number):
                return self._view()
            self._dj.ban(self._dj.current.row)
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
            track = self._tracks(row)
            if not self._dj.forgive(row):
                return self._view(message=f"{track.name} is not disliked.")
            self._disliked_before = self._disliked_before - {row}
            self._journal.run(lambda: self._store.forgive(self.profile, track.track_id))
            if self._dj.current is None:
                return self._advance(message=f"{track.name} may play again.")
            return self._view(message=f"{track.name} may play again.")

    # -- reading ---------------------------------------------------------------------------------

    @property
    def current(self) -> Track | None:
        with self._lock:
            return None if self._dj.current is None else self._tracks(self._dj.current.row)

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
            return self._store.warning or self._saver.warning

    def score(self, song: str | int) -> float:
        """The policy's score (the DQN's Q-value) of playing `song` next, in the state now."""
        with self._lock:
            return self._dj.score(self._resolve(song))

    def search(self, query: str, limit: int = 20) -> list[Track]:
        with self._lock:
            return [self._tracks(i) for i in self.catalog.search(query, limit)]

    def history(self, limit: int = 50) -> list[HistoryRow]:
        """This profile's latest events, newest first (taken-back ones left out)."""
        with self._lock:
            self._journal.settle()
            if not self.read_only:
                self._store.flush()
            return [HistoryRow(e.time, e.kind, e.track_id, e.name, e.artist, e.reward, e.reverted)
                    for e in self._store.events(self.profile, limit)]

    # -- the rules, inside the lock ----------------------------------------------------------------

    def _learn(self, reaction: str, advancing: bool = False) -> Learned:
        """Record and learn from a reaction to the song playing (`advancing`: the next song starts
        right after, so the queue need not be ranked in between).

        The history is written first, on the journal's thread, while the DJ learns: with the play
        of the song that starts next when that song is already known (one commit for both)."""
        start = time.perf_counter()
        dj = self._dj
        assert dj.current is not None
        track = self._tracks(dj.current.row)
        reward = REWARDS[reaction]
        upcoming = dj.upcoming() if advancing else None
        if reaction == "dislike" and upcoming == dj.current.row:
            upcoming = None  # the last song left, disliked: nothing plays after it
        self._written_play = upcoming
        event = self._journal.event(reaction, track, reward,
                                    then_plays=None if upcoming is None else self._tracks(upcoming))
        snap, stats_before = dj.snapshot(), self._stats
        self._before = dj.scores()
        loss = dj.learn(reaction, reward, rerank=not advancing)
        update_ms = (time.perf_counter() - start) * 1000.0
        learned = Learned(reaction, reward, track, update_ms, loss, saved=False)  # `_view` says if it is
        s = self._stats
        self._stats = replace(s, total_reward=s.total_reward + reward, last_update_ms=update_ms,
                              recent_rewards=(s.recent_rewards + (reward,))[-RECENT_REWARDS:],
                              **{_COUNTED[reaction]: getattr(s, _COUNTED[reaction]) + 1})
        self._undo.append(_Undo(learned, self._play_number, event, snap, stats_before))
        self._reaction = reaction
        self._reactions += 1
        self._saver.dirty = True
        self._saver.maybe_save(self._reactions)
        return learned

    def _take_back(self, entry: _Undo, how: Literal["undo", "replaced"]) -> None:
        # A like replaced by a dislike: the next song starts at once, and is ranked then.
        self._dj.take_back(entry.dj, self._disliked_before, rerank=how == "undo")
        self._stats = replace(entry.stats, plays=self._stats.plays, last_update_ms=self._stats.last_update_ms)
        if entry.play_number == self._play_number:
            self._reaction = None
        self._reactions = max(0, self._reactions - 1)
        self._saver.dirty = True
        uid = entry.event.result()  # written by an earlier call, which waited for it
        if uid:
            self._journal.run(lambda: self._store.revert(uid, how))
            if how == "undo":
                self._journal.event("undo", entry.learned.track, None)

    def _advance(self, learned: Learned | None = None, message: str | None = None) -> SessionView:
        said = self._next_song()
        return self._view(learned=learned, message=message or said)

    def _next_song(self) -> str | None:
        """The next song starts (and the history says so); what to say when nothing can play."""
        pick = self._dj.advance()
        written, self._written_play = self._written_play, None
        self._reaction = None
        if pick is None:
            return OUT_OF_SONGS
        self._play_number += 1
        self._stats = replace(self._stats, plays=self._stats.plays + 1)
        if pick.row != written:  # not known in advance (a dislike may replace the head)
            self._journal.event("play", self._tracks(pick.row), None)
        return None

    def _choose(self, song: str | int) -> None:
        """The person chose a song: it goes first in "Up next", and the history says so."""
        row = self._resolve(song)
        self._journal.event("choose", self._tracks(row), None)
        self._dj.choose(row, now=False)

    def _view(self, learned: Learned | None = None, message: str | None = None) -> SessionView:
        extras = Extras(self._play_number, self._reaction, self._stats, learned, message,
                        self.read_only, self.notice)
        view = assemble(self._dj, self._tracks, self._before, extras)  # while the journal writes
        on_disk = self._journal.settle()
        return replace(view, learned=None if learned is None else replace(learned, saved=on_disk),
                       warning=self._store.warning or self._saver.warning)

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

    @property
    def autosave_s(self) -> float:
        """Seconds between the model's saves while a session learns."""
        return self._saver.autosave_s

    @autosave_s.setter
    def autosave_s(self, seconds: float) -> None:
        self._saver.autosave_s = seconds

    def save(self) -> bool:
        """Save the profile's model now (atomic); False, with `warning` set, if it failed."""
        with self._lock:
            return self._saver.save(self._reactions)

    def close(self) -> None:
        """Save the model, end the session in the history and release the profile."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            problem = None
            try:
                self._journal.close()
                if not self.read_only:
                    if self._saver.dirty and not self._saver.save(self._reactions):
                        problem = self._saver.final_problem()
                    self._store.end_session(self._session_uid)
                    if not self._store.flush():
                        problem = problem or self._store.warning
            finally:
                self._store.close()
                if self._profile_lock is not None:
                    self._profile_lock.release()
            if problem:
                raise TuiDjError(problem)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- old names, kept for one version ----------------------------------------------------------

    def song_ended(self, play_number: int | None = None) -> SessionView:
        """Deprecated since 0.3: `song_finished(play_number)`, which it calls."""
        _deprecated("song_ended()", "song_finished()")
        return self.song_finished(play_number)

    def next_track(self) -> Track | None:
        """Deprecated since 0.2: `start()` plays the first song; a song moves on by itself with
        `react()` (skip, dislike) or `song_finished()`. Returns the song now playing, as 0.1 did."""
        _deprecated("next_track()", "start() for the first song, then react() or song_finished()")
        with self._lock:
            if self._moved_on:  # feedback() already started the next song, as react() does now
                self._moved_on = False
                return self.view().now_playing
            view = self.start() if self._dj.current is None else self.song_finished()
            return view.now_playing

    def feedback(self, reaction: str) -> Learned | None:
        """Deprecated since 0.2: `react(reaction)`, or `song_finished()` for "finish". Returns what
        was learned, as 0.1 did; the next `next_track()` keeps the song that reaction started."""
        _deprecated("feedback()", "react('like' | 'skip' | 'dislike'), or song_finished() for 'finish'")
        with self._lock:
            view = self.song_finished() if reaction == "finish" else self.react(reaction)
            self._moved_on = reaction != "like"
            return view.learned


def _deprecated(old: str, new: str) -> None:
    # 0.2's old names were to go in 0.3; they stay one version more, and go with 0.3's song_ended().
    warnings.warn(f"Session.{old} is deprecated and goes in tui-dj 0.4; use {new}.", DeprecationWarning,
                  stacklevel=3)

