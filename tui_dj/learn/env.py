"""One listening session as a Gymnasium environment: the action is a catalog row to play next.

Two reward models (`EnvConfig.reward`):
- `listener` (default): a `Listener` with a hidden state reacts with like / finish / skip /
  dislike / quit, rewarded by `rewards.REWARDS`; a quit ends the session.
- `similarity`: the original design, exactly: the state is the mean scaled features of the last
  five songs (five random songs to start), the reward is the cosine similarity between the song
  and that mean, minus 0.5, for 20 steps.
The observation is `SessionTrace.observation()`: only what a real session could see.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import gymnasium as gym
import numpy as np

from tui_dj.catalog.model import Catalog
from tui_dj.config import EnvConfig
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.listener import Listener
from tui_dj.learn.observation import OBS_DIM, SessionTrace
from tui_dj.learn.rewards import REWARDS


@dataclass
class SongTable:
    """The catalog as the learner needs it: scaled features, popularity in [0, 1], artists."""

    features: np.ndarray
    popularity: np.ndarray
    artists: np.ndarray
    fingerprint: str = ""

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> SongTable:
        return cls(
            features=catalog.features,
            popularity=(catalog.tracks["popularity"].to_numpy(np.float32) / 100.0).clip(0.0, 1.0),
            artists=catalog.tracks["artist"].astype(str).to_numpy(dtype=object),
            fingerprint=catalog.fingerprint,
        )

    def __len__(self) -> int:
        return len(self.features)

    @cached_property
    def prior(self) -> np.ndarray:
        """The catalog's mean song: the taste assumed before any feedback (never changed in place).

        Every session starts from it, and the mean of a big catalog costs milliseconds: kept.
        """
        return self.features.mean(axis=0).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denom if denom > 0 else 0.0


class DJEnv(gym.Env[np.ndarray, np.int64]):
    """A session with a simulated listener (or the original similarity reward)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, songs: SongTable | Catalog, config: EnvConfig | None = None,
                 generator: CandidateGenerator | None = None, candidates: int = 64) -> None:
        self.songs = songs if isinstance(songs, SongTable) else SongTable.from_catalog(songs)
        self.config = config or EnvConfig()
        n = len(self.songs)
        if n < self.config.max_steps + self.config.history + 1:
            raise ValueError(f"a catalog of {n} songs is too small for sessions of {self.config.max_steps}")
        self.generator = generator or CandidateGenerator(self.songs.features, k=candidates)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(n)
        self.trace = SessionTrace(self.config.history, self.config.max_steps, self.songs.prior)
        self.listener: Listener | None = None
        self.steps = 0
        self._state: np.ndarray | None = None  # the similarity model's mean of the last five

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        c = self.config
        self.trace = SessionTrace(c.history, c.max_steps, self.songs.prior)
        self.steps = 0
        if c.reward == "similarity":
            self.listener = None
            for i in self.np_random.choice(len(self.songs), size=c.history, replace=False):
                self._record(int(i), "finish")
        else:
            self.listener = Listener(self.songs.features, self.np_random, c)
        return self.trace.observation(), {}

    def _record(self, index: int, event: str) -> None:
        s = self.songs
        self.trace.record(index, s.features[index], event, s.artists[index])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        index = int(action)
        s = self.songs
        if not 0 <= index < len(s):
            raise ValueError(f"action {index} is not a song of this catalog")
        self.steps += 1
        if self.listener is None:
            state = self.trace.recent().mean(axis=0)
            reward = cosine(s.features[index], state) - 0.5
            event = "finish"
            terminated = False
        else:
            event = self.listener.react(index, s.features[index], float(s.popularity[index]),
                                        str(s.artists[index]), self.np_random)
            reward = REWARDS[event]
            terminated = event == "quit"
        self._record(index, event)
        truncated = not terminated and self.steps >= self.config.max_steps
        return self.trace.observation(), float(reward), terminated, truncated, {"event": event}

    # -- helpers the policies share ------------------------------------------------------------

    def candidates(self, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.generator.candidates(self.trace.taste(), np.asarray(self.trace.played, np.int64),
                                         rng if rng is not None else self.np_random)

    def song_inputs(self, indices: np.ndarray) -> np.ndarray:
        s = self.songs
        return self.trace.song_inputs(s.features[indices], s.popularity[indices], s.artists[indices])
