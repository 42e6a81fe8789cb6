"""The DJ: what plays now, what plays next, and the ranked rest, for one listener.

One rule keeps "Up next" honest: the song at its head is picked when the song before it starts,
and it is what plays when that song ends, or is skipped or disliked (unless it is the very song
disliked, the last one left). A like re-ranks the songs after the head; a skip or a dislike plays
the head at once, and the songs after the new head are ranked then: what the screen shows as next
is what plays next.
Songs the person chose themselves play first, in their order.

The DJ holds no files and no history: the session adds those, and training and evaluation drive the
same DJ with simulated listeners, so the agent learns under the rule it is used under.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.guard import guarded_candidates
from tui_dj.learn.policy import Decision, Policy, Transition
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import SessionTrace

NO_REPEAT = 50  # a song played within the last this-many plays is not picked again (while others remain)
TRACE_KEEP = 200  # older songs weigh next to nothing in the taste: dropping them keeps a step O(1)
TABLE_SIZE = 32  # candidates kept ranked; the console shows fifteen or so
# A pick with nothing the listener reacted to within this distance is "exploring": a sound new to
# the session (marked so in Up next), whether the policy's scores or ε chose it.
EXPLORE_RADIUS = 0.35


@dataclass(frozen=True)
class Pick:
    """A song picked to play, why (`best`, `explore` or `chosen` by the person), and for learning,
    the state it was picked in and how the policy encoded it there."""

    row: int
    why: str
    state: Any = None
    encoding: Any = None


@dataclass
class DJSnapshot:
    """What learning from one reaction changes, for undo: the policy, the reaction, the bans."""

    policy: Any
    play_id: int
    reaction: str | None
    banned: frozenset[int]


class DJ:
    """Plays songs from `songs` for one listener, picked by `policy`; `trace` is what it has seen."""

    def __init__(self, songs: SongTable, policy: Policy, generator: CandidateGenerator,
                 rng: np.random.Generator, trace: SessionTrace | None = None,
                 banned: set[int] | None = None, recent: list[int] | None = None,
                 policy_rng: np.random.Generator | None = None, steady: bool = False) -> None:
        self.songs = songs
        self.policy = policy
        self.generator = generator
        self.rng = rng  # the candidates' draws
        self.policy_rng = policy_rng if policy_rng is not None else rng  # the policy's and ε's draws
        # `steady`: songs already ranked are scored again with the fresh candidates, so a table a
        # person watches keeps its rows and shows how each one moved (the session's DJ).
        self.steady = steady
        self.trace = trace if trace is not None else SessionTrace(prior=songs.prior)
        self.banned: set[int] = set(banned or ())  # disliked (or kept out by the caller): never played
        self.recent: deque[int] = deque(recent or (), maxlen=NO_REPEAT)
        self.chosen: deque[int] = deque()  # songs the person queued, in order
        self.current: Pick | None = None
        self.head: Pick | None = None  # the DJ's own next pick
        self.ranked: list[tuple[int, float]] = []  # candidates after the head, best first
        self.head_score: float | None = None
        self._head_decision: Decision | None = None  # the state the head was picked in
        self._plays = 0  # songs played so far: each trace entry's play number is its position in this count

    # -- what plays ------------------------------------------------------------------------------

    def start(self) -> Pick | None:
        """Play the first song, if none is playing yet."""
        if self.current is None:
            return self.advance()
        return self.current

    def advance(self) -> Pick | None:
        """The next song starts: the first one the person chose, else the head. None: nothing left."""
        if self.chosen:
            row = self.chosen.popleft()
            chosen = self.policy.decide(self.songs, self.trace, np.array([row], np.int64), self.policy_rng)
            pick: Pick | None = Pick(row, "chosen", chosen.state, chosen.encoding_of(row))
        elif self.head is not None and self.head.row not in self.banned:
            pick = self.head
        else:  # no head yet, or the song just disliked was the last one left
            decided = self._decide(locked=None)
            pick = None if decided is None else self._pick_from(*decided)
        self.head, self._head_decision = None, None
        self.current = pick
        if pick is None:
            self.ranked, self.head_score = [], None
            return None
        s = self.songs
        # A song the person chose is evidence of their taste before they react to it: a like, until
        # a reaction says otherwise.
        evidence = "like" if pick.why == "chosen" else None
        self.trace.record(pick.row, s.features[pick.row], int(s.artists[pick.row]), evidence)
        self.trace.keep_last(TRACE_KEEP)
        self._plays += 1
        self.recent.append(pick.row)
        self._rank(keep_head=False)
        return pick

    def learn(self, reaction: str, reward: float, done: bool = False, rerank: bool = True) -> float | None:
        """Learn from the listener's reaction to the song playing, then re-rank the songs after the
        head (the head stays: it is what the person was shown). `rerank=False` when the next song starts
        at once anyway (a skip or a dislike: the head plays, and a new decision is made there)."""
        if self.current is None:
            raise ValueError("nothing is playing")
        # A chosen song heard to the end stays a like in what the DJ knows (the reward is a finish's).
        chosen_and_heard = self.current.why == "chosen" and reaction == "finish"
        self.trace.label("like" if chosen_and_heard else reaction)
        nxt = self._head_decision
        transition = Transition(self.current.state, self.current.encoding, float(reward),
                                None if nxt is None else nxt.state,
                                None if nxt is None else nxt.best_encodings(), done or nxt is None)
        loss = self.policy.learn(transition)
        if reaction == "dislike":
            self.banned.add(self.current.row)
        if rerank:
            # The head stays, unless it is the very song just disliked (the last one left).
            self._rank(keep_head=self.head is None or self.head.row not in self.banned)
        return loss

    def choose(self, row: int, now: bool = False) -> None:
        """The person queues `row` (first, ahead of their earlier choices); `now` also plays it."""
        self.banned.discard(row)  # choosing a song yourself overrides an old dislike
        if row in self.chosen:
            self.chosen.remove(row)
        self.chosen.appendleft(row)
        if now:
            self.advance()
        else:
            self._rank(keep_head=True)

    def rerank(self) -> None:
        """Score the candidates again (after an undo), keeping the head."""
        self._rank(keep_head=True)

    # -- undo --------------------------------------------------------------------------------------

    def snapshot(self) -> DJSnapshot:
        """Taken before a reaction to the song playing; `restore` takes that reaction back."""
        return DJSnapshot(self.policy.snapshot(), self._plays, self.trace.reactions[-1] if self.trace.played else None,
                          frozenset(self.banned))

    def restore(self, snap: DJSnapshot, rerank: bool = True) -> None:
        """Take back the reaction `snap` was taken before; `rerank=False` when another reaction to
        the same song follows at once (it ranks the songs itself, or the next song starts)."""
        self.policy.restore(snap.policy)
        back = self._plays - snap.play_id  # songs started since
        if back < len(self.trace):
            self.trace.label(snap.reaction, at=len(self.trace) - 1 - back)
        self.banned = set(snap.banned) - set(self.chosen)
        if rerank:
            self._rank(keep_head=True)

    # -- deciding ----------------------------------------------------------------------------------

    def _excluded(self, with_recent: bool, with_current: bool = True) -> np.ndarray:
        out = set(self.banned) | set(self.chosen)
        if with_recent:
            out |= set(self.recent)
        if with_current and self.current is not None:
            out.add(self.current.row)
        return np.fromiter(out, dtype=np.int64, count=len(out))

    def _decide(self, locked: int | None) -> tuple[Decision, np.ndarray | None] | None:
        """Score fresh candidates (plus the ones already ranked, so the table stays steady), and the
        locked head if there is one; with the rows the next pick may come from when the guard
        narrows them (None: any). None when every song is banned."""
        rows: np.ndarray | None = None
        excluded = np.zeros(0, np.int64)
        # Recently played songs only once nothing else is left; the song playing only when it is
        # the last song not disliked.
        for with_recent, with_current in ((True, True), (False, True), (False, False)):
            excluded = self._excluded(with_recent, with_current)
            if locked is not None:
                excluded = np.append(excluded, locked)
            own = self.policy.candidates(self.songs, self.trace, excluded, self.rng)
            rows = own if own is not None else self.generator.candidates(
                self.trace.taste(), excluded, self.rng, anchors=self.trace.anchors(), rejected=self.trace.rejected())
            if len(rows):
                break
        assert rows is not None
        allowed = guarded_candidates(self.generator, self.trace, excluded) if self.policy.guarded else None
        if allowed is not None:
            rows = np.concatenate([allowed, rows[~np.isin(rows, allowed)]])
        shown = np.fromiter((r for r, _ in self.ranked), np.int64) if self.steady else np.zeros(0, np.int64)
        if len(shown):
            shown = shown[~np.isin(shown, self._excluded(True)) & (shown != (locked if locked is not None else -1))]
            rows = np.concatenate([rows, shown[~np.isin(shown, rows)]])
        if locked is not None:
            rows = np.append(rows, locked)
        if len(rows) == 0:
            return None
        return self.policy.decide(self.songs, self.trace, rows.astype(np.int64), self.policy_rng), allowed

    def _pick_from(self, decision: Decision, allowed_rows: np.ndarray | None = None) -> Pick:
        rows, scores = decision.rows, decision.scores
        allowed = np.arange(len(rows)) if allowed_rows is None else np.flatnonzero(np.isin(rows, allowed_rows))
        if len(allowed) == 0:
            allowed = np.arange(len(rows))
        if self.policy.explore and self.policy_rng.random() < self.policy.explore:
            j = int(allowed[self.policy_rng.integers(len(allowed))])
        else:
            j = int(allowed[np.argmax(scores[allowed])])
        row = int(rows[j])
        why = "explore" if self._new_sound(row) else "best"
        return Pick(row, why, decision.state, None if decision.encodings is None else decision.encodings[j])

    def _new_sound(self, row: int) -> bool:
        rated = [f for f, r in zip(self.trace.features, self.trace.reactions, strict=True) if r is not None]
        if not rated:
            return False  # nothing is known yet: every first pick would be "exploring"
        d = np.sqrt(((np.asarray(rated) - self.songs.features[row]) ** 2).sum(1)).min()
        return bool(d > EXPLORE_RADIUS)

    def _rank(self, keep_head: bool) -> None:
        locked = self.head.row if keep_head and self.head is not None else None
        decided = self._decide(locked)
        if decided is None:
            self.head, self._head_decision, self.ranked, self.head_score = None, None, [], None
            return
        decision, allowed = decided
        if locked is None:
            self.head = self._pick_from(decision, allowed) if len(decision.rows) else None
            self._head_decision = decision if self.head is not None else None
        head = self.head.row if self.head is not None else -1
        order = np.argsort(-decision.scores, kind="stable")
        ranked = [(int(decision.rows[j]), float(decision.scores[j])) for j in order]
        self.head_score = next((q for r, q in ranked if r == head), None)
        self.ranked = [(r, q) for r, q in ranked if r != head][:TABLE_SIZE]

    # -- the narrow interface a session drives (besides start, advance, learn, choose) -----------

    def ban(self, row: int) -> None:
        """Keep `row` from playing again (a song whose file cannot be played)."""
        self.banned.add(row)

    def forgive(self, row: int) -> bool:
        """Let a disliked song play again and rank the candidates anew; False if it was not disliked."""
        if row not in self.banned:
            return False
        self.banned.discard(row)
        self._rank(keep_head=True)
        return True

    def take_back(self, snap: DJSnapshot, still_banned: frozenset[int] = frozenset(), rerank: bool = True) -> None:
        """`restore` a reaction's snapshot; `still_banned` stay banned whatever the snapshot held."""
        self.restore(snap, rerank=False)
        self.banned |= still_banned
        if rerank:
            self._rank(keep_head=True)

    def scores(self) -> dict[int, float]:
        """The score of every song in the table now: the head's and the ranked rest's."""
        scores = dict(self.ranked)
        if self.head is not None and self.head_score is not None:
            scores[self.head.row] = self.head_score
        return scores

    def score(self, row: int) -> float:
        """The policy's score of playing `row` next, in the state now."""
        return float(self.policy.decide(self.songs, self.trace, np.array([row], np.int64), self.policy_rng).scores[0])

    def upcoming(self) -> int | None:
        """The song that plays when the one playing ends or is skipped, where it is already known."""
        if self.chosen:
            return self.chosen[0]
        return None if self.head is None else self.head.row
