"""One simulated listening session through the DJ, as training and evaluation run it.

Every session has three random streams of its own, spawned from its seed: the listener's (who they
are and how they react), the candidates' and the policy's. No stream is shared, so a policy can
never find the hidden taste by drawing the same numbers the listener was drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tui_dj.config import EnvConfig
from tui_dj.errors import TuiDjError
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.dj import DJ
from tui_dj.learn.families import FAMILIES, Person, draw
from tui_dj.learn.listener import Listener, SimilarityListener
from tui_dj.learn.policy import Policy
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import SessionTrace

EARLY = 20  # "the first songs": the like rate over songs 1-20 and over 21 on is reported apart


@dataclass(frozen=True)
class Streams:
    listener: np.random.Generator
    candidates: np.random.Generator
    policy: np.random.Generator

    @classmethod
    def spawn(cls, seed: int) -> Streams:
        a, b, c = np.random.SeedSequence(int(seed)).spawn(3)
        return cls(np.random.default_rng(a), np.random.default_rng(b), np.random.default_rng(c))


@dataclass
class SessionResult:
    outcomes: list[str] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    played: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(sum(self.rewards))

    def metrics(self, songs: SongTable, max_steps: int) -> dict[str, float]:
        """Return, rates, length, quitting and diversity; like rates over the first 20 songs and the
        rest count songs never heard (after a quit) as not liked."""
        n = len(self.outcomes)
        likes = np.array([o == "like" for o in self.outcomes] + [False] * (max_steps - n))
        x = songs.features[self.played]
        diversity = 0.0
        if len(x) > 1:
            d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
            diversity = float(d.sum() / (len(x) * (len(x) - 1)))
        late = likes[EARLY:]
        return {
            "return": self.total,
            "like_rate": self.outcomes.count("like") / n,
            "skip_rate": self.outcomes.count("skip") / n,
            "length": float(n),
            "quit_rate": float(self.outcomes[-1] == "quit"),
            "diversity": diversity,
            "like_early": float(likes[:EARLY].mean()),
            "like_late": float(late.mean()) if len(late) else float("nan"),
        }


def mixture(config: EnvConfig) -> list[str]:
    """The listener families a session's person is drawn from (each equally likely)."""
    if config.population == "simulator":
        return ["simulator"]
    names = [name for name in FAMILIES if name != config.leave_out]
    if config.leave_out and len(names) == len(FAMILIES):
        raise TuiDjError(f"There is no listener family {config.leave_out!r} to leave out; the families are "
                         f"{', '.join(FAMILIES)}.")
    return names


def make_listener(songs: SongTable, config: EnvConfig,
                  rng: np.random.Generator) -> Listener | Person | SimilarityListener:
    """The person of one session: the original design's similarity "listener", or one drawn from
    the listener families (the simulator's own people keep its quitting and drift settings)."""
    if config.reward == "similarity":
        return SimilarityListener(songs, rng, config.history)
    names = mixture(config)
    name = names[int(rng.integers(len(names)))] if len(names) > 1 else names[0]
    if name == "simulator":
        return Listener.draw(songs, rng, config)
    return draw(name, songs, rng)


def run_session(songs: SongTable, policy: Policy, generator: CandidateGenerator, config: EnvConfig,
                seed: int) -> SessionResult:
    """Play one session of up to `config.max_steps` songs to a new simulated listener."""
    streams = Streams.spawn(seed)
    listener = make_listener(songs, config, streams.listener)
    trace = SessionTrace(config.history, config.max_steps, songs.prior)
    if isinstance(listener, SimilarityListener):
        for row in listener.start:  # the original design starts from five songs already heard
            trace.record(row, songs.features[row], int(songs.artists[row]), "finish")
    dj = DJ(songs, policy, generator, streams.candidates, trace, recent=list(trace.played),
            policy_rng=streams.policy)
    policy.begin(listener)
    result = SessionResult()
    dj.start()
    for step in range(config.max_steps):
        pick = dj.current
        if pick is None:
            break
        outcome, reward = listener.hear(songs, pick.row, streams.listener)
        done = outcome == "quit" or step == config.max_steps - 1
        # A listener who walks away is recorded as a skip: it is the last thing the trace sees.
        # The next song starts at once: only a dislike re-ranks (it may pick the head again).
        loss = dj.learn("skip" if outcome == "quit" else outcome, reward, done, rerank=False)
        result.outcomes.append(outcome)
        result.rewards.append(reward)
        result.played.append(pick.row)
        if loss is not None:
            result.losses.append(loss)
        if done:
            break
        dj.advance()
    return result

