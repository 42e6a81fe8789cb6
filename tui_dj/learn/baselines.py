"""The policies the DQN is measured against, and the DQN itself, behind one small interface.

Every policy sees the session through the environment's visible trace (`env.trace`), except the
oracle, which reads the listener's hidden state and so marks the ceiling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_dj.learn.env import DJEnv
from tui_dj.learn.observation import SONG_DIM

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


def nearest_to_taste(env: DJEnv, count: int) -> np.ndarray:
    """The `count` unplayed songs nearest the session's taste vector, nearest first, over the whole
    catalog (not the clustered approximation the candidate generator uses on big catalogs)."""
    trace = env.trace
    x = env.songs.features
    d = ((x - trace.taste()) ** 2).sum(1)
    if trace.played:
        d[np.asarray(trace.played, np.int64)] = np.inf
    count = min(count, len(d) - len(set(trace.played)))
    part = np.argpartition(d, count - 1)[:count] if count < len(d) else np.arange(len(d))
    return part[np.argsort(d[part], kind="stable")]


class GreedyPolicy(Policy):
    """The song nearest the taste vector (`SessionTrace.taste()`, what the console shows), never
    one already played, searched exactly over the whole catalog."""

    name = "greedy"

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        return int(nearest_to_taste(env, 1)[0])


class DiversePolicy(Policy):
    """Nearest-to-taste with a maximal-marginal-relevance re-rank against the last songs played.

    Relevance is closeness to the taste; the penalty is how alike a song is to any of the last
    three songs, or 1 when its artist was one of theirs. The pool is the exact nearest songs.
    """

    name = "diverse"

    def __init__(self, pool: int = 40, balance: float = 0.7) -> None:
        self.pool = pool
        self.balance = balance

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        trace = env.trace
        taste = trace.taste()
        near = nearest_to_taste(env, self.pool)
        x = env.songs.features[near]
        relevance = np.exp(-((x - taste) ** 2).sum(1) / (2 * 0.3**2))
        similar = np.zeros(len(near))
        if trace.played:
            recent = trace.recent()[-3:]
            d2 = ((x[:, None, :] - recent[None]) ** 2).sum(-1)
            similar = np.exp(-d2 / (2 * 0.2**2)).max(1)
            artists = set(trace.artists[-3:])
            similar = np.maximum(similar, [a in artists for a in env.songs.artists[near]])
        return int(near[np.argmax(self.balance * relevance - (1 - self.balance) * similar)])


# The bandits' inputs: the same session-relative description of a song the DQN scores
# (`SessionTrace.song_inputs`: features, popularity, distances to the taste / recent / rejected
# songs, artist just played), plus a bias and the squares of the distances, so a linear model can
# draw a bump around the taste rather than a plane through feature space. The distances and their
# squares appear a second time multiplied by "something was liked yet": before any like the taste
# is only the catalog's mean, after one it is the best clue there is, and a single linear weight
# cannot say both.
_DISTANCES = slice(10, 16)
_N_DIST = _DISTANCES.stop - _DISTANCES.start
BANDIT_DIM = 1 + SONG_DIM + 3 * _N_DIST


def bandit_inputs(song_inputs: np.ndarray, liked: bool) -> np.ndarray:
    """(k, `BANDIT_DIM`): 1, the song inputs, squared distances, and the distances and their
    squares again times `liked`."""
    x = np.asarray(song_inputs, np.float64).reshape(-1, SONG_DIM)
    dist = x[:, _DISTANCES]
    squared = dist**2
    gated = float(liked) * np.concatenate([dist, squared], axis=1)
    return np.concatenate([np.ones((len(x), 1)), x, squared, gated], axis=1)


class LinearBandit(Policy):
    """A linear contextual bandit: ridge regression of reward on `bandit_inputs`.

    The model carries over from session to session (like the DQN's training, it learns from every
    listener it meets; each session's inputs are relative to that session, so what it learns is
    "how far from the taste, how alike to the last song, how popular" rather than one person's
    taste). LinUCB adds an upper-confidence bonus; Thompson sampling draws the weights from the
    posterior. Both choose among the same candidate set the DQN scores.

    `alpha` and `ridge` were chosen on tuning sessions apart from the training and evaluation
    seeds (`python -m tui_dj.learn.baselines`: the built-in catalog, seeds from
    `TUNING_SEED_BASE`, 300 sessions, alpha in {0.05, 0.1, 0.25, 0.5, 1}, ridge in {0.1, 1, 10}):
    ridge 0.1 was best for both, with LinUCB alpha 0.5 and Thompson alpha 0.1. Neighbouring
    settings differ by about the noise of 300 sessions (±0.3), so these are "good", not "optimal".
    """

    def __init__(self, thompson: bool, alpha: float | None = None, ridge: float = 0.1) -> None:
        self.thompson = thompson
        self.name = "thompson" if thompson else "linucb"
        self.alpha = alpha if alpha is not None else (0.1 if thompson else 0.5)
        self.ridge = ridge
        self.A_inv = np.eye(BANDIT_DIM) / ridge
        self.b = np.zeros(BANDIT_DIM)
        self._last: np.ndarray | None = None

    def choose(self, env: DJEnv, rng: np.random.Generator) -> int:
        cands = env.candidates(rng)
        phi = bandit_inputs(env.song_inputs(cands), env.trace.liked_any())
        mean = self.A_inv @ self.b
        if self.thompson:
            theta = rng.multivariate_normal(mean, self.alpha**2 * self.A_inv, method="cholesky")
            score = phi @ theta
        else:
            width = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", phi, self.A_inv, phi), 0.0))
            score = phi @ mean + self.alpha * width
        best = int(np.argmax(score))
        self._last = phi[best]
        return int(cands[best])

    def observe(self, env: DJEnv, index: int, reward: float) -> None:
        phi = self._last
        if phi is None:
            return
        # Sherman-Morrison: A⁻¹ after adding φφᵀ, without inverting at every step.
        a_phi = self.A_inv @ phi
        self.A_inv -= np.outer(a_phi, a_phi) / (1.0 + phi @ a_phi)
        self.A_inv = (self.A_inv + self.A_inv.T) / 2  # keep it symmetric for the Cholesky draw
        self.b += reward * phi
        self._last = None


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


TUNING_SEED_BASE = 9_000_000_000  # apart from training (seed·1,000,003 + episode) and evaluation (7e9)


def tune(sessions: int = 300) -> None:  # pragma: no cover - run by hand, see LinearBandit
    """Print the mean return of each bandit setting on tuning sessions of the built-in catalog."""
    from tui_dj.catalog.synthetic import builtin_catalog
    from tui_dj.learn.evaluate import run_session

    env = DJEnv(builtin_catalog())
    for thompson in (False, True):
        for ridge in (0.1, 1.0, 10.0):
            for alpha in (0.05, 0.1, 0.25, 0.5, 1.0):
                policy = LinearBandit(thompson, alpha, ridge)
                total = sum(run_session(env, policy, TUNING_SEED_BASE + i)[0]["return"] for i in range(sessions))
                print(f"{policy.name:<9} ridge {ridge:<5} alpha {alpha:<5} mean return {total / sessions:6.3f}",
                      flush=True)


if __name__ == "__main__":  # pragma: no cover
    tune()
