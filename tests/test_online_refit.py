"""The online update's person layer (learn/online.py): weights on a song's own features that
training leaves at zero and the refit learns from one person, held until their first song liked or
let play; saved with the profile, left alone by the frozen ablation."""

from __future__ import annotations

import numpy as np

from tui_dj import open_session
from tui_dj.catalog import FEATURES, builtin_catalog
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.dj import DJ
from tui_dj.learn.model_file import default_model_path, load_playing
from tui_dj.learn.online import person_inputs, with_person_inputs
from tui_dj.learn.simulate import Streams
from tui_dj.learn.songs import SongTable
from tui_dj.session.opening import SessionPolicy

CATALOG = builtin_catalog()
SONGS = SongTable.from_catalog(CATALOG)
ENERGY = FEATURES.index("energy")


def test_a_trained_model_has_no_taste_of_its_own() -> None:
    """The shipped model's person weights are zero: the person inputs change no Q."""
    agent = load_playing(default_model_path())[0]
    assert agent is not None and not agent.person().any()
    rows = np.arange(40)
    inputs = np.random.default_rng(0).random((40, 23)).astype(np.float32)
    obs = np.random.default_rng(1).random(24).astype(np.float32)
    plain = agent.q_values(obs, inputs)
    assert np.allclose(agent.q_values(obs, with_person_inputs(inputs, SONGS, rows)), plain)
    weights = agent.output()
    weights[agent.config.hidden + ENERGY] = 1.0  # a taste for energy
    agent.set_output(weights)
    moved = agent.q_values(obs, with_person_inputs(inputs, SONGS, rows)) - plain
    assert np.allclose(moved, person_inputs(SONGS, rows)[:, ENERGY], atol=1e-5)


def _energetic_person_session(likes_from: int) -> tuple[SessionPolicy, list[np.ndarray]]:
    """A person who likes only the most energetic songs (energy in the catalog's top 15%), skips
    the rest, and until song `likes_from` rejects everything; the person weights after each song."""
    agent = load_playing(default_model_path())[0]
    policy = SessionPolicy(agent)
    bar = np.quantile(SONGS.features[:, ENERGY], 0.85)
    streams = Streams.spawn(7)
    dj = DJ(SONGS, policy, CandidateGenerator(SONGS.features), streams.candidates, policy_rng=streams.policy)
    dj.start()
    after = []
    for i in range(40):
        assert dj.current is not None
        liked = i >= likes_from and SONGS.features[dj.current.row, ENERGY] >= bar
        dj.learn("like" if liked else "skip", 1.0 if liked else -0.25, rerank=False)
        after.append(agent.person())
        dj.advance()
    return policy, after


def test_the_person_layer_waits_for_a_first_like_then_learns_the_taste_as_a_slope() -> None:
    policy, after = _energetic_person_session(likes_from=6)
    labels = policy.refit.samples  # type: ignore[union-attr]
    first_like = next(i for i, s in enumerate(labels) if s.reward > 0)
    assert first_like >= 6
    assert all(not w.any() for w in after[:first_like])  # rejections alone move no person weight
    assert after[first_like].any()
    # What the person layer adds to each song of the catalog, heard or not: more for energetic
    # songs (the features are correlated, so no one weight is "the energy one"; measured: a
    # correlation of 0.53 with energy, and the loved songs' mean 0.84 standard deviations above
    # the rest's).
    gain = person_inputs(SONGS, np.arange(len(SONGS))) @ after[-1]
    energy = SONGS.features[:, ENERGY]
    loved = energy >= np.quantile(energy, 0.85)
    assert np.corrcoef(gain, energy)[0, 1] > 0.3
    assert gain[loved].mean() - gain[~loved].mean() > 0.4 * gain.std()


def test_the_frozen_ablation_keeps_the_person_weights_and_a_profile_saves_them(tmp_path) -> None:
    def person_after(online: bool, data: str) -> np.ndarray:
        with open_session(catalog=CATALOG, profile="p", data_dir=tmp_path / data, seed=3,
                          online_update=online) as session:
            session.start()
            for reaction in ("like", "skip", "like", "dislike", "like"):
                session.react(reaction)
            assert session.save()
            return session._dj.policy.agent.person()  # type: ignore[attr-defined]

    assert not person_after(False, "frozen").any()
    learned = person_after(True, "online")
    assert learned.any()
    with open_session(catalog=CATALOG, profile="p", data_dir=tmp_path / "online", seed=3) as session:
        assert np.allclose(session._dj.policy.agent.person(), learned)  # type: ignore[attr-defined]
