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
- after `STALE_AFTER` rejections in a row what worked has stopped working (a mood that turned): a
  search afresh widens outward from it, through the regions of the catalog no rejection lies in,
  nearest first;
- before anything was liked or let play, after `COLD_AFTER` rejections, a search afresh covers
  the catalog: the regions farthest from every rejected song first, instead of drifting ever
  further one way. A search offers one song from each of a few such regions, drawn at random
  (the one least like anything rejected), and the network chooses.

Training runs under the same rail, so the network learns to choose well inside it.
"""

from __future__ import annotations

import numpy as np

from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.trace import SessionTrace

NARROW_AFTER = 1  # rejections in a row after which only songs near what worked are candidates
FORCE_AFTER = 2  # ... after which only the few nearest such songs are
STALE_AFTER = 4  # ... after which what worked is taken to have stopped working: search afresh
COLD_AFTER = 3  # rejections before anything was liked after which the DJ covers the catalog
NEAR_PER_ANCHOR = 6
ANCHORS = 3  # the latest liked (else heard-out) songs the DJ returns to
SAME_SONG = 0.06  # closer than this sounds like the same song again: not a way back
SEARCH_REGIONS = 6  # regions a search afresh offers a song from at once
PER_REGION = 4  # songs drawn from each, of which the one least like anything rejected is offered


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
                       rng: np.random.Generator) -> np.ndarray | None:
    """The rows the DQN may choose from now; None when the usual candidates apply. `rng`: the
    candidates' random stream (a search afresh draws songs from regions)."""
    run = trace.skip_streak()
    if run < NARROW_AFTER:
        return None
    positives = _positives(trace)
    if positives and run < STALE_AFTER:
        count = NEAR_PER_ANCHOR if run < FORCE_AFTER else 2
        rejected = trace.rejected()
        picks = [_ways_back(generator, a, count, excluded, rejected) for a in positives]
        rows = np.unique(np.concatenate(picks)).astype(np.int64)
        if len(rows):
            return rows
    if not positives and run < COLD_AFTER:
        return None
    return search(generator, trace, excluded, rng, np.asarray(positives) if positives else None)


def _untried(generator: CandidateGenerator, rejected: np.ndarray) -> np.ndarray:
    """The regions of the catalog no rejected song lies in (each song counted in the region whose
    middle is nearest), as a boolean mask over `generator.region_centres`; every region once each
    has had a rejection."""
    centres = generator.region_centres
    tried = np.zeros(len(centres), bool)
    if len(rejected):
        tried[np.argmin(((rejected[:, None] - centres[None]) ** 2).sum(-1), axis=1)] = True
    return ~tried if not tried.all() else np.ones(len(centres), bool)


def search(generator: CandidateGenerator, trace: SessionTrace, excluded: np.ndarray, rng: np.random.Generator,
           toward: np.ndarray | None) -> np.ndarray | None:
    """A search afresh, among the regions of the catalog no rejected song lies in: the
    `SEARCH_REGIONS` nearest what worked (`toward`: the search widens outward from it) or, before
    anything worked, the ones farthest from every rejected song (farthest-point search: a cold
    start covers the catalog instead of drifting one way). From each, of a few songs drawn at
    random, the one least like anything rejected; the network chooses among them."""
    rejected = trace.rejected()
    centres = generator.region_centres
    untried = _untried(generator, rejected)
    if toward is not None:
        key = np.sqrt(((centres[:, None] - toward[None]) ** 2).sum(-1)).min(1)
    elif len(rejected):
        key = -np.sqrt(((centres[:, None] - rejected[None]) ** 2).sum(-1)).min(1)
    else:
        key = rng.random(len(centres))
    blocked = np.zeros(generator.n, bool)
    blocked[excluded] = True
    picks = []
    for j in [j for j in np.argsort(key, kind="stable") if untried[j]][:SEARCH_REGIONS]:
        members = generator.regions[j][~blocked[generator.regions[j]]]
        if len(members) == 0:
            continue
        drawn = rng.choice(members, size=min(PER_REGION, len(members)), replace=False)
        if len(rejected):
            x = generator.features[drawn]
            drawn = drawn[np.argsort(-np.sqrt(((x[:, None] - rejected[None]) ** 2).sum(-1)).min(1))]
        picks.append(int(drawn[0]))
    return np.array(picks, np.int64) if picks else None
