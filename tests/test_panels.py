"""The listener panels: people who react as their hidden taste says, every baseline through the
session API, the queue rule held, and the panel's figures summed up right."""

from __future__ import annotations

import numpy as np
import pytest

from tui_dj.catalog import FEATURES, builtin_catalog
from tui_dj.learn.simulate import Streams
from tui_dj.learn.songs import SongTable
from tui_dj.panels.personas import EXTREMES, personas
from tui_dj.panels.playlists import PlaylistListener, without
from tui_dj.panels.run import POLICIES, PanelListener, PanelSpec, Result, load, play, summarise

CATALOG = builtin_catalog()
SONGS = SongTable.from_catalog(CATALOG)


def test_personas_sit_at_each_extreme_and_each_genre() -> None:
    people = personas(CATALOG)
    names = [p.name for p in people]
    for feature in EXTREMES:
        assert f"high {feature}" in names and f"low {feature}" in names
    genres = {g.split(", ")[0] for g in CATALOG.tracks["genres"]}
    assert {f"genre {g}" for g in genres} <= set(names)
    for person in people:
        assert np.isclose(((CATALOG.features - person.centre) ** 2).sum(1), 0).any()  # a real song
        if person.name.startswith(("high ", "low ")):
            side, feature = person.name.split()
            value = person.centre[FEATURES.index(feature)]
            share = (CATALOG.features[:, FEATURES.index(feature)] >= value).mean()
            assert share <= 0.1 if side == "high" else share >= 0.9
    assert len({p.seed for p in people}) == len(people)


@pytest.mark.parametrize("name", ["high acousticness", "genre rap"])
def test_a_persona_likes_songs_near_their_taste_and_skips_far_ones(name: str) -> None:
    persona = next(p for p in personas(CATALOG) if p.name == name)
    person = persona.listener(SONGS)
    rng = Streams.spawn(persona.seed).listener
    d = ((CATALOG.features - persona.centre) ** 2 * persona.importance).sum(1)
    order = np.argsort(d)
    near = [person.hear(SONGS, int(i), rng)[0] for i in order[1:31]]
    # Far songs spread over the farthest tenth (not thirty near-duplicates in a row, which bore).
    spread = np.random.default_rng(0).choice(order[-len(order) // 10:], size=30, replace=False)
    far = [person.hear(SONGS, int(i), rng)[0] for i in spread]
    assert near.count("like") >= 15 and near.count("like") + near.count("finish") >= 25
    # Mostly skipped; a day's mood lets the odd one play through; never liked; rarely disliked.
    assert far.count("skip") + far.count("dislike") >= 24 and far.count("like") == 0
    assert far.count("dislike") <= 5
    assert "quit" not in near + far  # panel listeners stay for the whole session


def test_a_playlist_listener_likes_what_sits_among_its_songs() -> None:
    rng = np.random.default_rng(0)
    rows = np.argsort(((CATALOG.features - CATALOG.features[10]) ** 2).sum(1))[:40]
    playlist, held_out = rows[::2], rows[1::2]  # every other song of one neighbourhood
    rest = without(CATALOG, playlist, "without the playlist")
    assert len(rest) == len(CATALOG) - len(playlist)
    assert not set(CATALOG.tracks["track_id"].iloc[playlist]) & set(rest.tracks["track_id"])
    person = PlaylistListener(CATALOG.features[playlist])
    songs = SongTable.from_catalog(CATALOG)
    near = [person.hear(songs, int(i), rng)[0] for i in held_out]
    far_rows = np.argsort(((CATALOG.features - CATALOG.features[10]) ** 2).sum(1))[-20:]
    far = [person.hear(songs, int(i), rng)[0] for i in far_rows]
    assert near.count("like") + near.count("finish") >= 16
    assert far.count("like") == 0 and far.count("finish") == 0


def test_the_oracle_searches_near_every_song_of_a_playlist() -> None:
    from tui_dj.learn.baselines import OraclePolicy
    from tui_dj.learn.trace import SessionTrace

    songs = SongTable.from_catalog(CATALOG)
    playlist = np.array([10, 500, 1500, 2500, 2900])  # more centres than the per-centre search serves
    oracle = OraclePolicy(per_centre=20)
    oracle.begin(PlaylistListener(CATALOG.features[playlist]))
    excluded = np.zeros(len(songs), bool)
    excluded[10] = True
    pool = oracle.candidates(songs, SessionTrace(), excluded, np.random.default_rng(0))
    assert pool is not None and 10 not in pool
    d = ((CATALOG.features[:, None] - CATALOG.features[playlist][None]) ** 2).sum(-1).min(axis=1)
    d[10] = np.inf
    assert set(pool) == set(np.argsort(d)[: len(pool)])  # the songs nearest any of them, none other
    assert {500, 1500, 2500, 2900} <= set(pool)


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_plays_a_panel_listener_through_the_session_api(policy: str) -> None:
    listener = load(PanelSpec("personas"))[0]
    result = play(listener, policy, model=None, songs=12)
    assert len(result.outcomes) == 12
    assert set(result.outcomes) <= {"like", "finish", "skip", "dislike"}
    # The queue rule through the API: the head seen while a song played is the one that followed.
    assert result.changes > 0 and result.followed == result.changes


def test_summaries_take_medians_and_pair_listeners() -> None:
    def result(name: str, policy: str, likes_late: int) -> Result:
        outcomes = ["skip"] * 20 + ["like"] * likes_late + ["finish"] * (40 - likes_late)
        return Result(name, policy, outcomes, followed=9, changes=10)

    results = [result(f"p{i}", "dqn", 20 + 4 * i) for i in range(5)] + \
              [result(f"p{i}", "liked-mean", 10 + 2 * i) for i in range(5)]
    summary = summarise(results, songs=60)
    dqn = summary["policies"]["dqn"]
    assert dqn["like_late"]["median"] == pytest.approx(28 / 40)
    assert dqn["worst_late"] == pytest.approx(0.5) and dqn["worst_listener"] == "p0"
    assert dqn["like_early"]["median"] == 0.0 and dqn["up_next_followed"] == pytest.approx(0.9)
    ratio = summary["policies"]["liked-mean"]["dqn_ratio"]
    assert ratio["median"] == pytest.approx(28 / 14)
    assert ratio["low"] <= ratio["median"] <= ratio["high"]


def test_a_reaction_moves_the_q_values_the_right_way() -> None:
    """With the shipped model, over many reactions: a like raises the rated song's Q and its
    neighbours', a skip or a dislike lowers them (the online update and the new evidence together)."""
    from tui_dj.config import EnvConfig
    from tui_dj.learn.candidates import CandidateGenerator
    from tui_dj.learn.dj import DJ
    from tui_dj.learn.model_file import default_model_path, load_agent
    from tui_dj.learn.simulate import make_listener
    from tui_dj.learn.warm_start import warm_start
    from tui_dj.session.opening import SessionPolicy

    generator = CandidateGenerator(SONGS.features)
    agent = load_agent(default_model_path())[0]
    agent.new_replay(5000)
    warm_start(agent, SONGS, generator, 512, seed=0)
    policy = SessionPolicy(agent)
    moved: dict[str, list[tuple[float, float]]] = {"like": [], "finish": [], "skip": [], "dislike": []}
    for session in range(20):
        streams = Streams.spawn(500 + session)
        person = make_listener(SONGS, EnvConfig(quit=False), streams.listener)
        dj = DJ(SONGS, policy, generator, streams.candidates, policy_rng=streams.policy)
        dj.start()
        for _ in range(30):
            assert dj.current is not None
            row = dj.current.row
            rows = np.argsort(((SONGS.features - SONGS.features[row]) ** 2).sum(1))[:6]  # it and 5 neighbours
            before = policy.decide(SONGS, dj.trace, rows, streams.policy).scores
            reaction, reward = person.hear(SONGS, row, streams.listener)
            dj.react(reaction, reward, rerank=False)
            after = policy.decide(SONGS, dj.trace, rows, streams.policy).scores
            moved[reaction].append((after[0] - before[0], float(np.mean(after[1:] - before[1:]))))
            dj.advance()
    likes, rejects = np.array(moved["like"]), np.array(moved["skip"] + moved["dislike"])
    assert len(likes) >= 100 and len(rejects) >= 50
    # The neighbours are the songs that could play next. The rated song itself cannot (it was
    # just played); after a skip the online step can still raise its Q when the future it leads to
    # looks better than the network thought, so its bar is lower.
    assert (likes[:, 0] > 0).mean() >= 0.9 and (likes[:, 1] > 0).mean() >= 0.9
    assert (rejects[:, 0] < 0).mean() >= 0.65 and (rejects[:, 1] < 0).mean() >= 0.9
    assert likes[:, 1].mean() > 0.05 and rejects[:, 1].mean() < -0.05


def test_panel_listeners_load_once_and_in_order() -> None:
    first = load(PanelSpec("personas"))
    assert load(PanelSpec("personas")) is first
    assert all(isinstance(p, PanelListener) for p in first)
    assert len(first) == 12 + len({g.split(", ")[0] for g in CATALOG.tracks["genres"]})


def test_evaluate_panel_prints_an_80_column_table_and_writes_json_only_when_asked(tmp_path) -> None:
    import json

    from tests.clirun import run_cli

    out = tmp_path / "panel.json"
    code, stdout, stderr = run_cli("evaluate", "--panel", "personas", "--builtin", "--listeners", "2", "--songs", "12",
                                   "--policies", "dqn,liked-mean", "--json", out, columns=80)
    assert code == 0, stderr
    assert "personas: 2 listeners × 12 songs" in stdout
    assert all(len(line) <= 80 for line in stdout.splitlines())
    rows = {line.split("│")[1].strip() for line in stdout.splitlines() if line.startswith("│")}
    assert rows == {"dqn", "liked-mean"}
    summary = json.loads(out.read_text())
    assert set(summary["policies"]) == {"dqn", "liked-mean"} and summary["songs"] == 12
    assert summary["policies"]["dqn"]["listeners"] == 2


@pytest.mark.parametrize(("args", "says"), [
    (["--panel", "friends"], "--panel is personas or playlists, not 'friends'."),
    (["--panel", "playlists"], "--panel playlists needs --playlists"),
    (["--panel", "personas", "--policies", "dqn,magic"], "Unknown policy 'magic'"),
])
def test_evaluate_panel_refuses_bad_options_in_one_sentence(args: list[str], says: str) -> None:
    from tests.clirun import run_cli

    code, _, stderr = run_cli("evaluate", "--builtin", *args)
    assert code != 0 and says in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
