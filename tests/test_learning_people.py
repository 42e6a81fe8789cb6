"""Issue 16: the DJ learns people who are not the simulator, and never drags them through a run of
rejections. These check the mechanisms; how well it does is measured by `evaluate --panel families`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tui_dj.catalog import builtin_catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.families import draw
from tui_dj.learn.guard import FORCE_AFTER, SEARCH_OFFERS, STALE_AFTER, guarded_candidates
from tui_dj.learn.simulate import Streams
from tui_dj.learn.songs import SongTable
from tui_dj.learn.tastes import ThresholdTaste
from tui_dj.learn.trace import SessionTrace
from tui_dj.session import open_session

CATALOG = builtin_catalog()
SONGS = SongTable.from_catalog(CATALOG)
GENERATOR = CandidateGenerator(SONGS.features, seed=0)


def _trace(rows: list[int], reactions: list[str]) -> SessionTrace:
    trace = SessionTrace(prior=SONGS.prior)
    for row, reaction in zip(rows, reactions, strict=True):
        trace.record(row, SONGS.features[row], int(SONGS.artists[row]), reaction)
    return trace


def _far_from(row: int, count: int) -> list[int]:
    d = np.sqrt(((SONGS.features - SONGS.features[row]) ** 2).sum(1))
    return [int(i) for i in np.argsort(-d)[:count]]


def test_after_a_rejection_only_songs_near_what_worked_may_play() -> None:
    liked = 10
    for run in range(1, STALE_AFTER):
        rejected = _far_from(liked, run)
        trace = _trace([liked, *rejected], ["like"] + ["skip"] * run)
        allowed = guarded_candidates(GENERATOR, trace, np.array([liked, *rejected]))
        assert allowed is not None and len(allowed)
        x = SONGS.features[allowed]
        to_liked = np.sqrt(((x - SONGS.features[liked]) ** 2).sum(1))
        to_rejected = np.sqrt(((x[:, None] - SONGS.features[rejected][None]) ** 2).sum(-1)).min(1)
        assert (to_liked < to_rejected).all()
        assert (to_liked < np.median(np.sqrt(((SONGS.features - SONGS.features[liked]) ** 2).sum(1)))).all()
        if run >= FORCE_AFTER:
            assert len(allowed) <= 2  # the two nearest ways back of the one liked song


def test_nothing_narrows_while_things_go_well() -> None:
    trace = _trace([1, 2, 3], ["like", "finish", "like"])
    assert guarded_candidates(GENERATOR, trace, np.array([1, 2, 3])) is None


def _first_like(pick: Callable[[np.ndarray, np.ndarray], int], liked: np.ndarray, limit: int = 60) -> int:
    """How many songs `pick(rejected features, blocked mask)` plays before one of the `liked` ones
    (a mask over the catalog: a taste it never sees), every other song rejected; `limit` + 1: none."""
    f = SONGS.features
    blocked = np.zeros(len(f), bool)
    rejected: list[np.ndarray] = []
    for step in range(1, limit + 1):
        row = pick(np.array(rejected, np.float32).reshape(-1, f.shape[1]), blocked)
        if liked[row]:
            return step
        blocked[row] = True
        rejected.append(f[row])
    return limit + 1


def _ball(centre: int) -> np.ndarray:
    """The best 5% of a taste that is the songs nearest `centre`."""
    d = np.sqrt(((SONGS.features - SONGS.features[centre]) ** 2).sum(1))
    return d <= np.quantile(d, 0.05)


def _corner(rng: np.random.Generator) -> np.ndarray:
    """The best 5% of a taste that is rules on two or three features (`ThresholdTaste`)."""
    appeal = ThresholdTaste.draw(SONGS, rng).appeal(SONGS.features, SONGS.popularity)
    return appeal >= np.quantile(appeal, 0.95)


@pytest.mark.parametrize("shape", ["ball", "corner"])
def test_a_search_afresh_finds_a_hidden_taste_sooner_than_random_picks(shape: str) -> None:
    rng = np.random.default_rng(7)
    tastes = [_ball(int(c)) for c in rng.choice(len(SONGS.features), 30, replace=False)] if shape == "ball" \
        else [_corner(rng) for _ in range(30)]
    searched = np.array([_first_like(lambda rej, blocked: int(GENERATOR.cover.search(rej, blocked, 1)[0]), t)
                         for t in tastes])
    draws = np.random.default_rng(1)
    drawn = np.array([_first_like(lambda rej, blocked: int(draws.choice(np.flatnonzero(~blocked))), t)
                      for t in tastes])
    # Sooner in the median (a ball's shape is what the search knows best), and far more surely:
    # at most half as many tastes left unfound after 15 songs.
    sooner = 0.6 if shape == "ball" else 1.0
    assert np.median(searched) <= sooner * np.median(drawn), (np.median(searched), np.median(drawn))
    assert (searched > 15).sum() <= (drawn > 15).sum() / 2, ((searched > 15).sum(), (drawn > 15).sum())


def test_a_cold_start_that_finds_nothing_searches_afresh() -> None:
    rejected = _far_from(0, 1) + _far_from(5, 1) + [0, 5]
    trace = _trace(rejected, ["skip", "dislike", "skip", "skip"])
    allowed = guarded_candidates(GENERATOR, trace, np.array(rejected))
    assert allowed is not None and 1 <= len(allowed) <= SEARCH_OFFERS and not np.isin(allowed, rejected).any()
    blocked = np.zeros(len(SONGS.features), bool)
    blocked[rejected] = True
    np.testing.assert_array_equal(allowed, GENERATOR.cover.search(SONGS.features[rejected], blocked, SEARCH_OFFERS))


def test_a_long_run_after_a_like_alternates_the_heart_of_the_taste_and_a_search_afresh() -> None:
    liked = 10
    near = np.argsort(((SONGS.features - SONGS.features[liked]) ** 2).sum(1))
    d = np.sqrt(((SONGS.features - SONGS.features[liked]) ** 2).sum(1))
    for run in (STALE_AFTER, STALE_AFTER + 1):
        rejected = [int(i) for i in near[1:run + 1]]
        trace = _trace([liked, *rejected], ["like"] + ["skip"] * run)
        allowed = guarded_candidates(GENERATOR, trace, np.array([liked, *rejected]))
        assert allowed is not None and 1 <= len(allowed) and not np.isin(allowed, [liked, *rejected]).any()
        if run == STALE_AFTER:  # the heart of what worked: near the taste, nearer it than any rejection
            taste = trace.taste()
            x = SONGS.features[allowed]
            to_taste = np.sqrt(((x - taste) ** 2).sum(1))
            to_rejected = np.sqrt(((x[:, None] - SONGS.features[rejected][None]) ** 2).sum(-1)).min(1)
            assert (to_taste < to_rejected).all() and np.median(d[allowed]) < np.quantile(d, 0.05)
        else:  # a search afresh, where the rejections leave a taste likely
            assert len(allowed) <= SEARCH_OFFERS
            blocked = np.zeros(len(SONGS.features), bool)
            blocked[[liked, *rejected]] = True
            np.testing.assert_array_equal(
                allowed, GENERATOR.cover.search(SONGS.features[rejected], blocked, SEARCH_OFFERS))

def _play(listener, session, songs: int) -> list[str]:
    view = session.start()
    out = []
    rng = np.random.default_rng(1)
    for _ in range(songs):
        assert view.now_playing is not None
        outcome, _ = listener.hear(SONGS, view.now_playing.row, rng)
        out.append(outcome)
        view = session.song_finished(view.play_number) if outcome in ("finish", "like") else session.react(outcome)
    return out


@pytest.mark.parametrize("seed", [3, 4])
def test_skips_and_songs_let_play_alone_move_the_dj_toward_the_taste(tmp_path: Path, seed: int) -> None:
    """A person who never presses like or dislike: the taste the DJ shows moves toward theirs."""
    person = draw("implicit", SONGS, Streams.spawn(seed).listener)
    centres = np.asarray(person.centres)

    def gap(taste: np.ndarray) -> float:  # to the nearest of the person's favourite sounds
        return float(np.sqrt(((centres - taste) ** 2).sum(1)).min())

    with open_session(catalog=CATALOG, data_dir=tmp_path, seed=seed) as session:
        before = np.array([row.scaled for row in session.view().taste])
        outcomes = _play(person, session, 30)
        after = np.array([row.scaled for row in session.view().taste])
    assert set(outcomes) <= {"finish", "skip"} and "finish" in outcomes
    assert gap(after) < gap(before)


def test_start_near_a_genre_plays_its_song_and_counts_as_taste(tmp_path: Path) -> None:
    genre = CATALOG.tracks["genres"].iloc[0].split(", ")[0]
    with open_session(catalog=CATALOG, data_dir=tmp_path, seed=0) as session:
        view = session.start(near=genre.upper())
        assert view.now_playing is not None and genre in view.now_playing.genres
        song = CATALOG.features[view.now_playing.row]
        taste = np.array([row.scaled for row in view.taste])
        assert np.linalg.norm(taste - song) < np.linalg.norm(SONGS.prior - song)
        assert "choose" in [event.kind for event in session.history(5)]


def test_start_near_nothing_is_one_sentence(tmp_path: Path) -> None:
    with open_session(catalog=CATALOG, data_dir=tmp_path, seed=0) as session:
        with pytest.raises(TuiDjError, match="Nothing in this catalog"):
            session.start(near="zzqx no such thing")


def test_a_song_chosen_from_search_moves_the_taste_before_any_reaction(tmp_path: Path) -> None:
    with open_session(catalog=CATALOG, data_dir=tmp_path, seed=0) as session:
        session.start()
        before = np.array([row.scaled for row in session.view().taste])
        far = _far_from(int(np.argmin(((SONGS.features - before) ** 2).sum(1))), 1)[0]
        view = session.play(far)
        after = np.array([row.scaled for row in view.taste])
    song = SONGS.features[far]
    assert np.linalg.norm(after - song) < np.linalg.norm(before - song)
