"""The pieces the session uses: rewards, the visible trace, candidates, the agent and its files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from tui_dj.catalog import builtin_catalog
from tui_dj.config import AgentConfig
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent, Replay
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.model_file import agent_state, default_model_path, load_agent, save_agent
from tui_dj.learn.rewards import OUTCOMES, REWARDS, reward_of
from tui_dj.learn.trace import OBS_DIM, SONG_DIM, SessionTrace


@pytest.fixture(scope="module")
def catalog():
    return builtin_catalog(400, seed=3)


def test_rewards_table_orders_the_reactions() -> None:
    assert set(REWARDS) == set(OUTCOMES)
    assert REWARDS["like"] > REWARDS["finish"] > 0 > REWARDS["skip"] > REWARDS["dislike"]
    assert REWARDS["quit"] < 0
    with pytest.raises(ValueError):
        reward_of("meh")


def test_trace_observation_and_taste_follow_reactions(catalog) -> None:
    f = catalog.features
    trace = SessionTrace(prior=f.mean(0))
    empty = trace.observation()
    assert empty.shape == (OBS_DIM,) and empty.dtype == np.float32
    np.testing.assert_allclose(trace.taste(), np.clip(f.mean(0), 0, 1), atol=1e-6)
    trace.record(0, f[0], 1)
    # Playing, no reaction yet: the taste has not moved.
    np.testing.assert_allclose(trace.taste(), np.clip(f.mean(0), 0, 1), atol=1e-6)
    trace.label("like")
    # One like: the taste is that song.
    np.testing.assert_allclose(trace.taste(), f[0], atol=1e-6)
    trace.record(1, f[1], 2, "dislike")
    trace.record(2, f[2], 2, "skip")
    obs = trace.observation()
    assert obs.shape == (OBS_DIM,)
    assert np.all(np.isfinite(obs)) and obs.min() >= 0.0 and obs.max() <= 1.0
    assert trace.skip_streak() == 2
    assert trace.played == [0, 1, 2]
    # The taste leans away from the rejected songs.
    away = trace.taste()
    assert np.linalg.norm(away - f[1]) > np.linalg.norm(f[0] - f[1]) - 1e-6
    copy = trace.copy()
    copy.record(3, f[3], 3, "like")
    assert len(trace) == 3 and len(copy) == 4
    copy.label("finish", at=2)
    assert copy.reactions[2] == "finish" and trace.reactions[2] == "skip"
    np.testing.assert_allclose(trace.observation(), obs)


def test_trace_rejects_unknown_reactions(catalog) -> None:
    trace = SessionTrace()
    with pytest.raises(ValueError):
        trace.record(0, catalog.features[0], 1, "love")
    trace.record(0, catalog.features[0], 1)
    with pytest.raises(ValueError):
        trace.label("love")


def test_song_inputs_mark_artist_repeats_and_distance(catalog) -> None:
    f = catalog.features
    trace = SessionTrace(prior=f.mean(0))
    trace.record(0, f[0], 1, "like")
    inputs = trace.song_inputs(f[[0, 5]], np.array([0.5, 0.2]), np.array([1, 26]))
    assert inputs.shape == (2, SONG_DIM) and inputs.dtype == np.float32
    assert inputs[0, 18] == 1.0 and inputs[1, 18] == 0.0  # its artist was just played
    assert inputs[0, 20] == 1.0 and inputs[1, 20] == 0.0  # ... and liked
    assert inputs[0, 1] == pytest.approx(0.0, abs=1e-6)  # the liked song is the taste itself
    assert inputs[0, 4] == pytest.approx(0.0, abs=1e-3)  # and the nearest liked song
    # More liked music nearby, more like-evidence: the song itself has the most.
    assert inputs[0, 8] > inputs[1, 8]


def test_a_like_raises_the_evidence_around_a_song_and_a_skip_the_other_way(catalog) -> None:
    f = catalog.features
    trace = SessionTrace(prior=f.mean(0))
    near = np.argsort(((f - f[0]) ** 2).sum(1))[:5]  # song 0 and its neighbours
    trace.record(0, f[0], 1)  # playing, no reaction yet
    before = trace.song_inputs(f[near], np.zeros(5), np.arange(5) + 100)
    trace.label("like")
    liked = trace.song_inputs(f[near], np.zeros(5), np.arange(5) + 100)
    trace.label("skip")
    skipped = trace.song_inputs(f[near], np.zeros(5), np.arange(5) + 100)
    for width in range(2):
        like_col, skip_col = 8 + 5 * width, 10 + 5 * width
        assert (liked[:, like_col] > before[:, like_col]).all()
        assert (skipped[:, skip_col] > before[:, skip_col]).all()
        assert (skipped[:, like_col] == before[:, like_col]).all()
    # What does not depend on the reaction (repeats, the song playing) stays the same.
    np.testing.assert_array_equal(before[:, [2, 3, 18, 19, 22]], liked[:, [2, 3, 18, 19, 22]])


@pytest.mark.parametrize("n", [60, 3000, 20000])
def test_candidates_are_distinct_allowed_and_near_first(n: int) -> None:
    f = builtin_catalog(n, seed=1).features if n != 20000 else np.random.default_rng(0).random((n, 9), dtype=np.float32)
    gen = CandidateGenerator(f, k=32)
    rng = np.random.default_rng(0)
    taste = f[7]
    exclude = np.array([7, 8, 9])
    cands = gen.candidates(taste, exclude, rng)
    assert len(cands) == len(set(cands.tolist())) == 32
    assert not set(cands.tolist()) & {7, 8, 9}
    d = np.linalg.norm(f - taste, axis=1)
    d[exclude] = np.inf
    if not gen.clustered:
        # The first candidate is the nearest allowed song.
        assert d[cands[0]] == pytest.approx(d.min(), abs=1e-6)
    else:
        # Big catalogs search the nearest clusters only: close to the best, not always it.
        assert d[cands[0]] <= np.sort(d)[20]


def test_a_kept_index_gives_back_the_regions_and_the_search_afresh() -> None:
    f = np.random.default_rng(2).random((3000, 9), dtype=np.float32)
    built = CandidateGenerator(f, k=32, seed=4)
    kept = CandidateGenerator(f, k=32, seed=4, index=built.index())
    assert "cover" in kept.__dict__  # read from the index, not measured again in a key
    for name in ("rows", "radius", "holds"):
        np.testing.assert_array_equal(getattr(kept.cover, name), getattr(built.cover, name))
    # An index kept before the search was: it is worked out when first needed, the same.
    older = {k: v for k, v in built.index().items() if not k.startswith("cover")}
    np.testing.assert_array_equal(CandidateGenerator(f, k=32, seed=4, index=older).cover.radius, built.cover.radius)

def test_candidates_on_a_tiny_catalog_return_everything_allowed() -> None:
    f = np.random.default_rng(0).random((10, 9), dtype=np.float32)
    cands = CandidateGenerator(f, k=64).candidates(f[0], np.array([0, 1]), np.random.default_rng(0))
    assert sorted(cands.tolist()) == list(range(2, 10))


def _fill(agent: DQNAgent, rows: int, rng: np.random.Generator) -> None:
    for _ in range(rows):
        agent.remember(rng.random(OBS_DIM, dtype=np.float32), rng.random(SONG_DIM, dtype=np.float32),
                       1.0, rng.random(OBS_DIM, dtype=np.float32), rng.random((8, SONG_DIM), dtype=np.float32),
                       True)


@pytest.mark.parametrize("double,dueling", [(False, False), (True, True)])
def test_update_moves_q_toward_the_target(double: bool, dueling: bool) -> None:
    torch.manual_seed(0)
    agent = DQNAgent(AgentConfig(batch_size=16, buffer_size=64, candidates=8, double=double, dueling=dueling, lr=1e-2))
    rng = np.random.default_rng(0)
    assert agent.update() is None  # too few transitions yet
    _fill(agent, 32, rng)
    # Terminal transitions with reward 1: the target is 1 for every one of them.
    first = agent.update(1)
    assert first is not None
    losses = [agent.update(5) for _ in range(20)]
    assert losses[-1] < first * 0.5
    row = agent.replay.sample(1, rng)
    assert abs(agent.q_values(row["obs"][0], row["song"])[0] - 1.0) < 0.3


def test_a_sample_with_newest_always_holds_the_last_row() -> None:
    replay = Replay(64, 8, (SONG_DIM,), np.float16)
    rng = np.random.default_rng(0)
    for i in range(40):
        replay.add(obs=np.full(OBS_DIM, i, np.float32), song=np.zeros(SONG_DIM), reward=float(i),
                   next_obs=np.zeros(OBS_DIM), next_songs=np.zeros((8, SONG_DIM)), done=1.0,
                   mask=np.zeros(8, bool))
    for _ in range(20):
        batch = replay.sample(4, rng, newest=True)
        assert len(batch["reward"]) == 4 and batch["reward"][-1] == 39.0
    assert not all(replay.sample(4, rng)["reward"][-1] == 39.0 for _ in range(20))


def test_learn_online_takes_small_steps_and_waits_for_a_batch() -> None:
    torch.manual_seed(0)
    agent = DQNAgent(AgentConfig(batch_size=16, buffer_size=64, candidates=8, lr=1e-2))
    rng = np.random.default_rng(0)
    assert agent.learn_online(2, 4) is None  # too few transitions yet
    _fill(agent, 32, rng)
    assert agent.learn_online(3, 4) is not None and agent.updates == 3
    assert agent.learn_online(2, 100, newest=False) is not None and agent.updates == 5
    assert agent.learn_online(0, 4) is None and agent.updates == 5


def test_snapshot_and_restore_undo_a_learning_step() -> None:
    agent = DQNAgent(AgentConfig(batch_size=8, buffer_size=16, candidates=8, lr=1e-2))
    rng = np.random.default_rng(0)
    _fill(agent, 20, rng)  # the ring buffer has wrapped
    obs = rng.random(OBS_DIM, dtype=np.float32)
    songs = rng.random((5, SONG_DIM), dtype=np.float32)
    before_q = agent.q_values(obs, songs)
    def replayed() -> dict[str, np.ndarray]:  # what the next batch would hold, the newest row last
        return agent.replay.sample(32, np.random.default_rng(3), newest=True)

    before_rows, updates = replayed(), agent.updates
    snap = agent.snapshot()
    _fill(agent, 1, rng)
    agent.learn_online(3, 8)
    assert not np.allclose(agent.q_values(obs, songs), before_q)
    agent.restore(snap)
    np.testing.assert_array_equal(agent.q_values(obs, songs), before_q)
    assert agent.updates == updates
    for name, array in replayed().items():
        np.testing.assert_array_equal(array, before_rows[name])
    # The optimiser's moments came back too: the same step again gives the same weights.
    _fill(agent, 1, np.random.default_rng(5))
    agent.rng = np.random.default_rng(9)
    agent.learn_online(1, 8)
    once = agent.q_values(obs, songs)
    agent.restore(snap)
    _fill(agent, 1, np.random.default_rng(5))
    agent.rng = np.random.default_rng(9)
    agent.learn_online(1, 8)
    np.testing.assert_array_equal(agent.q_values(obs, songs), once)


def test_per_song_network_learns_from_rows() -> None:
    agent = DQNAgent(AgentConfig(network="per-song", batch_size=8, buffer_size=32, candidates=4, lr=1e-2), n_songs=50)
    rng = np.random.default_rng(0)
    inputs = rng.random((2, SONG_DIM), dtype=np.float32)  # read by the feature network only
    for _ in range(16):
        encoding = agent.encode(np.array([3]), inputs[:1])[0]
        agent.remember(rng.random(OBS_DIM, dtype=np.float32), encoding, 1.0, rng.random(OBS_DIM, dtype=np.float32),
                       agent.encode(np.array([1, 2]), inputs), True)
    first = agent.update(1)
    assert first is not None
    for _ in range(30):
        last = agent.update(5)
    assert last is not None and last < first
    q = agent.q_values(np.zeros(OBS_DIM, np.float32), agent.encode(np.array([3, 4]), inputs))
    assert q.shape == (2,) and q[0] > q[1]  # only song 3 was ever rewarded


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    agent = DQNAgent(AgentConfig(hidden=16, dueling=True), seed=1)
    path = tmp_path / "m.pt"
    save_agent(agent, path, {"catalog": "abc"})
    loaded, meta = load_agent(path)
    assert meta == {"catalog": "abc"}
    assert loaded.config.hidden == 16 and loaded.config.dueling
    obs = np.random.default_rng(0).random(OBS_DIM, dtype=np.float32)
    songs = np.random.default_rng(1).random((5, SONG_DIM), dtype=np.float32)
    np.testing.assert_allclose(agent.q_values(obs, songs), loaded.q_values(obs, songs), rtol=1e-6)
    assert not list(tmp_path.glob(".*.tmp"))


def test_load_refuses_corrupt_pickled_and_foreign_files(tmp_path: Path) -> None:
    good = tmp_path / "good.pt"
    save_agent(DQNAgent(AgentConfig(hidden=16)), good)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(good.read_bytes()[:200])
    with pytest.raises(TuiDjError, match="damaged"):
        load_agent(corrupt)
    crafted = tmp_path / "crafted.pt"

    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": "tui-dj-dqn", "payload": Boom()}, crafted, pickle_module=pickle)
    with pytest.raises(TuiDjError):
        load_agent(crafted)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(TuiDjError, match="not a tui-dj model"):
        load_agent(other)
    with pytest.raises(TuiDjError, match="No model file"):
        load_agent(tmp_path / "missing.pt")


def test_load_refuses_another_shape(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    agent = DQNAgent(AgentConfig(hidden=16))
    state = agent_state(agent)
    state["agent_config"] = state["agent_config"].replace('"hidden": 16', '"hidden": 32')
    state["metadata"] = "{}"
    torch.save(state, path)
    with pytest.raises(TuiDjError, match="another shape"):
        load_agent(path)
    per_song = tmp_path / "p.pt"
    save_agent(DQNAgent(AgentConfig(network="per-song", hidden=8), n_songs=30), per_song)
    with pytest.raises(TuiDjError, match="30 songs"):
        load_agent(per_song, n_songs=40)


def test_default_model_path_is_in_the_package() -> None:
    assert default_model_path().name == "default_model.pt"
    assert default_model_path().parent.name == "assets"


def test_keep_last_forgets_the_oldest_songs() -> None:
    rng = np.random.default_rng(0)
    songs = [(i, rng.random(9).astype(np.float32), i, ("like", "skip", "finish")[i % 3]) for i in range(10)]
    long, short = SessionTrace(), SessionTrace()
    for song in songs:
        long.record(*song)
    long.taste()  # fill the cache, which keep_last must drop
    long.keep_last(3)
    for song in songs[-3:]:
        short.record(*song)
    assert long.played == [7, 8, 9] and len(long) == 3
    np.testing.assert_array_equal(long.taste(), short.taste())
    np.testing.assert_array_equal(long.observation(), short.observation())
