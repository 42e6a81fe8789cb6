"""The simulated listener, the environment (both reward models) and every baseline through the DJ."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tui_dj.catalog import builtin_catalog
from tui_dj.config import EnvConfig
from tui_dj.learn.baselines import KernelBandit, LinearBandit, baselines
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.dj import DJ
from tui_dj.learn.env import DJEnv
from tui_dj.learn.listener import Habits, Listener
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
    """A person whose one taste centre is song 0."""
    return Listener(songs.features[0], np.ones(9), 0.35, 0.1, Habits(patience=5.0), EnvConfig(**flags)).calibrate(songs)


def test_a_listener_likes_what_is_near_their_taste_and_skips_what_is_far(songs: SongTable) -> None:
    person = _listener(songs, boredom=False, drift=False, quit=False)
    d = np.linalg.norm(songs.features - songs.features[0], axis=1)
    order = np.argsort(d)
    rng = np.random.default_rng(0)
    near = [person.hear_features(int(i), songs.features[i], 0.45, 1000 + k, rng) for k, i in enumerate(order[1:21])]
    far = [person.hear_features(int(i), songs.features[i], 0.45, 2000 + k, rng) for k, i in enumerate(order[-20:])]
    assert near.count("like") >= 12 and near.count("skip") + near.count("dislike") <= 2
    assert far.count("skip") + far.count("dislike") == 20
    assert far.count("dislike") <= 10  # dislikes are the rare ones
    # Picky by share: about 5% of the catalog above the like bar, a fifth more heard to the end.
    fit = person.appeal(songs.features) + person.popularity_weight * (songs.popularity - 0.45)
    assert abs((fit > person.like_bar).mean() - 0.05) < 0.01
    assert abs((fit > person.finish_bar).mean() - 0.25) < 0.01


def test_the_population_spreads_tastes_over_niche_sounds_too(songs: SongTable) -> None:
    """Drawn tastes land in crowded and sparse parts of the catalog alike, not by song count."""
    catalog = builtin_catalog()
    table = SongTable.from_catalog(catalog)
    genres = catalog.tracks["genres"].to_numpy()
    rng = np.random.default_rng(0)
    drawn = [genres[np.argmin(((table.features - Listener.draw(table, rng).centres[0]) ** 2).sum(1))]
             for _ in range(400)]
    share = {g: drawn.count(g) / len(drawn) for g in ("pop", "classical", "ambient", "comedy")}
    catalog_share = {g: float((genres == g).mean()) for g in share}
    assert share["pop"] < catalog_share["pop"]
    assert all(share[g] > catalog_share[g] for g in ("classical", "ambient", "comedy")), (share, catalog_share)


def test_boredom_grows_with_alike_songs_and_can_be_switched_off(songs: SongTable) -> None:
    f, pop, art = songs.features, songs.popularity, songs.artists
    bored = _listener(songs)
    before = bored.utility(np.array([1]), f[[0]], pop[[0]], art[[0]])[0]
    rng = np.random.default_rng(0)
    for _ in range(4):
        bored.hear_features(0, f[0], float(pop[0]), int(art[0]), rng)
    assert bored.boredom > 0.3
    assert bored.utility(np.array([1]), f[[0]], pop[[0]], art[[0]])[0] < before - 0.3
    calm = _listener(songs, boredom=False)
    for _ in range(4):
        calm.hear_features(0, f[0], float(pop[0]), int(art[0]), rng)
    assert calm.boredom == 0.0


def test_boredom_comes_from_near_repeats_and_artists_not_from_staying_in_a_taste(songs: SongTable) -> None:
    """Ten different songs of one taste, by ten artists, bore no one; the same sound again does."""
    f = songs.features
    d = np.linalg.norm(f - f[0], axis=1)
    order = np.argsort(d)
    # Songs of the same taste, but each more than a near-repeat away from the others.
    varied: list[int] = []
    for i in order[1:]:
        if d[i] > 0.5:
            break
        if all(np.linalg.norm(f[i] - f[j]) > 0.15 for j in varied):
            varied.append(int(i))
    assert len(varied) >= 6
    person = _listener(songs, drift=False, quit=False)
    rng = np.random.default_rng(0)
    for k, i in enumerate(varied[:6]):
        person.hear_features(i, f[i], 0.45, 5000 + k, rng)
    assert person.boredom < 0.1
    same = _listener(songs, drift=False, quit=False)
    for k in range(6):  # one sound, one artist, again and again
        same.hear_features(10_000 + k, f[0] + 0.01, 0.45, 7, rng)
    assert same.boredom > 0.5


def test_drift_moves_taste_toward_enjoyed_songs(songs: SongTable) -> None:
    listener = _listener(songs, boredom=False)
    listener.finish_bar = -10.0  # everything is enjoyed
    target = songs.features[1]
    start = np.linalg.norm(listener.centres[0] - target)
    listener.hear_features(1, target, 0.5, 7, np.random.default_rng(0))
    assert np.linalg.norm(listener.centres[0] - target) < start
    fixed = _listener(songs, boredom=False, drift=False)
    fixed.finish_bar = -10.0
    fixed.hear_features(1, target, 0.5, 7, np.random.default_rng(0))
    np.testing.assert_array_equal(fixed.centres[0], songs.features[0])


def test_patience_runs_out_unless_quitting_is_off(songs: SongTable) -> None:
    rng = np.random.default_rng(0)
    for flag, expect_quit in ((True, True), (False, False)):
        listener = _listener(songs, quit=flag)
        listener.like_bar = listener.finish_bar = 10.0  # nothing pleases
        outcomes = [listener.hear_features(i, songs.features[i], 0.1, 7, rng) for i in range(1, 10)]
        assert ("quit" in outcomes) == expect_quit
        if flag:  # patience 5: a skip costs 1, a dislike 1.5
            assert 2 <= outcomes.index("quit") <= 4


def test_a_random_policy_finds_the_hidden_taste_no_more_often_than_chance(songs: SongTable) -> None:
    """The policy's and the listener's random streams are apart: random's picks land among the songs
    nearest a hidden taste centre as often as picks drawn with no session at all."""
    from tui_dj.learn.simulate import make_listener

    config = EnvConfig(quit=False, max_steps=20)
    near_hits = chance_hits = 0
    sessions = 150
    for seed in range(sessions):
        result = run_session(songs, _by_name()["random"], _generator(songs), config, 10_000 + seed)
        listener = make_listener(songs, config, Streams.spawn(10_000 + seed).listener)
        d = ((songs.features[:, None] - listener.centres[None]) ** 2).sum(-1).min(1)
        nearest = set(np.argsort(d)[:20].tolist())
        near_hits += bool(nearest & set(result.played))
        chance = np.random.default_rng(seed).choice(len(songs), size=20, replace=False)
        chance_hits += bool(nearest & set(chance.tolist()))
    # Expected about 1 - (1 - 20/600)^20 = 49% either way; the leak gave 99%.
    assert near_hits <= chance_hits + 0.1 * sessions, (near_hits, chance_hits)


def _generator(songs: SongTable, k: int = 64) -> CandidateGenerator:
    return CandidateGenerator(songs.features, k=k)


def _mean_return(songs: SongTable, policy: Policy, sessions: int, config: EnvConfig | None = None) -> float:
    gen = _generator(songs)
    return float(np.mean([run_session(songs, policy, gen, config or EnvConfig(), 100 + s).total for s in range(sessions)]))


def _by_name() -> dict[str, Policy]:
    return {p.name: p for p in baselines()}


def test_similarity_reward_reproduces_the_original_numbers(songs: SongTable) -> None:
    config = EnvConfig(reward="similarity", max_steps=20)  # the original design's sessions
    random, greedy, best = (_mean_return(songs, _by_name()[n], 30, config) for n in ("random", "greedy", "oracle"))
    assert random < greedy <= 10.0
    # The oracle plays the song most similar to the mean of the last five every step: the maximum.
    # Greedy plays the nearest to the taste vector (the last eight songs): within 2% of it.
    assert greedy >= 0.98 * best
    assert best > 9.5


@pytest.mark.parametrize("name", ["random", "popular", "greedy", "diverse", "liked-mean", "liked-mean-diverse",
                                  "linucb", "thompson", "gp-ucb", "oracle"])
def test_every_baseline_plays_valid_unrepeated_songs(songs: SongTable, name: str) -> None:
    result = run_session(songs, _by_name()[name], _generator(songs), EnvConfig(quit=False, max_steps=20), 3)
    assert len(result.played) == 20 == len(set(result.played))
    assert all(0 <= i < len(songs) for i in result.played)


def test_oracle_beats_random_on_the_listener(songs: SongTable) -> None:
    assert _mean_return(songs, _by_name()["oracle"], 20) > _mean_return(songs, _by_name()["random"], 20) + 3


def test_dqn_policy_plays_candidates(songs: SongTable) -> None:
    from tui_dj.config import AgentConfig
    from tui_dj.learn.agent import DQNAgent
    from tui_dj.learn.dj import NO_REPEAT

    policy = DQNPolicy(DQNAgent(AgentConfig(hidden=8, candidates=16)))
    result = run_session(songs, policy, _generator(songs, 16), EnvConfig(), 4)
    assert len(result.played) == len(result.outcomes)
    for i, row in enumerate(result.played):  # nothing comes back within the no-repeat window
        assert row not in result.played[max(0, i - NO_REPEAT):i]


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
        dj.learn(reaction, 0.0)
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
                dj.learn("finish", reward)
                dj.advance()
        assert np.mean(picked[-40:]) > np.mean(picked[:10]) + 0.1


def test_the_kernel_bandit_goes_toward_likes_and_away_from_skips(songs: SongTable) -> None:
    """Liked songs in one place and skipped ones in another: its best song is near the likes;
    with only skips heard, it looks where nothing was heard yet, not beside them."""
    bandit, rng = KernelBandit(), np.random.default_rng(0)
    x = songs.features
    order = np.argsort(x[:, 2])  # along energy: the calmest songs, the most energetic ones
    liked, skipped = order[:4], order[-4:]
    trace = SessionTrace()
    for row in np.concatenate([skipped, liked]):
        trace.record(int(row), x[row], 10_000 + int(row), "like" if row in liked else "skip")
    rows = bandit.candidates(songs, trace, np.asarray(trace.played), rng)
    assert len(rows) == len(songs) - 8 and not np.isin(rows, trace.played).any()
    best = int(rows[np.argmax(bandit.decide(songs, trace, rows, rng).scores)])
    to = lambda group: float(np.sqrt(((x[group] - x[best]) ** 2).sum(1)).min())  # noqa: E731
    assert to(liked) < to(skipped)

    only_skips = SessionTrace()
    for row in skipped:
        only_skips.record(int(row), x[row], 10_000 + int(row), "skip")
    scores = bandit.decide(songs, only_skips, rows, rng).scores
    gap = np.sqrt(((x[rows][:, None] - x[skipped][None]) ** 2).sum(-1)).min(1)
    near = np.argsort(gap)[:20]  # the songs beside the skipped ones
    assert scores[near].max() < np.median(scores)


def test_the_kernel_bandit_holds_back_the_last_artists(songs: SongTable) -> None:
    bandit, rng = KernelBandit(), np.random.default_rng(0)
    trace = SessionTrace()
    trace.record(0, songs.features[0], int(songs.artists[0]), "like")
    rows = bandit.candidates(songs, trace, np.array([0]), rng)
    scores = bandit.decide(songs, trace, rows, rng).scores
    same_artist = songs.artists[rows] == songs.artists[0]
    if same_artist.any():
        assert scores[same_artist].max() < scores[~same_artist].max()
    assert int(rows[np.argmax(scores)]) != 0 and not same_artist[np.argmax(scores)]


def test_the_kernel_bandit_samples_a_large_catalog(songs: SongTable) -> None:
    """Past `FULL_SCAN` songs it scores a sample and the songs nearest the last good ones."""
    bandit, rng = KernelBandit(), np.random.default_rng(1)
    bandit.full_scan, bandit.SAMPLE = 100, 200  # the test catalog: 600 songs
    trace = SessionTrace()
    trace.record(5, songs.features[5], int(songs.artists[5]), "finish")
    rows = bandit.candidates(songs, trace, np.array([5]), rng)
    d = np.sqrt(((songs.features - songs.features[5]) ** 2).sum(1))
    d[5] = np.inf
    assert 200 <= len(rows) <= 264 and 5 not in rows
    assert set(np.argsort(d)[:10]) <= set(rows.tolist())
