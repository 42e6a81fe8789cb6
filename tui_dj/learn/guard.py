"""The DQN's safety rail: no long run of songs a person rejects.

A simulated listener only skips a far, unknown song, so going far is cheap exploration there; a
person dislikes it, and walks away after a handful. So the songs the DQN may pick from (its action
set) narrow after rejections, and the network chooses among what is left:

- while things go well, it may pick anywhere among the usual candidates (exploration is cheap
  when the listener is happy);
- after a rejection, once something was liked or let play, only songs near what worked may play:
  the nearest to the latest liked and heard-out songs, newest first ("return toward what worked");
- after `FORCE_AFTER` rejections in a row, the song nearest the most recent liked song (else the
  most recent heard out) that no rejection sits closer to plays, whatever the scores say;
- before anything was liked or let play, a run of rejections changes how the DJ searches: one song
  from each region of the catalog not yet tried, the region farthest from every rejected song first,
  so a cold start covers the catalog's sounds instead of drifting ever further one way.

Training runs under the same rail, so the network learns to choose well inside it.
"""

from __future__ import annotations

import numpy as np

from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.trace import SessionTrace

NARROW_AFTER = 1  # rejections in a row after which only songs near what worked are candidates
FORCE_AFTER = 2  # ... after which the nearest such song plays
COLD_AFTER = 3  # rejections before anything was liked after which the DJ covers the catalog
NEAR_PER_ANCHOR = 6
ANCHORS = 4


def _run(trace: SessionTrace) -> int:
    """Rejections in a row at the end of the session (the song playing, not yet reacted to, aside)."""
    return trace.skip_streak()


def _positives(trace: SessionTrace) -> list[np.ndarray]:
    """Features of the liked songs (newest first), then the heard-out ones (newest first)."""
    out: list[np.ndarray] = []
    for wanted in ("like", "finish"):
        out += [trace.features[i] for i in range(len(trace.reactions) - 1, -1, -1) if trace.reactions[i] == wanted]
    return out


def guarded_candidates(generator: CandidateGenerator, trace: SessionTrace,
                       excluded: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """The rows the DQN may choose from now, and whether the first of them must play (forced);
    None when the usual candidates apply."""
    run = _run(trace)
    if run < NARROW_AFTER:
        return None
    positives = _positives(trace)
    rejected = trace.rejected()
    if positives:
        if run < FORCE_AFTER:
            picks = [generator.nearest(a, NEAR_PER_ANCHOR, excluded) for a in positives[:ANCHORS]]
            rows = np.unique(np.concatenate(picks)) if picks else np.zeros(0, np.int64)
            return (rows.astype(np.int64), False) if len(rows) else None
        for anchor in positives:
            near = generator.nearest(anchor, 8, excluded)
            if len(near) == 0:
                continue
            if len(rejected):
                x = generator.features[near]
                to_anchor = np.sqrt(((x - anchor) ** 2).sum(1))
                to_rejected = np.sqrt(((x[:, None] - rejected[None]) ** 2).sum(-1)).min(1)
                near = near[to_anchor < to_rejected]  # closer to what worked than to any rejection
            if len(near):
                return near[:1].astype(np.int64), True
        return None
    if run < COLD_AFTER:
        return None
    return cover(generator, trace, excluded)


def cover(generator: CandidateGenerator, trace: SessionTrace, excluded: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """A cold start that found nothing: the song nearest the middle of the region farthest from
    every song played so far (farthest-point search over the catalog's regions)."""
    played = np.asarray(trace.features, np.float32).reshape(-1, generator.features.shape[1])
    centres = generator.region_centres
    if len(played):
        gap = np.sqrt(((centres[:, None] - played[None]) ** 2).sum(-1)).min(1)
    else:
        gap = np.ones(len(centres), np.float32)
    for j in np.argsort(-gap, kind="stable"):
        near = generator.nearest(centres[j], 1, excluded)
        if len(near):
            return near.astype(np.int64), True
    return None

