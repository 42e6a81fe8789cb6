"""Where this person's good songs are, from this session's reactions alone: a Gaussian process.

The reactions heard so far (their rewards: like +1, heard out +0.5, skip -0.25, dislike -1) are
noisy samples of a reward that varies smoothly over the songs' features. The process estimates it
at any song, with how unsure it is: 1 far from everything heard (where the estimate is the prior,
0), less near what was heard. Its upper end, the estimate plus `beta` of the uncertainty, ranks
songs worth playing: near likes, away from skips, and a little where nothing was heard yet. A
taste shaped as a ball, a corner or two places at once is all the same to it.

The `gp-ucb` baseline (`baselines.KernelBandit`) plays its best song.
"""

from __future__ import annotations

import numpy as np

from tui_dj.learn.rewards import REWARDS
from tui_dj.learn.trace import SessionTrace

# Chosen on the development split of the families panel (`baselines.KernelBandit`).
LENGTHSCALE = 0.6
BETA = 0.1
NOISE = 0.5  # the reward's spread about the estimate: a person's day varies
FULL_SCAN = 5000  # up to this many songs, every song is scored; above, a sample and the songs near what worked


class SessionGP:
    """The process fitted to the songs of `trace` that were reacted to."""

    def __init__(self, trace: SessionTrace, lengthscale: float = LENGTHSCALE, noise: float = NOISE) -> None:
        self.lengthscale = lengthscale
        heard = [(f, REWARDS[r]) for f, r in zip(trace.features, trace.reactions, strict=True) if r is not None]
        self.heard = np.array([f for f, _ in heard], np.float64)
        if heard:
            self._chol = np.linalg.cholesky(self._kernel(self.heard, self.heard) + noise**2 * np.eye(len(heard)))
            rewards = np.array([r for _, r in heard])
            self._weights = np.linalg.solve(self._chol.T, np.linalg.solve(self._chol, rewards))

    @property
    def fitted(self) -> bool:
        """Whether anything was reacted to yet (before that, every song is the prior)."""
        return len(self.heard) > 0

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2.0 * a @ b.T
        return np.exp(-np.maximum(d2, 0.0) / (2.0 * self.lengthscale**2))

    def upper(self, features: np.ndarray, beta: float = BETA) -> np.ndarray:
        """The estimated reward of each song (`features`, (k, 9)) plus `beta` of its uncertainty."""
        assert self.fitted, "nothing heard yet: every song is the prior"
        cross = self._kernel(np.asarray(features, np.float64), self.heard)
        spread = np.linalg.solve(self._chol, cross.T)
        uncertainty = np.sqrt(np.maximum(1.0 - (spread * spread).sum(0), 0.0))
        return cross @ self._weights + beta * uncertainty
