"""The DQN's safety rail: no long run of songs a person rejects.

A simulated listener only skips a far, unknown song, so going far is cheap exploration there; a
person dislikes it, and walks away after a handful. So the songs the DQN may pick from (its action
set) narrow after rejections, and the network chooses among what is left:

- while things go well, it may pick anywhere among the usual candidates (exploration is cheap
  when the listener is happy);
- after a rejection, once something was liked or let play, only songs near what worked may play:
  near the latest liked songs (else heard out), closer to them than to any rejected song, and not
  the same song again ("return toward what worked"); after `FORCE_AFTER`, only the nearest two of
  those per song;
- after `STALE_AFTER` rejections in a row, what worked may have stopped working (a mood that
  turned), or the ways back were its edge: every other song is from the heart of it (nearest the
  taste, closer to it than to any rejected song), the others from a search afresh;
- before anything was liked or let play, after `COLD_AFTER` rejections, a search afresh.

A search afresh (`learn.cover`) offers the few songs that could be among the best of the most
tastes that the rejections so far leave likely: each skip rules out the tastes it would have been
liked by, wherever they are, instead of pushing the search ever further one way; the network
chooses among them.

Training runs under the same rail, so the network learns to choose well inside it.
"""

from __future__ import annotations

import warnings

import numpy as np

from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.trace import SessionTrace

NARROW_AFTER = 1  # rejections in a row after which only songs near what worked are candidates
FORCE_AFTER = 2  # ... after which only the few nearest such songs are
STALE_AFTER = 4  # ... after which every other song comes from a search afresh
COLD_AFTER = 3  # rejections before anything was liked or let play after which a search afresh starts
NEAR_PER_ANCHOR = 6
ANCHORS = 3  # the latest liked (else heard-out) songs the DJ returns to
SAME_SONG = 0.06  # closer than this sounds like the same song again: not a way back
SEARCH_OFFERS = 3  # songs a search afresh offers the network at once (`learn.cover`)


def _positives(trace: SessionTrace) -> list[np.ndarray]:
    """Features of the latest liked songs, newest first, then the heard-out ones."""
    out: list[np.ndarray] = []
    for wanted in ("like", "finish"):
        out += [trace.features[i] for i in range(len(trace.reactions) - 1, -1, -1) if trace.reactions[i] == wanted]
    return out[:ANCHORS]


def _ways_back(generator: CandidateGenerator, anchor: np.ndarray, count: int, excluded: np.ndarray,
               rejected: np.ndarray) -> np.ndarray:
    """Songs near `anchor` that are not the same song again and lie closer to it than to any
    rejected song, nearest first."""
    near = generator.nearest(anchor, 4 * count, excluded)
    if len(near) == 0:
        return near
    x = generator.features[near]
    to_anchor = np.sqrt(((x - anchor) ** 2).sum(1))
    keep = to_anchor > SAME_SONG
    if len(rejected):
        keep &= to_anchor < np.sqrt(((x[:, None] - rejected[None]) ** 2).sum(-1)).min(1)
    return near[keep][:count]


def guarded_candidates(generator: CandidateGenerator, trace: SessionTrace, excluded: np.ndarray,
                       rng: np.random.Generator | None = None) -> np.ndarray | None:
    """The rows the DQN may choose from now, never an `excluded` one; None when the usual
    candidates apply. (`rng` is 0.3.0's, when a search drew songs at random: deprecated, unused.)"""
    if rng is not None:
        warnings.warn("guarded_candidates(..., rng) is deprecated and goes in tui-dj 0.4: the rail draws "
                      "nothing at random now; leave it out.", DeprecationWarning, stacklevel=2)
    run = trace.skip_streak()
    if run < NARROW_AFTER:
        return None
    positives = _positives(trace)
    if not positives and run < COLD_AFTER:
        return None
    rejected = trace.rejected()
    if positives and run < STALE_AFTER:
        count = NEAR_PER_ANCHOR if run < FORCE_AFTER else 2
        picks = [_ways_back(generator, a, count, excluded, rejected) for a in positives]
        rows = np.unique(np.concatenate(picks)).astype(np.int64)
        if len(rows):
            return rows
    if positives and (run - STALE_AFTER) % 2 == 0:
        # Every other song of a long run: the heart of what worked (the taste), not its edge.
        core = _ways_back(generator, trace.taste(), 2, excluded, rejected)
        if len(core):
            return core
    blocked = np.zeros(generator.n, bool)
    blocked[excluded] = True
    found = generator.cover.search(rejected, blocked, SEARCH_OFFERS)
    return found if len(found) else None
