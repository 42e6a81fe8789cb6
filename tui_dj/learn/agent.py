"""The DQN agent: a network that scores (state, song) pairs, experience replay, a soft target.

Q(s, a) = f(state, features(a)): one small network serves a catalog of any size, and scoring a
candidate set is one batched forward pass. The original design's network (one output per song)
is kept as `network = "per-song"` for reproduction and for the speed comparison.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tui_dj.atomic import atomic_write
from tui_dj.config import AgentConfig, update_from_mapping
from tui_dj.errors import TuiDjError
from tui_dj.learn.adam import Adam
from tui_dj.learn.observation import OBS_DIM, SONG_DIM
from tui_dj.paths import PACKAGE_ASSETS

FORMAT = "tui-dj-dqn"
FORMAT_VERSION = 1
DEFAULT_MODEL_FILE = "default_model.pt"


def default_model_path() -> Path:
    """The small model trained on the built-in catalog that ships with the package."""
    return PACKAGE_ASSETS / DEFAULT_MODEL_FILE


class FeatureQNetwork(nn.Module):
    """Scores every candidate song of a state: (B, obs) x (B, K, song) -> (B, K).

    The first layer is split into a state part and a song part, which is the same as a linear layer
    on their concatenation but computes the state part once per state instead of once per song.
    """

    def __init__(self, obs_dim: int, song_dim: int, hidden: int, dueling: bool = False) -> None:
        super().__init__()
        self.state_in = nn.Linear(obs_dim, hidden)
        self.song_in = nn.Linear(song_dim, hidden, bias=False)
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.dueling = dueling
        self.value = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 1)) if dueling else None

    def forward(self, obs: torch.Tensor, songs: torch.Tensor) -> torch.Tensor:
        s = self.state_in(obs)  # (B, H)
        h = torch.relu_(self.song_in(songs).add_(s.unsqueeze(1)))  # (B, K, H), in place: no copies
        q = self.out(torch.relu_(self.hidden(h))).squeeze(-1)  # (B, K)
        if self.value is not None:
            # Dueling: a state value plus each song's advantage.
            q = q + self.value(s)
        return q


class PerSongQNetwork(nn.Module):
    """The original design: the state in, one Q-value per catalog song out."""

    def __init__(self, obs_dim: int, n_songs: int, hidden: int, dueling: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_songs)
        self.value = nn.Linear(hidden, 1) if dueling else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.body(obs)
        q = self.out(h)
        if self.value is not None:
            q = self.value(h) + q - q.mean(dim=-1, keepdim=True)
        return q


class Replay:
    """A ring buffer of transitions in numpy arrays of `capacity` rows.

    The arrays come from `np.zeros`, whose pages the OS only backs once written: a buffer of
    100,000 rows costs memory for the rows actually stored, and it never copies itself to grow.
    """

    def __init__(self, capacity: int, k: int, song_dim: int, per_song: bool) -> None:
        self.capacity, self.k, self.song_dim, self.per_song = capacity, k, song_dim, per_song
        self.size = 0
        self.pos = 0
        self.arrays: dict[str, np.ndarray] = {}

    def _ensure(self, rows: int) -> None:
        if self.arrays:
            return
        shapes: dict[str, tuple[tuple[int, ...], Any]] = {
            "obs": ((OBS_DIM,), np.float32),
            "next_obs": ((OBS_DIM,), np.float32),
            "reward": ((), np.float32),
            "done": ((), np.float32),
            "mask": ((self.k,), np.bool_),
        }
        if self.per_song:
            shapes["action"] = ((), np.int64)
            shapes["next_idx"] = ((self.k,), np.int64)
        else:
            shapes["song"] = ((self.song_dim,), np.float32)
            shapes["next_songs"] = ((self.k, self.song_dim), np.float16)
        for name, (shape, dtype) in shapes.items():
            self.arrays[name] = np.zeros((self.capacity, *shape), dtype)

    def add(self, **row: Any) -> None:
        self._ensure(self.pos + 1)
        for name, value in row.items():
            self.arrays[name][self.pos] = value
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        idx = rng.integers(0, self.size, size=batch)
        return {name: array[idx] for name, array in self.arrays.items()}


class DQNAgent:
    """DQN with replay, a soft-updated target network and ε-greedy exploration."""

    def __init__(self, config: AgentConfig | None = None, n_songs: int | None = None, seed: int = 0) -> None:
        self.config = config or AgentConfig()
        c = self.config
        self.per_song = c.network == "per-song"
        if self.per_song and not n_songs:
            raise ValueError("the per-song network needs the catalog size")
        self.n_songs = int(n_songs) if n_songs else None
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.online = self._network()
        self.target = self._network()
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        self.optimizer = Adam(self.online.parameters(), lr=c.lr)
        self.replay = Replay(c.buffer_size, c.candidates, SONG_DIM, self.per_song)
        self.epsilon = c.eps_start
        self.updates = 0
        self._since_update = 0

    def _network(self) -> nn.Module:
        c = self.config
        if self.per_song:
            assert self.n_songs is not None
            return PerSongQNetwork(OBS_DIM, self.n_songs, c.hidden, c.dueling)
        return FeatureQNetwork(OBS_DIM, SONG_DIM, c.hidden, c.dueling)

    # -- acting ----------------------------------------------------------------------------------

    @torch.inference_mode()
    def q_values(self, obs: np.ndarray, song_features: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
        """Q of each candidate: (k,) for one state; song_features is (k, SONG_DIM).

        The per-song network reads `indices` (catalog rows) instead of the features.
        """
        o = torch.as_tensor(np.asarray(obs, np.float32)).reshape(1, -1)
        if self.per_song:
            if indices is None:
                raise ValueError("the per-song network scores catalog rows: pass indices")
            return self.online(o)[0, torch.as_tensor(np.asarray(indices, np.int64))].numpy()
        s = torch.as_tensor(np.asarray(song_features, np.float32)).reshape(1, -1, SONG_DIM)
        return self.online(o, s)[0].numpy()

    @torch.inference_mode()
    def q_values_batch(self, obs: np.ndarray, song_features: np.ndarray) -> np.ndarray:
        """(B, OBS_DIM) x (B, K, SONG_DIM) -> (B, K), for scoring many sessions at once."""
        o = torch.as_tensor(np.asarray(obs, np.float32))
        s = torch.as_tensor(np.asarray(song_features, np.float32))
        return self.online(o, s).numpy()

    def act(self, obs: np.ndarray, song_features: np.ndarray, indices: np.ndarray | None = None,
            explore: bool = True) -> int:
        """The position in the candidate list to play: ε-greedy on the Q-values."""
        k = len(indices) if indices is not None else len(song_features)
        if explore and self.rng.random() < self.epsilon:
            return int(self.rng.integers(k))
        return int(np.argmax(self.q_values(obs, song_features, indices)))

    def decay_epsilon(self) -> float:
        c = self.config
        self.epsilon = max(c.eps_end, self.epsilon * c.eps_decay)
        return self.epsilon

    # -- learning --------------------------------------------------------------------------------

    def remember(self, obs: np.ndarray, song_features: np.ndarray | None, reward: float, next_obs: np.ndarray,
                 next_candidate_features: np.ndarray | None, done: bool, action: int | None = None,
                 next_candidates: np.ndarray | None = None) -> None:
        """Store one transition. The per-song network needs `action` and `next_candidates` (rows)."""
        k = self.config.candidates
        mask = np.zeros(k, np.bool_)
        row: dict[str, Any] = {"obs": obs, "next_obs": next_obs, "reward": reward, "done": float(done)}
        if self.per_song:
            if action is None:
                raise ValueError("the per-song network stores the catalog row played: pass action")
            nxt = np.zeros(k, np.int64)
            if next_candidates is not None and not done:
                m = min(k, len(next_candidates))
                nxt[:m] = np.asarray(next_candidates)[:m]
                mask[:m] = True
            row.update(action=action, next_idx=nxt)
        else:
            songs = np.zeros((k, SONG_DIM), np.float16)
            if next_candidate_features is not None and not done:
                m = min(k, len(next_candidate_features))
                songs[:m] = np.asarray(next_candidate_features)[:m]
                mask[:m] = True
            row.update(song=song_features, next_songs=songs)
        row["mask"] = mask
        self.replay.add(**row)

    def update(self, steps: int = 1) -> float | None:
        """Take `steps` gradient steps on replayed batches; the mean loss, or None while too few."""
        c = self.config
        if self.replay.size < c.batch_size:
            return None
        losses = []
        for _ in range(max(1, steps)):
            losses.append(self._step(self.replay.sample(c.batch_size, self.rng)))
        return float(np.mean(losses))

    def learn_online(self, steps: int, batch_size: int, newest: bool = True) -> float | None:
        """The console's update: `steps` gradient steps on small replayed batches of `batch_size`.

        With `newest`, the last transition stored is one row of every batch (uniform sampling would
        rarely pick the feedback just given, so each key press is learned from at once). Returns
        the mean loss, or None while the buffer holds fewer than `batch_size` rows.
        """
        r = self.replay
        batch = min(int(batch_size), self.config.batch_size)
        if steps < 1 or batch < 1 or r.size < batch:
            return None
        last = (r.pos - 1) % r.capacity
        losses = []
        for _ in range(int(steps)):
            if newest:
                sample = r.sample(batch - 1, self.rng)
                rows = {name: np.concatenate([sample[name], array[last:last + 1]])
                        for name, array in r.arrays.items()}
            else:
                rows = r.sample(batch, self.rng)
            losses.append(self._step(rows))
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
            if self.per_song:
                nxt = torch.from_numpy(batch["next_idx"])
                q_next_t = self.target(next_obs).gather(1, nxt)
                q_next_o = self.online(next_obs).gather(1, nxt) if c.double else q_next_t
            else:
                songs = torch.from_numpy(batch["next_songs"].astype(np.float32))
                q_next_t = self.target(next_obs, songs)
                q_next_o = self.online(next_obs, songs) if c.double else q_next_t
            q_next_o = q_next_o.masked_fill(~mask, -torch.inf)
            best = q_next_o.argmax(dim=1, keepdim=True)
            q_next = q_next_t.gather(1, best).squeeze(1)
            q_next = torch.where(mask.any(dim=1), q_next, torch.zeros_like(q_next))
            target = reward + c.gamma * (1.0 - done) * q_next
        if self.per_song:
            q = self.online(obs).gather(1, torch.from_numpy(batch["action"]).unsqueeze(1)).squeeze(1)
        else:
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

    # -- files -----------------------------------------------------------------------------------

    def state(self, training: bool = False) -> dict[str, Any]:
        """A plain dict of tensors, numbers and strings (loadable with weights_only=True)."""
        from dataclasses import asdict

        out: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "obs_dim": OBS_DIM,
            "song_dim": SONG_DIM,
            "n_songs": int(self.n_songs or 0),
            "agent_config": json.dumps(asdict(self.config)),
            "online": self.online.state_dict(),
            "epsilon": float(self.epsilon),
            "updates": int(self.updates),
        }
        if training:
            out["target"] = self.target.state_dict()
            out["optimizer"] = self.optimizer.state_dict()
        return out

    def save(self, path: Path, metadata: dict[str, Any] | None = None, training: bool = False) -> None:
        """Write the network (and with `training`, the target and optimiser) atomically."""
        state = self.state(training)
        state["metadata"] = json.dumps(metadata or {}, default=str)

        def write(tmp: Path) -> None:
            # Through a handle, not the path: torch names the archive's root folder after a path,
            # and the temporary name is random, so the same weights would give different bytes.
            with open(tmp, "wb") as handle:
                torch.save(state, handle)
            os.chmod(tmp, 0o644)  # a model is not a secret; the temporary file starts private

        atomic_write(Path(path), write)


def read_state(path: Path) -> dict[str, Any]:
    """Read a saved agent file without unpickling code, or raise one clear sentence."""
    path = Path(path)
    if not path.is_file():
        raise TuiDjError(f"No model file at {path}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a foreign file's pickle protocol is refused below anyway
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError, zipfile.BadZipFile, RuntimeError, ValueError, TypeError, AttributeError,
            ImportError, KeyError, IndexError, MemoryError) as exc:
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({type(exc).__name__}).") from None
    except Exception as exc:  # pickle.UnpicklingError and friends from a crafted file
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({type(exc).__name__}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TuiDjError(f"{path} is not a tui-dj model.")
    if state.get("version") != FORMAT_VERSION:
        raise TuiDjError(f"{path} was saved by another version of tui-dj (format {state.get('version')}).")
    if state.get("obs_dim") != OBS_DIM or state.get("song_dim") != SONG_DIM:
        raise TuiDjError(f"{path} was trained with other inputs ({state.get('obs_dim')}/{state.get('song_dim')} "
                         f"instead of {OBS_DIM}/{SONG_DIM}); retrain it with `tui-dj train`.")
    return state


def load_agent(path: Path, n_songs: int | None = None, training: bool = False,
               seed: int = 0) -> tuple[DQNAgent, dict[str, Any]]:
    """Load a model saved by `DQNAgent.save`: (agent, metadata). Refuses anything else clearly."""
    path = Path(path)
    state = read_state(path)
    try:
        config = AgentConfig()
        update_from_mapping(config, json.loads(state["agent_config"]), "agent")
        metadata = json.loads(state.get("metadata", "{}"))
        saved_songs = int(state.get("n_songs", 0)) or None
    except (TypeError, ValueError, KeyError, TuiDjError) as exc:
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({exc}).") from None
    if config.network == "per-song" and n_songs is not None and saved_songs != n_songs:
        raise TuiDjError(f"{path} scores {saved_songs} songs, but this catalog has {n_songs}; "
                         "the per-song network only works on the catalog it was trained on.")
    agent = DQNAgent(config, n_songs=saved_songs, seed=seed)
    try:
        agent.online.load_state_dict(state["online"])
        agent.target.load_state_dict(state.get("target", state["online"]))
        if training and "optimizer" in state:
            agent.optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuiDjError(f"{path} holds a network of another shape ({first[:120]}).") from None
    agent.epsilon = float(state.get("epsilon", config.eps_end))
    agent.updates = int(state.get("updates", 0))
    return agent, metadata
