"""The online update: the network's output layer refit to one person's reactions as they come.

A gradient step per key press, mixed with simulated experience so one evening cannot wreck the
network, measured no better than not learning at all: what this person says was drowned by what
the simulator said. Here the network's last layer (the Q-value as a weighted sum of the 128 hidden
features that describe a song in a session) is refit in closed form, after every reaction, to this
person's own transitions only: ridge regression toward the trained weights (a Gaussian prior worth
`PRIOR` reactions), with fitted-Q targets (reward + γ × the best next Q under the refit weights).
So a person whose "let it play" means what someone else's like means moves the DJ within a few
songs, the hidden layers that every person shares stay as training left them, and undo is exact.
The refit weights are written into the network's output layer, so what decides, what the Q-table
shows and what a profile saves are the one network. It runs on the network as the console plays
it (`playing.PlayingAgent`, numpy): no gradient is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_dj.learn.playing import PlayingAgent

PRIOR = 30.0  # the trained weights count as this many reactions' worth of evidence
KEEP = 200  # the person's latest transitions the refit reads (a long session costs the same)
ROUNDS = 3  # fitted-Q rounds per refit: the targets' bootstrap under the new weights
BOOTSTRAP_REFIT = False  # the next state's value under the refit weights (False: the trained ones)


@dataclass(frozen=True)
class _Sample:
    phi: np.ndarray  # (H+1,) the hidden features of the song played, with a 1 for the bias
    reward: float
    next_phi: np.ndarray | None  # (k, H+1) the next decision's best candidates; None at the end
    trained_next: float  # the best next Q under the trained weights (0 at the end): a fixed target


class OutputRefit:
    """The output layer of `agent`'s feature network, refit to one person (see the module)."""

    def __init__(self, agent: PlayingAgent, gamma: float | None = None) -> None:
        self.agent = agent
        self.gamma = float(agent.config.gamma if gamma is None else gamma)
        self.prior = agent.output()
        self.weights = self.prior.copy()
        self.samples: list[_Sample] = []

    def features(self, obs: np.ndarray, encodings: np.ndarray) -> np.ndarray:
        """(k, H+1): the hidden features of each encoded candidate in state `obs`, and a 1."""
        h = self.agent.hidden_features(obs, encodings).astype(np.float64)
        return np.concatenate([h, np.ones((len(h), 1))], axis=1)

    def learn(self, obs: np.ndarray, encoding: np.ndarray, reward: float, next_obs: np.ndarray | None,
              next_encodings: np.ndarray | None, done: bool) -> float:
        """Add one transition and refit; returns the squared error of its Q before the refit."""
        phi = self.features(obs, np.asarray(encoding)[None])[0]
        nxt = None if done or next_obs is None or next_encodings is None or len(next_encodings) == 0 \
            else self.features(next_obs, next_encodings)
        before = float(phi @ self.weights)
        trained_next = 0.0 if nxt is None else float((nxt @ self.prior).max())
        self.samples.append(_Sample(phi, float(reward), nxt, trained_next))
        del self.samples[:-KEEP]
        self._refit()
        self._write_back()
        target = reward + (0.0 if nxt is None else self.gamma * float((nxt @ self.weights).max()))
        return (before - target) ** 2

    def _refit(self) -> None:
        phi = np.stack([s.phi for s in self.samples])  # (n, H+1)
        rewards = np.array([s.reward for s in self.samples])
        # The prior's strength in the features' own units: PRIOR reactions of average size.
        strength = PRIOR * float((phi * phi).sum(1).mean()) / phi.shape[1]
        gram = phi.T @ phi + strength * np.eye(phi.shape[1])
        weights = self.weights if BOOTSTRAP_REFIT else self.prior
        for _ in range(ROUNDS if BOOTSTRAP_REFIT else 1):
            if BOOTSTRAP_REFIT:
                future = np.array([0.0 if s.next_phi is None else float((s.next_phi @ weights).max())
                                   for s in self.samples])
            else:  # under the trained weights, worked out once per reaction, not at every refit
                future = np.array([s.trained_next for s in self.samples])
            targets = rewards + self.gamma * future
            weights = np.linalg.solve(gram, phi.T @ targets + strength * self.prior)
        self.weights = weights

    def snapshot(self) -> tuple[np.ndarray, list[_Sample]]:
        return self.weights.copy(), list(self.samples)

    def restore(self, snapshot: tuple[np.ndarray, list[_Sample]]) -> None:
        self.weights, self.samples = snapshot[0].copy(), list(snapshot[1])
        self._write_back()

    def _write_back(self) -> None:
        """The refit weights become the network's output layer: what decides, and what is saved."""
        self.agent.set_output(self.weights)
