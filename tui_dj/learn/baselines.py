"""The policies the DQN is measured against, behind the DJ's one `Policy` interface.

Every baseline sees only what the session saw (`trace`), except the oracle, which reads the
simulated listener's hidden state and so marks the ceiling. They run through the same DJ (and, in
the listener panels, the same session API) as the DQN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tui_dj.learn.kernel import BETA, FULL_SCAN, LENGTHSCALE, SessionGP
from tui_dj.learn.policy import Decision, Policy, Transition
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import SONG_DIM, SessionTrace

POOL = 64  # candidates a baseline with its own search scores
MANY_CENTRES = 3  # the oracle searches near each centre of a listener with up to this many


def _allowed(n: int, excluded: np.ndarray) -> np.ndarray:
    mask = np.ones(n, bool)
    mask[excluded] = False
    return mask


def nearest(songs: SongTable, point: np.ndarray, count: int, excluded: np.ndarray) -> np.ndarray:
    """The `count` allowed songs nearest `point`, nearest first, searched exactly over the catalog."""
    d = ((songs.features - np.asarray(point, np.float32)) ** 2).sum(1)
    d[excluded] = np.inf
    count = min(count, int(np.isfinite(d).sum()))
    if count <= 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(d, count - 1)[:count] if count < len(d) else np.arange(len(d))
    part = part[np.argsort(d[part], kind="stable")]
    return part[np.isfinite(d[part])].astype(np.int64)


def random_rows(songs: SongTable, count: int, excluded: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    allowed = np.flatnonzero(_allowed(len(songs), excluded))
    return rng.choice(allowed, size=min(count, len(allowed)), replace=False).astype(np.int64)


class RandomPolicy(Policy):
    name = "random"

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        return random_rows(songs, POOL, excluded, rng)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        return Decision(rows, rng.random(len(rows)))


class PopularPolicy(Policy):
    """The most popular songs not played yet."""

    name = "popular"

    def __init__(self) -> None:
        self._order: np.ndarray | None = None
        self._for: int = -1

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        if self._order is None or self._for != id(songs):
            self._order, self._for = np.argsort(-songs.popularity, kind="stable"), id(songs)
        top = self._order[: POOL + len(excluded)]
        return top[~np.isin(top, excluded)][:POOL].astype(np.int64)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        return Decision(rows, songs.popularity[rows].astype(np.float64))


class GreedyPolicy(Policy):
    """The song nearest the taste vector (what the console shows), searched exactly."""

    name = "greedy"

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        return nearest(songs, trace.taste(), POOL, excluded)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        return Decision(rows, -((songs.features[rows] - trace.taste()) ** 2).sum(1))


def liked_mean(trace: SessionTrace, last: int = 5) -> np.ndarray | None:
    """The mean features of the last `last` liked songs, or None before the first like."""
    liked = [f for f, r in zip(trace.features, trace.reactions, strict=True) if r == "like"][-last:]
    return np.mean(liked, axis=0) if liked else None


class LikedMeanPolicy(Policy):
    """The naive heuristic people write first: the song nearest the mean of the last five liked
    songs, and a random song one time in five (and until the first like). With `diverse`, the
    nearest few are re-ranked to avoid sounding like, or sharing an artist with, the last songs."""

    def __init__(self, diverse: bool = False, random_share: float = 0.2) -> None:
        self.diverse = diverse
        self.random_share = random_share
        self.name = "liked-mean-diverse" if diverse else "liked-mean"
        self._random = np.zeros(0, np.int64)  # the random songs among the latest candidates

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        centre = liked_mean(trace)
        if centre is None:
            self._random = random_rows(songs, POOL, excluded, rng)
            return self._random
        near = nearest(songs, centre, POOL // 2, excluded)
        self._random = random_rows(songs, 1, np.concatenate([excluded, near]), rng)
        return np.concatenate([near, self._random])

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        centre = liked_mean(trace)
        if centre is None:
            return Decision(rows, rng.random(len(rows)))
        x = songs.features[rows]
        score = -((x - centre) ** 2).sum(1)
        if self.diverse:
            score = 0.7 * np.exp(score / (2 * 0.3**2)) - 0.3 * _sameness(songs, trace, rows)
        score[np.isin(rows, self._random)] = np.inf if rng.random() < self.random_share else -np.inf
        return Decision(rows, score)


def _sameness(songs: SongTable, trace: SessionTrace, rows: np.ndarray) -> np.ndarray:
    """How alike each song is to any of the last three played, or 1 when it shares their artist."""
    if not trace.played:
        return np.zeros(len(rows))
    recent = np.asarray(trace.features[-3:])
    d2 = ((songs.features[rows][:, None, :] - recent[None]) ** 2).sum(-1)
    alike = np.exp(-d2 / (2 * 0.2**2)).max(1)
    return np.maximum(alike, np.isin(songs.artists[rows], trace.artists[-3:]))


class DiversePolicy(Policy):
    """Nearest-to-taste with a maximal-marginal-relevance re-rank against the last songs played."""

    name = "diverse"

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        return nearest(songs, trace.taste(), 40, excluded)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        relevance = np.exp(-((songs.features[rows] - trace.taste()) ** 2).sum(1) / (2 * 0.3**2))
        return Decision(rows, 0.7 * relevance - 0.3 * _sameness(songs, trace, rows))


# The bandits' inputs: the same session-relative description of a song the DQN scores
# (`SessionTrace.song_inputs`), plus a bias and the squares of the distances, so a linear model can
# draw a bump around the taste rather than a plane through feature space. The distances and their
# squares appear a second time multiplied by "something was liked yet": before any like the taste
# is only the catalog's mean, after one it is the best clue there is, and a single linear weight
# cannot say both.
_DISTANCES = slice(1, 8)
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
    seeds (the built-in catalog, 300 sessions, alpha in {0.05, 0.1, 0.25, 0.5, 1}, ridge in
    {0.1, 1, 10}): ridge 0.1 was best for both, with LinUCB alpha 0.5 and Thompson alpha 0.1.
    """

    def __init__(self, thompson: bool, alpha: float | None = None, ridge: float = 0.1) -> None:
        self.thompson = thompson
        self.name = "thompson" if thompson else "linucb"
        self.alpha = alpha if alpha is not None else (0.1 if thompson else 0.5)
        self.ridge = ridge
        self.A_inv = np.eye(BANDIT_DIM) / ridge
        self.b = np.zeros(BANDIT_DIM)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        inputs = trace.song_inputs(songs.features[rows], songs.popularity[rows], songs.artists[rows])
        phi = bandit_inputs(inputs, trace.liked_any())
        mean = self.A_inv @ self.b
        if self.thompson:
            theta = rng.multivariate_normal(mean, self.alpha**2 * self.A_inv, method="cholesky")
            score = phi @ theta
        else:
            width = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", phi, self.A_inv, phi), 0.0))
            score = phi @ mean + self.alpha * width
        return Decision(rows, score, encodings=phi)

    def learn(self, t: Transition) -> float | None:
        phi = t.encoding
        if phi is None:
            return None
        # Sherman-Morrison: A⁻¹ after adding φφᵀ, without inverting at every step.
        a_phi = self.A_inv @ phi
        self.A_inv -= np.outer(a_phi, a_phi) / (1.0 + phi @ a_phi)
        self.A_inv = (self.A_inv + self.A_inv.T) / 2  # keep it symmetric for the Cholesky draw
        self.b += t.reward * phi
        return None

    def snapshot(self) -> Any:
        return self.A_inv.copy(), self.b.copy()

    def restore(self, snapshot: Any) -> None:
        self.A_inv, self.b = snapshot[0].copy(), snapshot[1].copy()


class KernelBandit(Policy):
    """GP-UCB: a Gaussian process over where in the catalog this session's reactions fell
    (`learn.kernel`), each song scored by the upper end of its estimated reward.

    What someone who knows bandits writes for "play near what I liked, away from what I skipped":
    it learns from this session alone, in the songs' own features, where the linear bandits above
    learn one shape of taste across sessions. A song by an artist among the last three is held
    back, as every listener tires of one artist. It scores every song of a catalog of up to
    `kernel.FULL_SCAN` songs; on a larger one, `SAMPLE` songs at random and the `POOL` nearest each
    of the last three songs liked or heard out.

    `lengthscale` and `beta` were chosen on the development split of the families panel (24 people
    a family, never the people reported): of lengthscale 0.15, 0.25, 0.4, 0.6, 0.8 and beta 0.03 to
    2 (16 pairs), the best mean over the families of the median score over songs 21-60 (0.581;
    0.4 and 0.1 or 0.3 gave 0.579, 0.25 and 1 gave 0.529, 0.4 and 2 gave 0.189).
    """

    name = "gp-ucb"
    SAMPLE = 1024

    def __init__(self, lengthscale: float = LENGTHSCALE, beta: float = BETA) -> None:
        self.lengthscale = lengthscale
        self.beta = beta
        self.full_scan = FULL_SCAN

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        if len(songs) <= self.full_scan:
            return np.flatnonzero(_allowed(len(songs), excluded)).astype(np.int64)
        good = [f for f, r in zip(trace.features, trace.reactions, strict=True) if r in ("like", "finish")][-3:]
        pools = [random_rows(songs, self.SAMPLE, excluded, rng)] + [nearest(songs, f, POOL, excluded) for f in good]
        return np.unique(np.concatenate(pools)).astype(np.int64)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        tired = np.isin(songs.artists[rows], trace.artists[-3:]) * 2.0
        gp = SessionGP(trace, self.lengthscale)
        if not gp.fitted:
            return Decision(rows, rng.random(len(rows)) - tired)
        return Decision(rows, gp.upper(songs.features[rows], self.beta) - tired)


class OraclePolicy(Policy):
    """Sees the hidden listener: plays the song with the highest expected utility right now, from
    the songs nearest each hidden taste centre (and the usual candidates). With the original
    similarity reward it plays the song most similar to the listener's true state."""

    name = "oracle"

    def __init__(self, per_centre: int = 200) -> None:
        self.per_centre = per_centre
        self.listener: Any = None

    def begin(self, listener: object | None = None) -> None:
        self.listener = listener

    def candidates(self, songs: SongTable, trace: SessionTrace, excluded: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray | None:
        centres = getattr(self.listener, "centres", None)
        if centres is None:
            state = np.mean(self.listener.recent, axis=0)
            x = songs.features
            cos = (x @ state) / (np.linalg.norm(x, axis=1) * np.linalg.norm(state) + 1e-12)
            cos[excluded] = -np.inf
            return np.argsort(-cos)[:8].astype(np.int64)
        if len(centres) <= MANY_CENTRES:
            pools = [nearest(songs, c, self.per_centre, excluded) for c in centres]
            return np.unique(np.concatenate(pools)).astype(np.int64)
        # A playlist's listener has a centre per song: one search for the songs nearest any of
        # them (one search per centre took 26 s a session on a 28,000-song catalog).
        gap = np.full(len(songs), np.inf, np.float32)
        c = np.asarray(centres, np.float32)
        for start in range(0, len(songs), 32_768):
            x = songs.features[start:start + 32_768]
            d2 = (x * x).sum(1)[:, None] + (c * c).sum(1)[None] - 2 * x @ c.T
            gap[start:start + len(x)] = d2.min(axis=1)
        gap[excluded] = np.inf
        count = min(self.per_centre * MANY_CENTRES, int(np.isfinite(gap).sum()))
        return np.argpartition(gap, count - 1)[:count].astype(np.int64) if count > 0 else np.zeros(0, np.int64)

    def decide(self, songs: SongTable, trace: SessionTrace, rows: np.ndarray, rng: np.random.Generator) -> Decision:
        listener = self.listener
        if getattr(listener, "centres", None) is None:
            state = np.mean(listener.recent, axis=0)
            x = songs.features[rows]
            return Decision(rows, (x @ state) / (np.linalg.norm(x, axis=1) * np.linalg.norm(state) + 1e-12))
        return Decision(rows, listener.utility(rows, songs.features[rows], songs.popularity[rows], songs.artists[rows]))


def baselines() -> list[Policy]:
    """Every baseline, the oracle last."""
    return [RandomPolicy(), PopularPolicy(), GreedyPolicy(), DiversePolicy(), LikedMeanPolicy(),
            LikedMeanPolicy(diverse=True), LinearBandit(thompson=False), LinearBandit(thompson=True),
            KernelBandit(), OraclePolicy()]
