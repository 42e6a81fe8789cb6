"""Issue 16: the DJ learns people who are not the simulator, and never drags them through a run of
rejections. These check the mechanisms; how well it does is measured by `evaluate --panel families`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_dj.catalog import builtin_catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.families import draw
from tui_dj.learn.guard import FORCE_AFTER, SEARCH_REGIONS, STALE_AFTER, guarded_candidates
from tui_dj.learn.simulate import Streams
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import SessionTrace
from tui_dj.session import open_session

CATALOG = builtin_catalog()
SONGS = SongTable.from_catalog(CATALOG)
GENERATOR = CandidateGenerator(SONGS.features, seed=0)
RNG = np.random.default_rng(0)


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
        allowed = guarded_candidates(GENERATOR, trace, np.array([liked, *rejected]), RNG)
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
    assert guarded_candidates(GENERATOR, trace, np.array([1, 2, 3]), RNG) is None


def test_a_cold_start_that_finds_nothing_searches_where_nothing_was_rejected() -> None:
    rejected = _far_from(0, 1) + _far_from(5, 1) + [0, 5]
    trace = _trace(rejected, ["skip", "dislike", "skip", "skip"])
    allowed = guarded_candidates(GENERATOR, trace, np.array(rejected), RNG)
    assert allowed is not None and 1 <= len(allowed) <= SEARCH_REGIONS
    gap = np.sqrt(((SONGS.features[:, None] - SONGS.features[rejected][None]) ** 2).sum(-1)).min(1)
    assert (gap[allowed] > np.quantile(gap, 0.5)).all()  # among the songs least like anything rejected
    regions = [next(j for j, members in enumerate(GENERATOR.regions) if row in members) for row in allowed]
    assert len(set(regions)) == len(allowed)  # one song from each of several regions


def test_when_what_worked_stops_working_the_search_widens_from_it() -> None:
    liked = 10
    rejected = [int(i) for i in np.argsort(((SONGS.features - SONGS.features[liked]) ** 2).sum(1))[1:STALE_AFTER + 1]]
    trace = _trace([liked, *rejected], ["like"] + ["skip"] * STALE_AFTER)
    allowed = guarded_candidates(GENERATOR, trace, np.array([liked, *rejected]), RNG)
    assert allowed is not None and len(allowed) <= SEARCH_REGIONS
    d = np.sqrt(((SONGS.features - SONGS.features[liked]) ** 2).sum(1))
    assert np.median(d[allowed]) < np.median(d)  # outward from the liked song, not far away


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
