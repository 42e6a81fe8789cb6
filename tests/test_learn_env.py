"""The simulated listener, the environment (both reward models) and every baseline through the DJ."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tui_dj.catalog import builtin_catalog
from tui_dj.config import EnvConfig
from tui_dj.learn.baselines import LinearBandit, baselines
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.dj import DJ
from tui_dj.learn.env import DJEnv
from tui_dj.learn.listener import Listener
from tui_dj.learn.policy import DQNPolicy, Policy
from tui_dj.learn.rewards import OUTCOMES
from tui_dj.learn.simulate import Streams, run_session
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import OBS_DIM, SessionTrace


@pytest.fixture(scope="module")
def songs() -> SongTable:
    return SongTable.from_catalog(builtin_catalog(600, seed=2))


@pytest.mark.parametrize("reward", ["listener", "similarity"])
def test_check_env_passes(songs: SongTable, reward: str) -> None:
    env = DJEnv(songs, EnvConfig(reward=reward))
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert obs.shape == (OBS_DIM,)


def test_episodes_end_by_quit_or_after_max_steps(songs: SongTable) -> None:
    env = DJEnv(songs, EnvConfig(max_steps=20))
    rng = np.random.default_rng(0)
    for seed in range(10):
        env.reset(seed=seed)
        for step in range(1, 21):
            _, reward, terminated, truncated, info = env.step(int(rng.integers(len(songs))))
            assert info["outcome"] in OUTCOMES
            if terminated:
                assert info["outcome"] == "quit"
                break
            assert truncated == (step == 20)


def test_same_seed_same_listener(songs: SongTable) -> None:
    env = DJEnv(songs)
    env.reset(seed=5)
    assert env.listener is not None
    first = env.listener.centres.copy()
    env.reset(seed=5)
    np.testing.assert_array_equal(first, env.listener.centres)


def _listener(songs: SongTable, **flags: bool) -> Listener:
    listener = Listener(songs.features, np.random.default_rng(0), EnvConfig(**flags))
    listener.centres[:] = songs.features[0]
    return listener


def test_boredom_grows_with_alike_songs_and_can_be_switched_off(songs: SongTable) -> None:
    f, pop, art = songs.features, songs.popularity, songs.artists
    bored = _listener(songs)
    before = bored.utility(np.array([1]), f[[0]], pop[[0]], art[[0]])[0]
    rng = np.random.default_rng(0)
    for _ in range(4):
        bored.react(0, f[0], float(pop[0]), int(art[0]), rng)
    assert bored.boredom > 0.3
    assert bored.utility(np.array([1]), f[[0]], pop[[0]], art[[0]])[0] < before - 0.3
    calm = _listener(songs, boredom=False)
    for _ in range(4):
        calm.react(0, f[0], float(pop[0]), int(art[0]), rng)
    assert calm.boredom == 0.0


def test_drift_moves_taste_toward_enjoyed_songs(songs: SongTable) -> None:
    listener = _listener(songs, boredom=False)
    listener.threshold = -10.0  # everything is enjoyed
    target = songs.features[1]
    start = np.linalg.norm(listener.centres[0] - target)
    listener.react(1, target, 0.5, 7, np.random.default_rng(0))
    assert np.linalg.norm(listener.centres[0] - target) < start
    fixed = _listener(songs, boredom=False, drift=False)
    fixed.threshold = -10.0
    fixed.react(1, target, 0.5, 7, np.random.default_rng(0))
    np.testing.assert_array_equal(fixed.centres[0], songs.features[0])


def test_patience_runs_out_unless_quitting_is_off(songs: SongTable) -> None:
    rng = np.random.default_rng(0)
    for flag, expect_quit in ((True, True), (False, False)):
        listener = _listener(songs, quit=flag)
        listener.threshold = 10.0  # nothing pleases
        outcomes = [listener.react(i, songs.features[i], 0.1, 7, rng) for i in range(1, 10)]
        assert ("quit" in outcomes) == expect_quit


def _generator(songs: SongTable, k: int = 64) -> CandidateGenerator:
    return CandidateGenerator(songs.features, k=k)


def _mean_return(songs: SongTable, policy: Policy, sessions: int, config: EnvConfig | None = None) -> float:
    gen = _generator(songs)
    return float(np.mean([run_session(songs, policy, gen, config or EnvConfig(), 100 + s).total for s in range(sessions)]))


def _by_name() -> dict[str, Policy]:
    return {p.name: p for p in baselines()}


def test_similarity_reward_reproduces_the_original_numbers(songs: SongTable) -> None:
    config = EnvConfig(reward="similarity")
    random, greedy, best = (_mean_return(songs, _by_name()[n], 30, config) for n in ("random", "greedy", "oracle"))
    assert random < greedy <= 10.0
    assert greedy >= 0.99 * best  # the oracle plays the most similar song every step: the maximum
    assert best > 9.5


@pytest.mark.parametrize("name", ["random", "popular", "greedy", "diverse", "liked-mean", "liked-mean-diverse",
                                  "linucb", "thompson", "oracle"])
def test_every_baseline_plays_valid_unrepeated_songs(songs: SongTable, name: str) -> None:
    result = run_session(songs, _by_name()[name], _generator(songs), EnvConfig(quit=False), 3)
    assert len(result.played) == 20 == len(set(result.played))
    assert all(0 <= i < len(songs) for i in result.played)


def test_oracle_beats_random_on_the_listener(songs: SongTable) -> None:
    assert _mean_return(songs, _by_name()["oracle"], 20) > _mean_return(songs, _by_name()["random"], 20) + 3


def test_dqn_policy_plays_candidates(songs: SongTable) -> None:
    from tui_dj.config import AgentConfig
    from tui_dj.learn.agent import DQNAgent

    policy = DQNPolicy(DQNAgent(AgentConfig(hidden=8, candidates=16)))
    result = run_session(songs, policy, _generator(songs, 16), EnvConfig(), 4)
    assert len(result.played) == len(result.outcomes) and len(set(result.played)) == len(result.played)


def test_the_observation_is_a_function_of_what_a_session_can_see(songs: SongTable) -> None:
    """Two different hidden listeners, the same songs and reactions: the same observation."""
    env = DJEnv(songs)
    env.reset(seed=11)
    rng = np.random.default_rng(0)
    trace = SessionTrace(prior=songs.prior)
    for _ in range(5):
        index = int(rng.integers(len(songs)))
        obs, _, terminated, _, info = env.step(index)
        outcome = "skip" if info["outcome"] == "quit" else info["outcome"]
        trace.record(index, songs.features[index], int(songs.artists[index]), outcome)
        np.testing.assert_array_equal(obs, trace.observation())
        if terminated:
            break


def test_greedy_plays_the_exact_nearest_song_to_the_shown_taste() -> None:
    # 20,000 songs: the candidate generator clusters them, greedy must still search exactly.
    big = SongTable.from_catalog(builtin_catalog(20_000, seed=5))
    streams = Streams.spawn(4)
    dj = DJ(big, _by_name()["greedy"], _generator(big), streams.candidates, policy_rng=streams.policy)
    dj.start()
    for reaction in ("like", "skip", "finish", "like", "dislike", "finish"):
        dj.react(reaction, 0.0)
        assert dj.head is not None
        d = ((big.features - dj.trace.taste()) ** 2).sum(1)
        d[dj.trace.played] = np.inf
        if reaction == "dislike":  # the only reaction that may pick the head again
            assert d[dj.head.row] == d.min()
        dj.advance()
        d = ((big.features - dj.trace.taste()) ** 2).sum(1)
        d[dj.trace.played] = np.inf
        assert dj.head is not None and d[dj.head.row] == d.min()


def test_linear_bandits_learn_what_pays_across_sessions(songs: SongTable) -> None:
    """Rewarded for popularity alone, a bandit soon picks more popular songs than at first."""

    class PaysForPopularity:
        def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
            return "finish", 4.0 * float(songs.popularity[row]) - 2.0

    for thompson in (False, True):
        bandit = LinearBandit(thompson)
        picked: list[float] = []
        for session in range(12):
            streams = Streams.spawn(session)
            dj = DJ(songs, bandit, _generator(songs), streams.candidates, policy_rng=streams.policy)
            dj.start()
            for _ in range(10):
                assert dj.current is not None
                picked.append(float(songs.popularity[dj.current.row]))
                _, reward = PaysForPopularity().hear(songs, dj.current.row, streams.listener)
                dj.react("finish", reward)
                dj.advance()
        assert np.mean(picked[-40:]) > np.mean(picked[:10]) + 0.1
