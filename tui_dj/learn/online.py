"""The online update: the network's output layer refit to one person's reactions as they come.

A gradient step per key press, mixed with simulated experience so one evening cannot wreck the
network, measured no better than not learning at all: what this person says was drowned by what
the simulator said. Here the network's last layer (the Q-value as a weighted sum of the 128 hidden
features that describe a song in a session) is refit in closed form, after every reaction, to this
person's own transitions only: ridge regression toward the trained weights (a Gaussian prior worth
`PRIOR` reactions), with fitted-Q targets (reward + γ × the best next Q under the trained weights).
So a person whose "let it play" means what someone else's like means moves the DJ within a few
songs, the hidden layers that every person shares stay as training left them, and undo is exact.
The refit weights are written into the network's output layer, so what decides, what the Q-table
shows and what a profile saves are the one network. It runs on the network as the console plays
it (`playing.PlayingAgent`, numpy): no gradient is involved.

Refitting those 128 weights alone measured no better than leaving them (the network's inputs
already carry what is near each like). What it could not learn is the person's taste *as a
shape*: "more energy, less acoustic", beyond any song heard. So the output layer also reads the
song's own features and their squares (`person_inputs`: a bowl or a slope in each feature), with
weights that training leaves at zero and this refit learns, held lightly (a prior worth
`PRIOR_PERSON` reactions). Until the first song liked or let play they stay where they were: from
rejections alone, a slope only points away from where the DJ happened to look, and measured worse
on the development split's cold starts. And the refit forgets (`FORGET`): a taste moves within an
evening, and one refit that remembered every reaction alike kept the mood family on the mood they
had left.

On the development split (24 people of each listener family, never the panel's), the mean over
families of the median score of songs 21-60 / 41-60 was 0.59 / 0.59 with the update on and off
alike before the person layer; with it 0.65 / 0.67 on, and with forgetting 0.66 / 0.68, at least
the frozen network's on every family in both windows (without forgetting: behind on four).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_dj.learn.playing import PlayingAgent
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import PERSON_DIM, SONG_DIM

PRIOR = 30.0  # the trained weights count as this many reactions' worth of evidence
PRIOR_PERSON = 5.0  # the person weights' prior (zero in a trained model), in reactions' worth
FORGET = 0.92  # a reaction `a` songs ago weighs FORGET ** a (half after 8 songs): a mood moves on
KEEP = 200  # the person's latest transitions the refit reads (a long session costs the same)
ROUNDS = 3  # fitted-Q rounds per refit: the targets' bootstrap under the new weights
BOOTSTRAP_REFIT = False  # the next state's value under the refit weights (False: the trained ones)


def person_inputs(songs: SongTable, rows: np.ndarray) -> np.ndarray:
    """(k, PERSON_DIM): what the person part of the output layer reads about songs `rows`: each
    feature and its square, centred on the catalog (so zero weights, or a reset, change no Q)."""
    x = songs.features[rows] - songs.prior
    return np.concatenate([x, x * x - songs.variance], axis=1).astype(np.float32)


def with_person_inputs(encodings: np.ndarray, songs: SongTable, rows: np.ndarray) -> np.ndarray:
    """Candidates' encodings with the person inputs after them (what `PlayingAgent.q_values` and
    the refit read)."""
    return np.concatenate([np.asarray(encodings, np.float32), person_inputs(songs, rows)], axis=1)


@dataclass(frozen=True)
class _Sample:
    phi: np.ndarray  # (H+P+1,) the hidden features of the song played, its person inputs and a 1
    reward: float
    next_phi: np.ndarray | None  # (k, H+P+1) the next decision's best candidates; None at the end
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
        """(k, H+P+1): what the output layer reads about each candidate in state `obs` (encoded
        with its person inputs, `with_person_inputs`): its hidden features, its person inputs, a 1."""
        encodings = np.asarray(encodings)
        if encodings.shape[1] != SONG_DIM + PERSON_DIM:
            raise ValueError("the refit reads encodings with their person inputs (with_person_inputs)")
        h = self.agent.hidden_features(obs, encodings).astype(np.float64)
        return np.concatenate([h, encodings[:, SONG_DIM:].astype(np.float64), np.ones((len(h), 1))], axis=1)

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
        phi = np.stack([s.phi for s in self.samples])  # (n, H+P+1)
        rewards = np.array([s.reward for s in self.samples])
        person = np.zeros(phi.shape[1], bool)
        person[self.agent.config.hidden:-1] = True
        # Each part's prior strength in its inputs' own units: so many reactions of average size.
        strength = np.where(person, PRIOR_PERSON * _mean_square(phi[:, person]),
                            PRIOR * _mean_square(phi[:, ~person]))
        free = np.ones(phi.shape[1], bool) if (rewards > 0).any() else ~person
        fixed = phi[:, ~free] @ self.prior[~free]  # the person part's Q, while it is held
        a = phi[:, free]
        weighed = a * (FORGET ** np.arange(len(a))[::-1])[:, None]  # the latest reaction weighs 1
        gram = weighed.T @ a + np.diag(strength[free])
        weights = self.weights if BOOTSTRAP_REFIT else self.prior
        for _ in range(ROUNDS if BOOTSTRAP_REFIT else 1):
            if BOOTSTRAP_REFIT:
                future = np.array([0.0 if s.next_phi is None else float((s.next_phi @ weights).max())
                                   for s in self.samples])
            else:  # under the trained weights, worked out once per reaction, not at every refit
                future = np.array([s.trained_next for s in self.samples])
            targets = rewards + self.gamma * future - fixed
            weights = self.prior.copy()
            weights[free] = np.linalg.solve(gram, weighed.T @ targets + strength[free] * self.prior[free])
        self.weights = weights

    def snapshot(self) -> tuple[np.ndarray, list[_Sample]]:
        return self.weights.copy(), list(self.samples)

    def restore(self, snapshot: tuple[np.ndarray, list[_Sample]]) -> None:
        self.weights, self.samples = snapshot[0].copy(), list(snapshot[1])
        self._write_back()

    def _write_back(self) -> None:
        """The refit weights become the network's output layer: what decides, and what is saved."""
        self.agent.set_output(self.weights)


def _mean_square(columns: np.ndarray) -> float:
    """The mean squared size of one input of `columns` (a sample's squared norm over their count)."""
    return max(1e-9, float((columns * columns).sum(1).mean()) / max(1, columns.shape[1]))
