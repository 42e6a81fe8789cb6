"""One listening session as a Gymnasium environment: the action is the catalog row to play next.

This is the classic formulation for other RL libraries (Stable-Baselines3 and the like): a
simulated listener (or the original design's similarity reward, `EnvConfig.reward`) hears each
song as soon as it is chosen. tui-dj's own training and evaluation drive the same listener and
trace through `simulate.run_session`, where the next song is picked while one plays, as in the
console. The observation is `SessionTrace.observation()`: only what a real session could see.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from tui_dj.catalog.model import Catalog
from tui_dj.config import EnvConfig
from tui_dj.learn.listener import SimilarityListener
from tui_dj.learn.simulate import make_listener
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import OBS_DIM, SessionTrace


class DJEnv(gym.Env[np.ndarray, np.int64]):
    """A session with a simulated listener (or the original similarity reward)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, songs: SongTable | Catalog, config: EnvConfig | None = None) -> None:
        self.songs = songs if isinstance(songs, SongTable) else SongTable.from_catalog(songs)
        self.config = config or EnvConfig()
        n = len(self.songs)
        if n < self.config.max_steps + self.config.history + 1:
            raise ValueError(f"a catalog of {n} songs is too small for sessions of {self.config.max_steps}")
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(n)
        self.trace = SessionTrace(self.config.history, self.config.max_steps, self.songs.prior)
        self.listener: Any = None
        self.steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        c, s = self.config, self.songs
        self.trace = SessionTrace(c.history, c.max_steps, s.prior)
        self.steps = 0
        self.listener = make_listener(s, c, self.np_random)
        if isinstance(self.listener, SimilarityListener):
            for row in self.listener.start:
                self.trace.record(row, s.features[row], int(s.artists[row]), "finish")
        return self.trace.observation(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        row = int(action)
        s = self.songs
        if not 0 <= row < len(s):
            raise ValueError(f"action {row} is not a song of this catalog")
        self.steps += 1
        outcome, reward = self.listener.hear(s, row, self.np_random)
        terminated = outcome == "quit"
        self.trace.record(row, s.features[row], int(s.artists[row]), "skip" if terminated else outcome)
        truncated = not terminated and self.steps >= self.config.max_steps
        return self.trace.observation(), float(reward), terminated, truncated, {"outcome": outcome}
