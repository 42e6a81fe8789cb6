"""The feature network as the console plays it: its forward pass in numpy, no torch.

Playing needs the trained network's scores and, for the online update, the hidden features its
output layer reads (`online.OutputRefit` refits that layer in closed form). The output layer also
has a *person* part: weights on the song's own features (`person.person_inputs`), zero in a
trained model (a DJ for everyone has no taste of its own) and refit to one person as they react. Neither needs a
gradient, so the session runs the same weights through numpy: torch (1-2 s to import and about
200 MB) stays out of the console, the first song plays sooner, and each decision is a few small
matrix products. Training, and the networks that learn by gradient steps while playing (the
per-song network, the dueling head), keep `agent.DQNAgent`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from tui_dj.config import AgentConfig
from tui_dj.learn.trace import OBS_DIM, PERSON_DIM, SONG_DIM

LAYERS = ("state_in.weight", "state_in.bias", "song_in.weight", "hidden.weight", "hidden.bias",
          "out.weight", "out.bias")  # torch's names for `networks.FeatureQNetwork`'s weights


class PlayingAgent:
    """A trained feature network (see `networks.FeatureQNetwork`), scoring candidates with numpy.
    Its output layer may be replaced (`set_output`); everything else stays as trained."""

    def __init__(self, config: AgentConfig, weights: Mapping[str, np.ndarray], *, epsilon: float = 0.0,
                 updates: int = 0) -> None:
        h = config.hidden
        shapes = {"state_in.weight": (h, OBS_DIM), "state_in.bias": (h,), "song_in.weight": (h, SONG_DIM),
                  "hidden.weight": (h, h), "hidden.bias": (h,), "out.weight": (1, h), "out.bias": (1,)}
        for name, shape in shapes.items():
            if name not in weights:
                raise ValueError(f"the network has no {name}")
            if tuple(np.shape(weights[name])) != shape:
                raise ValueError(f"{name} is {tuple(np.shape(weights[name]))}, not {shape}")
        self.config = config
        self.n_songs: int | None = None  # the feature network scores any catalog
        self.epsilon, self.updates = float(epsilon), int(updates)
        self.rng = np.random.default_rng(0)
        w = {name: np.ascontiguousarray(weights[name], dtype=np.float32) for name in LAYERS}
        self._state_w, self._state_b = w["state_in.weight"].T, w["state_in.bias"]  # (obs, H), (H,)
        self._song_w = w["song_in.weight"].T  # (song, H)
        self._hidden_w, self._hidden_b = w["hidden.weight"].T, w["hidden.bias"]  # (H, H), (H,)
        self._out_w, self._out_b = w["out.weight"][0].copy(), w["out.bias"].copy()  # (H,), (1,)
        self._person_w = np.zeros(PERSON_DIM, np.float32)  # (P,): the person part of the output layer

    @staticmethod
    def plays(config: AgentConfig) -> bool:
        """Whether a network of `config` can be played here: the feature network without a
        dueling head (the others learn by gradient steps while playing)."""
        return config.network == "features" and not config.dueling

    # -- acting (as `DQNAgent`) ----------------------------------------------------------------------

    def encode(self, rows: np.ndarray, song_inputs: np.ndarray) -> np.ndarray:
        return np.asarray(song_inputs, np.float32)

    def hidden_features(self, obs: np.ndarray, encodings: np.ndarray) -> np.ndarray:
        """(k, H): what the output layer reads about each of `encodings` (k candidates, as
        `encode` gives them, and perhaps the person inputs after them) in state `obs`."""
        state = np.asarray(obs, np.float32).reshape(-1) @ self._state_w + self._state_b
        h = np.asarray(encodings, np.float32)[:, :SONG_DIM] @ self._song_w
        h += state
        np.maximum(h, 0.0, out=h)
        h = h @ self._hidden_w
        h += self._hidden_b
        return np.maximum(h, 0.0, out=h)

    def q_values(self, obs: np.ndarray, encodings: np.ndarray) -> np.ndarray:
        """Q of each candidate of one state: (k,). Encodings of `SONG_DIM + PERSON_DIM` columns
        (`person.with_person_inputs`) bring in the person part; plain ones leave it out."""
        encodings = np.asarray(encodings, np.float32)
        q = self.hidden_features(obs, encodings) @ self._out_w + self._out_b[0]
        if encodings.shape[1] == SONG_DIM + PERSON_DIM:
            q += encodings[:, SONG_DIM:] @ self._person_w
        return q

    # -- the output layer ----------------------------------------------------------------------------

    def output(self) -> np.ndarray:
        """The output layer as one vector: its H weights, its person weights, then its bias."""
        return np.concatenate([self._out_w, self._person_w, self._out_b]).astype(np.float64)

    def set_output(self, weights: np.ndarray) -> None:
        weights = np.asarray(weights)
        if weights.shape != (len(self._out_w) + PERSON_DIM + 1,):
            raise ValueError(f"an output layer of {weights.shape}, not ({len(self._out_w) + PERSON_DIM + 1},)")
        h = len(self._out_w)
        self._out_w = np.asarray(weights[:h], np.float32).copy()
        self._person_w = np.asarray(weights[h:-1], np.float32).copy()
        self._out_b = np.asarray(weights[-1:], np.float32).copy()

    def person(self) -> np.ndarray:
        """The person part of the output layer (what a profile saves beside the network)."""
        return self._person_w.copy()

    def set_person(self, weights: np.ndarray) -> None:
        weights = np.asarray(weights, np.float32)
        if weights.shape != (PERSON_DIM,):
            raise ValueError(f"person weights of {weights.shape}, not ({PERSON_DIM},)")
        self._person_w = weights.copy()

    def snapshot(self) -> np.ndarray:
        return self.output()

    def restore(self, snapshot: np.ndarray) -> None:
        self.set_output(snapshot)

    # -- saving --------------------------------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The weights by torch's names and shapes, so training and `torch.load` read them."""
        return OrderedDict([
            ("state_in.weight", self._state_w.T.copy()), ("state_in.bias", self._state_b.copy()),
            ("song_in.weight", self._song_w.T.copy()),
            ("hidden.weight", self._hidden_w.T.copy()), ("hidden.bias", self._hidden_b.copy()),
            ("out.weight", self._out_w[None].copy()), ("out.bias", self._out_b.copy()),
        ])

    @classmethod
    def from_network(cls, agent: Any) -> PlayingAgent:
        """The playing copy of a torch `DQNAgent`'s feature network (an untrained one, say)."""
        weights = {name: tensor.detach().numpy() for name, tensor in agent.online.state_dict().items()}
        return cls(agent.config, weights, epsilon=agent.epsilon, updates=agent.updates)
