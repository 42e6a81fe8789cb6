"""The two Q-networks behind one interface: `forward(obs, songs) -> Q` over a candidate set.

Each network says how it wants a candidate song described (`encode`): the feature network reads
the song's inputs relative to the session, so one small network serves a catalog of any size; the
original design's network reads the catalog row and has one output per song, and is kept to
reproduce that design and for the speed comparison. The agent, its replay and the policies never
ask which one they hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class FeatureQNetwork(nn.Module):
    """Scores every candidate song of a state: (B, obs) x (B, K, song) -> (B, K).

    The first layer is split into a state part and a song part, which is the same as a linear layer
    on their concatenation but computes the state part once per state instead of once per song.
    """

    song_shape: tuple[int, ...]
    song_dtype: Any = np.float16  # the replay keeps candidates at half precision: half the memory

    def __init__(self, obs_dim: int, song_dim: int, hidden: int, dueling: bool = False) -> None:
        super().__init__()
        self.song_shape = (song_dim,)
        self.state_in = nn.Linear(obs_dim, hidden)
        self.song_in = nn.Linear(song_dim, hidden, bias=False)
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.value = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 1)) if dueling else None

    @staticmethod
    def encode(rows: np.ndarray, song_inputs: np.ndarray) -> np.ndarray:
        return np.asarray(song_inputs, np.float32)

    def hidden_features(self, obs: torch.Tensor, songs: torch.Tensor) -> torch.Tensor:
        """(B, K, H): what the output layer reads about each candidate (the online update refits it)."""
        s = self.state_in(obs)  # (B, H)
        h = torch.relu_(self.song_in(songs.float()).add_(s.unsqueeze(1)))  # (B, K, H), in place: no copies
        return torch.relu_(self.hidden(h))

    def forward(self, obs: torch.Tensor, songs: torch.Tensor) -> torch.Tensor:
        q = self.out(self.hidden_features(obs, songs)).squeeze(-1)  # (B, K)
        if self.value is not None:
            q = q + self.value(self.state_in(obs))  # dueling: a state value plus each song's advantage
        return q


class PerSongQNetwork(nn.Module):
    """The original design: the state in, one Q-value per catalog song out; songs are catalog rows."""

    song_shape: tuple[int, ...] = ()
    song_dtype: Any = np.int64

    def __init__(self, obs_dim: int, n_songs: int, hidden: int, dueling: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_songs)
        self.value = nn.Linear(hidden, 1) if dueling else None

    @staticmethod
    def encode(rows: np.ndarray, song_inputs: np.ndarray) -> np.ndarray:
        return np.asarray(rows, np.int64)

    def forward(self, obs: torch.Tensor, songs: torch.Tensor) -> torch.Tensor:
        h = self.body(obs)
        q = self.out(h)
        if self.value is not None:
            q = self.value(h) + q - q.mean(dim=-1, keepdim=True)
        return q.gather(1, songs.long())
