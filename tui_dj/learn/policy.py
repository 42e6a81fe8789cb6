"""What picks the songs: one small interface for the DQN and every baseline.

The DJ (`dj.DJ`) asks a policy to `decide` over candidate songs (scores, higher is better, plus
whatever it wants to remember about that decision) and, once the listener has reacted to a song it
picked, hands it the `Transition` to `learn` from. Undo asks for a `snapshot` before a reaction is
learned and `restore`s it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tui_dj.learn.online import with_person_inputs
from tui_dj.learn.playing import PlayingAgent
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import SessionTrace

if TYPE_CHECKING:
    from tui_dj.learn.agent import DQNAgent


@dataclass(frozen=True)
class Decision:
    """A policy's view of one decision: a score per candidate (the Q-table), and for learning, the
    state it was made in and how each candidate was described (None for policies that need neither)."""

    rows: np.ndarray
    scores: np.ndarray
    state: Any = None
    encodings: np.ndarray | None = None

    def best_encodings(self) -> np.ndarray | None:
        """The candidates' encodings, best-scored first (what a transition's next state keeps)."""
        if self.encodings is None:
            return None
        return self.encodings[np.argsort(-self.scores, kind="stable")]

    def encoding_of(self, row: int) -> Any:
        if self.encodings is None:
            return None
        hit = np.flatnonzero(self.rows == row)
        return self.encodings[hit[0]] if len(hit) else None


@dataclass(frozen=True)
class Transition:
    """One song's outcome: picked in `state` (encoded as `encoding`), earned `reward`; the next song
    was picked in `next_state` among candidates encoded as `next_encodings`."""

    state: Any
    encoding: Any
    reward: float
    next_state: Any
    next_encodings: np.ndarray | None
    done: bool


class Policy:
    """Scores candidate songs for the session in `trace`; learns from what the listener did."""

    name = "policy"
    #: ε: the chance that the DJ plays a random candidate instead of the best-scored one.
    explore = 0.0
    #: Whether the DJ narrows what this policy may pick after rejections (`guard`).
    guarded = False

    def begin(self, listener: object | None = None) -> None:
        """A new session starts (`listener`: the simulated person, which only the oracle may read)."""

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray | None:
        """The rows to score, or None for the DJ's shared candidate set."""
        return None

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray,
               rng: np.random.Generator) -> Decision:
        raise NotImplementedError

    def learn(self, transition: Transition) -> float | None:
        """Learn from one outcome; returns a loss when there is one."""
        return None

    def snapshot(self) -> Any:
        return None

    def restore(self, snapshot: Any) -> None:
        """Put back what `snapshot` saw (undo)."""


class DQNPolicy(Policy):
    """The agent, greedy on its Q-values. How it learns from a transition depends on `mode`:

    - "train": store it and take a gradient step every `update_every` transitions (training);
    - "online": store it and take `steps` small steps that each include it (the console);
    - "collect": only store it (a warm start of the replay);
    - "frozen": do not learn (evaluation of a trained model).
    """

    name = "dqn"
    guarded = True

    def __init__(self, agent: DQNAgent | PlayingAgent, mode: Literal["train", "online", "collect", "frozen"] = "frozen",
                 steps: int = 1, batch: int = 16, lr: float | None = None) -> None:
        self.agent = agent
        self.mode = mode
        self.steps, self.batch, self.lr = steps, batch, lr

    @property
    def explore(self) -> float:  # type: ignore[override]
        return self.agent.epsilon if self.mode == "train" else 0.0

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray,
               rng: np.random.Generator) -> Decision:
        obs = trace.observation()
        inputs = trace.song_inputs(songs.features[rows], songs.popularity[rows], songs.artists[rows])
        encoded = self.agent.encode(rows, inputs)
        if isinstance(self.agent, PlayingAgent):  # its output layer reads the person inputs too
            encoded = with_person_inputs(encoded, songs, rows)
        return Decision(rows, self.agent.q_values(obs, encoded), obs, encoded)

    def learn(self, t: Transition) -> float | None:
        if self.mode == "frozen" or t.state is None or t.encoding is None or isinstance(self.agent, PlayingAgent):
            return None  # a network played in numpy learns only through its output layer's refit
        self.agent.remember(t.state, t.encoding, t.reward, t.next_state, t.next_encodings, t.done)
        if self.mode == "train":
            return self.agent.maybe_update()
        if self.mode == "collect":
            return None
        return self.agent.learn_online(self.steps, self.batch, newest=True, lr=self.lr)

    def snapshot(self) -> Any:
        return self.agent.snapshot()

    def restore(self, snapshot: Any) -> None:
        self.agent.restore(snapshot)
