"""The listener families: each family's habit is what its docstring says, and every person draws
from the random stream given to them, nothing else."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_dj.catalog import builtin_catalog
from tui_dj.learn.baselines import OraclePolicy, nearest
from tui_dj.learn.families import FAMILIES, Habit, draw, scored_on
from tui_dj.learn.songs import SongTable
from tui_dj.learn.stats import longest_run
from tui_dj.learn.tastes import MoodTaste, first_sorted, last_sorted


@pytest.fixture(scope="module")
def songs() -> SongTable:
    return SongTable.from_catalog(builtin_catalog(n=2000, seed=3))


def _reactions(name: str, songs: SongTable, people: int = 6, each: int = 150) -> tuple[Counter[str], list[tuple[bool, str]]]:
    """Reactions of `people` persons of a family to random distinct songs, and (loved, reaction) pairs."""
    counts: Counter[str] = Counter()
    pairs = []
    for seed in range(people):
        rng = np.random.default_rng(seed)
        person = draw(name, songs, rng)
        for row in rng.choice(len(songs), size=each, replace=False):
            loved = person.loves(int(row))
            outcome, _ = person.hear(songs, int(row), rng)
            counts[outcome] += 1
            pairs.append((loved, outcome))
    return counts, pairs


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_reacts_with_the_four_reactions_and_never_walks_away(name: str, songs: SongTable) -> None:
    counts, pairs = _reactions(name, songs, people=3, each=80)
    assert set(counts) <= {"like", "finish", "skip", "dislike"}
    assert counts["skip"] > 0
    assert any(loved for loved, _ in pairs), "some songs of a catalog are loved"
    assert scored_on(name) in ("like", "loved")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_same_stream_same_person_same_reactions(name: str, songs: SongTable) -> None:
    def session(seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        person = draw(name, songs, rng)
        rows = np.random.default_rng(99).choice(len(songs), size=60, replace=False)
        return [person.hear(songs, int(r), rng)[0] for r in rows]

    assert session(5) == session(5)
    assert any(session(5) != session(s) for s in (6, 7, 8))


def test_implicit_never_likes_or_dislikes_and_lets_play_a_quarter(songs: SongTable) -> None:
    counts, _ = _reactions("implicit", songs)
    assert counts["like"] == 0 and counts["dislike"] == 0
    assert 0.15 < counts["finish"] / sum(counts.values()) < 0.35


def test_skip_heavy_never_lets_a_song_play(songs: SongTable) -> None:
    counts, _ = _reactions("skip-heavy", songs)
    assert counts["finish"] == 0
    assert counts["like"] > 0
    assert counts["skip"] / sum(counts.values()) > 0.8


def test_dislike_heavy_dislikes_about_a_third_of_the_catalog(songs: SongTable) -> None:
    counts, _ = _reactions("dislike-heavy", songs)
    assert 0.27 < counts["dislike"] / sum(counts.values()) < 0.4


def test_everyday_families_like_a_few_percent_and_dislike_rarely(songs: SongTable) -> None:
    for name in ("thresholds", "radius", "two-tastes"):
        counts, _ = _reactions(name, songs)
        total = sum(counts.values())
        assert 0.02 < counts["like"] / total < 0.09, name
        assert counts["dislike"] / total < 0.05, name


def test_lazy_presses_like_on_few_loved_songs_and_never_dislikes(songs: SongTable) -> None:
    counts, pairs = _reactions("lazy", songs, people=10)
    loved = [outcome for is_loved, outcome in pairs if is_loved]
    assert len(loved) > 20
    assert 0 < loved.count("like") / len(loved) < 0.4
    assert counts["dislike"] == 0
    assert scored_on("lazy") == "loved" and scored_on("implicit") == "loved"


def test_a_loved_song_is_the_best_share_of_the_catalog(songs: SongTable) -> None:
    person = draw("radius", songs, np.random.default_rng(1))
    share = np.mean([person.loves(r) for r in range(len(songs))])
    assert 0.03 < share < 0.07


def test_the_mood_turns_mid_session(songs: SongTable) -> None:
    person = draw("mood", songs, np.random.default_rng(4))
    taste = person.taste  # type: ignore[attr-defined]
    assert isinstance(taste, MoodTaste) and 15 <= taste.switch <= 40
    rng = np.random.default_rng(0)
    before = {r for r in range(len(songs)) if person.loves(r)}
    for row in rng.choice(len(songs), size=taste.switch, replace=False):
        person.hear(songs, int(row), rng)
    after = {r for r in range(len(songs)) if person.loves(r)}
    assert len(before & after) < 0.5 * len(before)


def test_two_tastes_are_far_apart(songs: SongTable) -> None:
    for seed in range(5):
        centres = draw("two-tastes", songs, np.random.default_rng(seed)).centres
        assert centres.shape == (2, 9)
        assert ((centres[0] - centres[1]) ** 2).sum() > 0.05


def test_a_real_playlist_taste_loves_the_songs_beside_the_playlist(songs: SongTable) -> None:
    rows = nearest(songs, songs.features[10], 15, np.zeros(0, np.int64))
    person = draw("skip-heavy", songs, np.random.default_rng(0), playlist=songs.features[rows])
    assert np.mean([person.loves(int(r)) for r in rows]) > 0.9


def test_the_oracle_finds_loved_songs_through_centres_and_utility(songs: SongTable) -> None:
    from tui_dj.learn.trace import SessionTrace

    for name in ("thresholds", "two-tastes", "implicit"):
        person = draw(name, songs, np.random.default_rng(2))
        oracle = OraclePolicy()
        oracle.begin(person)
        trace = SessionTrace(prior=songs.prior)
        rng = np.random.default_rng(0)
        rows = oracle.candidates(songs, trace, np.zeros(0, np.int64), rng)
        assert rows is not None
        best = oracle.decide(songs, trace, rows, rng)
        pick = int(best.rows[int(np.argmax(best.scores))])
        assert person.loves(pick), name


def test_a_habit_lowers_a_like_to_what_the_person_does() -> None:
    assert Habit().lower("like") == "finish"
    assert Habit(finish_share=0.0).lower("like") == "skip"
    assert Habit().lower("finish") == "skip"
    assert Habit().lower("dislike") == "dislike"


@pytest.mark.parametrize(("outcomes", "anywhere", "after"), [
    ([], 0, 0),
    (["skip", "skip", "dislike", "like", "skip", "finish"], 3, 1),
    (["like", "skip", "dislike", "skip", "finish", "skip", "skip"], 3, 3),
    (["skip"] * 7, 7, 0),  # never liked or let play: no run after the first
    (["dislike", "finish", "skip", "skip", "skip", "skip", "like", "dislike"], 4, 4),
])
def test_the_longest_run_of_rejections(outcomes: list[str], anywhere: int, after: int) -> None:
    assert longest_run(outcomes) == anywhere
    assert longest_run(outcomes, after_first_good=True) == after


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(-3, 3), min_size=1, max_size=60), m=st.integers(1, 70))
def test_the_best_songs_of_a_taste_are_the_rows_a_full_stable_sort_gives(values: list[int], m: int) -> None:
    # Drawing a person on 232,725 songs picks the best 60 or 2,327 without sorting them all; the
    # rows and their order (ties by row, as a stable sort) must be the full sort's, or a trained
    # model would change with the speed-up. Few distinct values: ties at the cut every time.
    v = np.asarray(values, np.float32) / 2
    full = np.argsort(v, kind="stable")
    assert first_sorted(v, m).tolist() == full[:m].tolist()
    assert last_sorted(v, m).tolist() == full[-m:].tolist()
