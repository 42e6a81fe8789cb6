"""The policies the DQN is measured against, and the DQN itself, behind one small interface.

Every policy sees the session through the environment's visible trace (`env.trace`), except the
oracle, which reads the listener's hidden state and so marks the ceiling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_dj.learn.env import DJEnv

if TYPE_CHECKING:
    from tui_dj.learn.agent import DQNAgent


class Policy:
    """Pick the next song (a catalog row) for `env`'s session; `observe` hears the outcome."""

    name = "policy"

    def begin(self, env: DJEnv, rng: np.random.Generator) -> None:
        """A new session starts."""

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        raise NotImplementedError

    def observe(self, env: DJEnv, index: int, reward: float) -> None:
        """The song `index` was played and earned `reward`."""


def _unplayed(env: DJEnv) -> np.ndarray:
    mask = np.ones(len(env.songs), bool)
    mask[env.trace.played] = False
    return mask


class RandomPolicy(Policy):
    name = "random"

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        n = len(env.songs)
        played = set(env.trace.played)
        while True:
            i = int(rng.integers(n))
            if i not in played:
                return i


class PopularPolicy(Policy):
    """The most popular songs not yet played, in order."""

    name = "popular"

    def __init__(self) -> None:
        self._order: np.ndarray | None = None
        self._for: int = -1

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        if self._order is None or self._for != id(env.songs):
            self._order = np.argsort(-env.songs.popularity, kind="stable")
            self._for = id(env.songs)
        played = set(env.trace.played)
        for i in self._order[: len(played) + 1]:
            if int(i) not in played:
                return int(i)
        raise RuntimeError("every song was played")


class GreedyPolicy(Policy):
    """The song nearest the taste vector, never one already played."""

    name = "greedy"

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        near, _ = env.generator.nearest(env.trace.taste(), 1, np.asarray(env.trace.played, np.int64))
        return int(near[0])


class DiversePolicy(Policy):
    """Nearest-to-taste with a maximal-marginal-relevance re-rank against the last songs played.

    Relevance is closeness to the taste; the penalty is how alike a song is to any of the last
    three songs, or 1 when its artist was one of theirs.
    """

    name = "diverse"

    def __init__(self, pool: int = 40, balance: float = 0.7) -> None:
        self.pool = pool
        self.balance = balance

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        trace = env.trace
        near, _ = env.generator.nearest(trace.taste(), self.pool, np.asarray(trace.played, np.int64))
        x = env.songs.features[near]
        relevance = np.exp(-((x - trace.taste()) ** 2).sum(1) / (2 * 0.3**2))
        similar = np.zeros(len(near))
        if trace.played:
            recent = trace.recent()[-3:]
            d2 = ((x[:, None, :] - recent[None]) ** 2).sum(-1)
            similar = np.exp(-d2 / (2 * 0.2**2)).max(1)
            artists = set(trace.artists[-3:])
            similar = np.maximum(similar, [a in artists for a in env.songs.artists[near]])
        return int(near[np.argmax(self.balance * relevance - (1 - self.balance) * similar)])


def _phi(env: DJEnv, idx: np.ndarray) -> np.ndarray:
    x = env.songs.features[idx]
    return np.concatenate([np.ones((len(idx), 1), np.float32), x, x * x,
                           env.songs.popularity[idx, None]], axis=1).astype(np.float64)


class LinearBandit(Policy):
    """Ridge regression of reward on song features (1, x, x², popularity), learned per session.

    LinUCB adds an upper-confidence bonus; Thompson sampling draws the weights from the posterior.
    Both choose among the same candidate set the DQN scores.
    """

    def __init__(self, thompson: bool, alpha: float = 0.5, ridge: float = 1.0) -> None:
        self.thompson = thompson
        self.name = "thompson" if thompson else "linucb"
        self.alpha = alpha
        self.ridge = ridge
        dim = 20
        self.A = np.eye(dim) * ridge
        self.b = np.zeros(dim)

    def begin(self, env: DJEnv, rng: np.random.Generator) -> None:
        self.A = np.eye(self.A.shape[0]) * self.ridge
        self.b = np.zeros(self.A.shape[0])

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        cands = env.candidates(rng)
        phi = _phi(env, cands)
        a_inv = np.linalg.inv(self.A)
        mean = a_inv @ self.b
        if self.thompson:
            theta = rng.multivariate_normal(mean, self.alpha**2 * a_inv, method="cholesky")
            score = phi @ theta
        else:
            score = phi @ mean + self.alpha * np.sqrt(np.einsum("ij,jk,ik->i", phi, a_inv, phi))
        return int(cands[np.argmax(score)])

    def observe(self, env: DJEnv, index: int, reward: float) -> None:
        phi = _phi(env, np.array([index]))[0]
        self.A += np.outer(phi, phi)
        self.b += reward * phi


class OraclePolicy(Policy):
    """Sees the hidden listener: plays the song with the highest expected utility right now.

    It searches the whole catalog (big ones: the songs nearest each hidden taste centre plus the
    usual candidates); in the similarity model it plays the song most similar to the true state.
    """

    name = "oracle"

    def __init__(self, per_centre: int = 200) -> None:
        self.per_centre = per_centre

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        played = np.asarray(env.trace.played, np.int64)
        listener = env.listener
        s = env.songs
        if listener is None:
            # The similarity model's state is visible; the best song is the most similar one.
            state = env.trace.recent().mean(axis=0)
            x = s.features
            cos = (x @ state) / (np.linalg.norm(x, axis=1) * np.linalg.norm(state) + 1e-12)
            cos[played] = -np.inf
            return int(np.argmax(cos))
        if len(s) <= 8192:
            pool = np.ones(len(s), bool)
            pool[played] = False
            pool = np.flatnonzero(pool)
        else:
            pools = [env.candidates(rng)]
            for centre in listener.centres:
                pools.append(env.generator.nearest(centre, self.per_centre, played)[0])
            pool = np.unique(np.concatenate(pools))
        u = listener.utility(pool, s.features[pool], s.popularity[pool], s.artists[pool])
        return int(pool[np.argmax(u)])


class DQNPolicy(Policy):
    """The trained agent, greedy on its Q-values over the candidate set."""

    name = "dqn"

    def __init__(self, agent: DQNAgent) -> None:
        self.agent = agent

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        cands = env.candidates(rng)
        if self.agent.per_song:
            q = self.agent.q_values(env.trace.observation(), None, cands)  # type: ignore[arg-type]
        else:
            q = self.agent.q_values(env.trace.observation(), env.song_inputs(cands))
        return int(cands[int(np.argmax(q))])


def baselines() -> list[Policy]:
    """Every baseline, the oracle last."""
    return [RandomPolicy(), PopularPolicy(), GreedyPolicy(), DiversePolicy(),
            LinearBandit(thompson=False), LinearBandit(thompson=True), OraclePolicy()]
