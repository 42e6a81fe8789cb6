"""The DQN agent: a Q-network over candidate songs, experience replay and a soft-updated target.

Which network it holds (`networks.FeatureQNetwork`, or the original design's one output per song)
changes only how a candidate is described; the replay and the update are the same. Its files are
written and read by `model_file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from tui_dj.config import AgentConfig
from tui_dj.learn.adam import Adam
from tui_dj.learn.networks import FeatureQNetwork, PerSongQNetwork
from tui_dj.learn.trace import OBS_DIM, SONG_DIM


class Replay:
    """A ring buffer of transitions in numpy arrays of `capacity` rows.

    The arrays come from `np.zeros`, whose pages the OS only backs once written: a buffer of
    100,000 rows costs memory for the rows actually stored, and it never copies itself to grow.
    """

    def __init__(self, capacity: int, k: int, song_shape: tuple[int, ...], song_dtype: Any) -> None:
        self.capacity, self.k = int(capacity), int(k)
        self.size = 0
        self.pos = 0
        shapes: dict[str, tuple[tuple[int, ...], Any]] = {
            "obs": ((OBS_DIM,), np.float32),
            "next_obs": ((OBS_DIM,), np.float32),
            "reward": ((), np.float32),
            "done": ((), np.float32),
            "mask": ((self.k,), np.bool_),
            "song": (song_shape, song_dtype),
            "next_songs": ((self.k, *song_shape), song_dtype),
        }
        self.arrays = {name: np.zeros((self.capacity, *shape), dtype) for name, (shape, dtype) in shapes.items()}

    def add(self, **row: Any) -> None:
        for name, value in row.items():
            self.arrays[name][self.pos] = value
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, rng: np.random.Generator, newest: bool = False) -> dict[str, np.ndarray]:
        """`batch` random rows; with `newest`, the last row stored is always the batch's last one."""
        idx = rng.integers(0, self.size, size=batch - 1 if newest else batch)
        if newest:
            idx = np.append(idx, (self.pos - 1) % self.capacity)
        return {name: array[idx] for name, array in self.arrays.items()}


@dataclass(frozen=True)
class AgentSnapshot:
    """Everything one learning step changes (weights, optimiser, replay slot), to put back on undo."""

    online: dict[str, torch.Tensor]
    target: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    updates: int
    replay_pos: int
    replay_size: int
    replay_row: dict[str, np.ndarray]


class DQNAgent:
    """DQN with replay, a soft-updated target network and ε-greedy exploration."""

    def __init__(self, config: AgentConfig | None = None, n_songs: int | None = None, seed: int = 0) -> None:
        self.config = config or AgentConfig()
        c = self.config
        if c.network == "per-song" and not n_songs:
            raise ValueError("the per-song network needs the catalog size")
        self.n_songs = int(n_songs) if n_songs else None
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.online = self._network()
        self.target = self._network()
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        self.optimizer = Adam(self.online.parameters(), lr=c.lr)
        self.replay = self.new_replay(c.buffer_size)
        self.epsilon = c.eps_start
        self.updates = 0
        self._since_update = 0

    def _network(self) -> FeatureQNetwork | PerSongQNetwork:
        c = self.config
        if c.network == "per-song":
            assert self.n_songs is not None
            return PerSongQNetwork(OBS_DIM, self.n_songs, c.hidden, c.dueling)
        return FeatureQNetwork(OBS_DIM, SONG_DIM, c.hidden, c.dueling)

    def new_replay(self, capacity: int) -> Replay:
        """An empty replay buffer of `capacity` rows for this agent's network (also becomes its own)."""
        net = self.online
        self.replay = Replay(capacity, self.config.bootstrap, net.song_shape, net.song_dtype)
        return self.replay

    # -- acting ----------------------------------------------------------------------------------

    def encode(self, rows: np.ndarray, song_inputs: np.ndarray) -> np.ndarray:
        """Candidate songs as this agent's network reads them (see `networks`)."""
        return self.online.encode(rows, song_inputs)

    @torch.inference_mode()
    def q_values(self, obs: np.ndarray, encodings: np.ndarray) -> np.ndarray:
        """Q of each candidate of one state: (k,) for `encodings` as `encode` gives them."""
        o = torch.as_tensor(np.asarray(obs, np.float32)).reshape(1, -1)
        s = torch.as_tensor(np.asarray(encodings)).unsqueeze(0)
        return self.online(o, s)[0].numpy()

    def decay_epsilon(self) -> float:
        c = self.config
        self.epsilon = max(c.eps_end, self.epsilon * c.eps_decay)
        return self.epsilon

    # -- learning --------------------------------------------------------------------------------

    def remember(self, obs: np.ndarray, encoding: np.ndarray, reward: float, next_obs: np.ndarray,
                 next_encodings: np.ndarray | None, done: bool) -> None:
        """Store one transition: `encoding` is the played song's and `next_encodings` the next
        state's candidates', both as `encode` gives them (the first `config.bootstrap` of them are kept: pass
        the best-scored first)."""
        k = self.config.bootstrap
        mask = np.zeros(k, np.bool_)
        net = self.online
        nxt = np.zeros((k, *net.song_shape), net.song_dtype)
        if next_encodings is not None and not done:
            m = min(k, len(next_encodings))
            nxt[:m] = np.asarray(next_encodings)[:m]
            mask[:m] = True
        # The replay's fields keep their names ("song", "next_songs"): warm-start files hold them.
        self.replay.add(obs=obs, song=encoding, reward=reward, next_obs=next_obs, next_songs=nxt,
                        done=float(done), mask=mask)

    def update(self, steps: int = 1) -> float | None:
        """Take `steps` gradient steps on replayed batches; the mean loss, or None while too few."""
        c = self.config
        if self.replay.size < c.batch_size:
            return None
        losses = [self._step(self.replay.sample(c.batch_size, self.rng)) for _ in range(max(1, steps))]
        return float(np.mean(losses))

    def learn_online(self, steps: int, batch_size: int, newest: bool = True,
                     lr: float | None = None) -> float | None:
        """The console's update: `steps` gradient steps on small replayed batches of `batch_size`,
        at learning rate `lr` (default: the training one).

        With `newest`, the last transition stored is one row of every batch (uniform sampling would
        rarely pick the reaction just given, so each key press is learned from at once). Returns
        the mean loss, or None while the buffer holds fewer than `batch_size` rows.
        """
        batch = min(int(batch_size), self.config.batch_size)
        if steps < 1 or batch < 1 or self.replay.size < batch:
            return None
        trained, self.optimizer.lr = self.optimizer.lr, self.optimizer.lr if lr is None else lr
        try:
            losses = [self._step(self.replay.sample(batch, self.rng, newest=newest)) for _ in range(int(steps))]
        finally:
            self.optimizer.lr = trained
        return float(np.mean(losses))

    def maybe_update(self) -> float | None:
        """Called once per environment step: learn every `update_every` steps."""
        self._since_update += 1
        if self._since_update < self.config.update_every:
            return None
        self._since_update = 0
        return self.update(1)

    def _step(self, batch: dict[str, np.ndarray]) -> float:
        c = self.config
        obs = torch.from_numpy(batch["obs"])
        next_obs = torch.from_numpy(batch["next_obs"])
        reward = torch.from_numpy(batch["reward"])
        done = torch.from_numpy(batch["done"])
        mask = torch.from_numpy(batch["mask"])
        with torch.no_grad():
            next_encodings = torch.from_numpy(batch["next_songs"])
            q_next_t = self.target(next_obs, next_encodings)
            q_next_o = self.online(next_obs, next_encodings) if c.double else q_next_t
            q_next_o = q_next_o.masked_fill(~mask, -torch.inf)
            best = q_next_o.argmax(dim=1, keepdim=True)
            q_next = q_next_t.gather(1, best).squeeze(1)
            q_next = torch.where(mask.any(dim=1), q_next, torch.zeros_like(q_next))
            target = reward + c.gamma * (1.0 - done) * q_next
        q = self.online(obs, torch.from_numpy(batch["song"]).unsqueeze(1)).squeeze(1)
        loss = nn.functional.mse_loss(q, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.online.parameters(), 10.0)
        self.optimizer.step()
        with torch.no_grad():
            for t, o in zip(self.target.parameters(), self.online.parameters(), strict=True):
                t.lerp_(o, c.tau)
        self.updates += 1
        return float(loss.item())

    # -- undo --------------------------------------------------------------------------------------

    def snapshot(self) -> AgentSnapshot:
        """What the next `remember` and learning steps will change, so `restore` can undo them."""
        r = self.replay
        return AgentSnapshot(
            online={k: v.clone() for k, v in self.online.state_dict().items()},
            target={k: v.clone() for k, v in self.target.state_dict().items()},
            optimizer=self.optimizer.state_dict(),
            updates=self.updates,
            replay_pos=r.pos,
            replay_size=r.size,
            replay_row={name: array[r.pos].copy() for name, array in r.arrays.items()},
        )

    def restore(self, snap: AgentSnapshot) -> None:
        """Put back the weights, optimiser and replay slot of `snap` (one `remember` at most since)."""
        self.online.load_state_dict(snap.online)
        self.target.load_state_dict(snap.target)
        self.optimizer.load_state_dict(snap.optimizer)
        self.updates = snap.updates
        r = self.replay
        for name, value in snap.replay_row.items():
            r.arrays[name][snap.replay_pos] = value
        r.pos, r.size = snap.replay_pos, snap.replay_size
