"""The UI-free session: one call per thing a person does, the queue rule, undo, dislikes, profiles."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.faults import Exploit
from tui_dj import open_session
from tui_dj.catalog import FEATURES, builtin_catalog, save_catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent
from tui_dj.learn.dj import DJ
from tui_dj.learn.model_file import load_agent, save_agent
from tui_dj.session import QRow, QueueEntry, Session, SessionStats, SessionView
from tui_dj.store import HistoryStore

SMALL = builtin_catalog(500)


def _open(tmp_path: Path, **kwargs: object) -> Session:
    kwargs.setdefault("catalog", SMALL)
    kwargs.setdefault("seed", 1)
    return open_session(data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def _readme_python_example() -> str:
    """The Python block under "## Python API" in README.md, exactly as a reader sees it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_example_works_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUI_DJ_DATA_DIR", str(tmp_path / "platform-data"))
    save_catalog(builtin_catalog(400), tmp_path / "data" / "processed")
    save_agent(DQNAgent(seed=3), tmp_path / "models" / "dqn.pt", {"note": "test model"})
    example = _readme_python_example()
    assert "open_session(catalog=\"data/processed\"" in example
    scope: dict[str, object] = {}
    exec(compile(example, "README", "exec"), scope)
    view = scope["view"]
    assert isinstance(view, SessionView)
    assert view.now_playing is not None and set(view.now_playing.features) == set(FEATURES)
    assert (tmp_path / "platform-data" / "history.sqlite3").exists()


def test_the_documented_api(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        assert s.current is None and s.profile == "ana" and s.read_only is False
        view = s.start()
        track = view.now_playing
        assert track is not None and s.current == track and view.play_number == 1 and view.reaction is None
        assert s.start().now_playing == track  # starting twice changes nothing
        view = s.react("like")
        assert view.reaction == "like" and view.now_playing == track  # a liked song plays on
        assert view.learned is not None and view.learned.reward == 1.0 and view.learned.update_ms > 0
        assert set(s.taste) == set(FEATURES)
        assert len(view.taste) == 9 and all(0 <= row.scaled <= 1 for row in view.taste)
        assert len(view.queue) == 15 and all(isinstance(e, QueueEntry) for e in view.queue)
        assert track not in [e.track for e in view.queue]
        assert all(isinstance(r, QRow) for r in view.q_rows)
        assert [r.q for r in view.q_rows] == sorted((r.q for r in view.q_rows), reverse=True)
        head = view.queue[0].track
        view = s.react("skip")  # after a like: just the next song, the like stands
        assert view.now_playing == head and view.learned is None
        view = s.react("skip")
        assert view.learned is not None and view.learned.reaction == "skip"
        assert any(r.delta is not None for r in view.q_rows)
        stats = view.stats
        assert isinstance(stats, SessionStats)
        assert (stats.plays, stats.likes, stats.skips) == (3, 1, 1)
        assert stats.total_reward == pytest.approx(0.75) and stats.recent_rewards == (1.0, -0.25)
        assert [e.kind for e in s.history(10)] == ["play", "skip", "play", "like", "play"]
        view = s.song_finished(view.play_number)
        assert view.stats.finishes == 1 and view.play_number == 4
        assert s.song_finished(3).play_number == 4  # the late end of an earlier song does nothing
        hits = s.search(track.name.split()[0], 5)
        assert hits and all(track.name.split()[0].lower() in (h.name + h.artist + h.album).lower() for h in hits)
        view = s.enqueue(hits[0].track_id)
        assert view.queue[0] == QueueEntry(hits[0], "chosen")
        assert s.react("skip").now_playing == hits[0]
        assert s.play(7).now_playing is not None and s.current.row == 7  # type: ignore[union-attr]
        with pytest.raises(TuiDjError, match="like, skip or dislike"):
            s.react("love")
        with pytest.raises(TuiDjError):
            s.enqueue("no-such-id")


def test_a_like_moves_the_taste_toward_the_song(tmp_path: Path) -> None:
    with _open(tmp_path) as s:
        track = s.start().now_playing
        assert track is not None
        before = np.array([row.scaled for row in s.view().taste])
        after = np.array([row.scaled for row in s.react("like").taste])
        song = SMALL.features[track.row]
        assert np.linalg.norm(after - song) < np.linalg.norm(before - song)


def test_up_next_is_what_plays_next(tmp_path: Path) -> None:
    """The head of "Up next" while a song plays is the song that follows it, whatever the
    reaction, a dislike included (issue 17: a dislike used to replace it)."""
    rng = np.random.default_rng(0)
    with _open(tmp_path) as s:
        view = s.start()
        for _ in range(120):
            head = view.queue[0].track
            reaction = str(rng.choice(["skip", "dislike", "end", "like-then-end", "like-then-skip"]))
            if reaction.startswith("like-then"):
                view = s.react("like")
                assert view.queue[0].track == head  # a like never moves the head
                view = s.song_finished(view.play_number) if reaction.endswith("end") else s.react("skip")
            elif reaction == "end":
                view = s.song_finished(view.play_number)
            else:
                view = s.react(reaction)
            assert view.now_playing == head, reaction


def test_dislike_never_plays_again_and_likes_come_back_later(tmp_path: Path) -> None:
    catalog = builtin_catalog(120, seed=5)
    disliked: set[str] = set()
    plays: list[str] = []
    with open_session(catalog=catalog, profile="ana", data_dir=tmp_path, seed=2) as s:
        view = s.start()
        for i in range(150):
            track = view.now_playing
            assert track is not None and track.track_id not in disliked
            plays.append(track.track_id)
            if i < 10:
                disliked.add(track.track_id)
                view = s.react("dislike")
            else:
                s.react("like")
                view = s.react("skip")
    # Nothing returns within 50 plays; liked songs do come back after that.
    for i, tid in enumerate(plays):
        assert tid not in plays[max(0, i - 50):i]
    assert len(set(plays)) < len(plays)
    with open_session(catalog=catalog, profile="ana", data_dir=tmp_path, seed=3) as s:
        view = s.start()
        for _ in range(60):
            assert view.now_playing is not None and view.now_playing.track_id not in disliked
            assert not disliked & {e.track.track_id for e in view.queue}
            view = s.song_finished()
    # Another profile is free to hear them.
    with open_session(catalog=catalog, profile="bob", data_dir=tmp_path, seed=2) as s:
        heard = {s.start().now_playing.track_id}  # type: ignore[union-attr]
        for _ in range(100):
            heard.add(s.song_finished().now_playing.track_id)  # type: ignore[union-attr]
    assert heard & disliked


def _weights(s: Session, folder: Path) -> dict[str, torch.Tensor]:
    """The profile's network as saved (the public way to read it)."""
    assert s.save()
    agent, _ = load_agent(folder / "profiles" / s.profile / "model.pt")
    return agent.online.state_dict()


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_undo_takes_back_history_taste_and_network(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        assert s.undo().message == "Nothing to undo."
        view = s.start()
        probe = view.queue[3].track
        score, taste, weights = s.score(probe.row), view.taste, _weights(s, tmp_path)
        s.react("like")
        assert s.score(probe.row) != score and not _same(weights, _weights(s, tmp_path))
        view = s.undo()
        assert view.message is not None and "like" in view.message
        assert _same(weights, _weights(s, tmp_path))
        assert s.score(probe.row) == score  # the same network in the same state
        assert view.taste == taste and view.reaction is None and view.stats.likes == 0
        # A dislike moved on; its undo takes back the reaction, not the song change.
        disliked = view.now_playing
        view = s.react("dislike")
        playing, stats = view.now_playing, view.stats
        view = s.undo()
        assert view.now_playing == playing != disliked
        assert view.stats.dislikes == 0 and view.stats.plays == stats.plays
        assert [e.kind for e in s.history(10)] == ["play", "play"]
        # No longer disliked: it may be chosen again.
        assert s.play(disliked.row).now_playing == disliked  # type: ignore[union-attr]
        s.song_finished()
        assert [e.kind for e in s.history(3)] == ["play", "finish", "play"]
        playing = s.view().now_playing
        assert playing is not None
        with pytest.warns(DeprecationWarning, match=r"Track.index is deprecated .* use Track.row"):
            assert playing.index == playing.row == s.catalog.index_of(playing.track_id)
    with HistoryStore.open(tmp_path) as store:
        rows = [(e.kind, e.reverted) for e in store.events("ana", 50, include_reverted=True)]
    assert ("dislike", "undo") in rows and ("like", "undo") in rows and ("undo", None) in rows


def test_a_dislike_after_a_like_replaces_it(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        s.start()
        weights = _weights(s, tmp_path)
        s.react("like")
        view = s.react("dislike")
        assert view.stats.likes == 0 and view.stats.dislikes == 1
        assert [e.kind for e in s.history(5)] == ["play", "dislike", "play"]
        s.undo()
        assert _same(weights, _weights(s, tmp_path))
        assert s.undo().message == "Nothing to undo."
    with HistoryStore.open(tmp_path) as store:
        rows = [(e.kind, e.reverted) for e in store.events("ana", 50, include_reverted=True) if e.kind == "like"]
    assert rows == [("like", "replaced")]


def test_a_dislike_ranks_the_songs_once_when_the_next_song_starts(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ranked: list[bool] = []
    rank = DJ._rank
    monkeypatch.setattr(DJ, "_rank", lambda dj, keep_head: (ranked.append(keep_head), rank(dj, keep_head))[1])
    with _open(tmp_path, profile="ana") as s:
        s.start()
        s.react("like")
        ranked.clear()
        head = s.view().queue[0].track
        view = s.react("dislike")  # replaces the like, and the head plays
        assert ranked == [False] and view.now_playing == head
        ranked.clear()
        s.react("dislike")
        assert ranked == [False]
        assert [e.kind for e in s.history(5)] == ["play", "dislike", "play", "dislike", "play"]


def test_a_catalog_that_runs_out_says_so_once_and_recovers(tmp_path: Path) -> None:
    catalog = builtin_catalog(2, seed=1)
    with open_session(catalog=catalog, profile="ana", data_dir=tmp_path, seed=0) as s:
        first = s.start().now_playing
        view = s.react("dislike")
        second = view.now_playing
        assert second is not None and second != first and view.message is None
        view = s.react("dislike")
        assert view.now_playing is None and view.out_of_songs
        assert [e.kind for e in s.history(4)] == ["dislike", "play", "dislike", "play"]  # nothing played after
        assert view.message is not None and "undo" in view.message and "forgive" in view.message
        assert s.song_finished().message is None  # said once: nothing more happens
        view = s.undo()  # the last dislike is taken back: that song plays again
        assert view.now_playing == second and not view.out_of_songs
        view = s.react("dislike")
        assert view.out_of_songs
        view = s.forgive(first.track_id)  # type: ignore[union-attr]
        assert view.now_playing == first and "may play again" in (view.message or "")


def test_reopen_continues_the_profile_and_profiles_do_not_share(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        s.start()
        for _ in range(5):
            s.react("like")
            view = s.react("skip")
        taste = view.taste
    model = tmp_path / "profiles" / "ana" / "model.pt"
    assert model.is_file()
    _, meta = load_agent(model)
    assert meta["profile"] == "ana" and meta["reactions"] == 5
    with _open(tmp_path, profile="ana") as s:
        assert s.model_source == str(model)
        assert s.view().taste == taste  # the latest reactions shape the taste again
        assert len([e for e in s.history(50) if e.kind == "like"]) == 5
    with _open(tmp_path, profile="bob") as s:
        assert s.model_source != str(model)
        assert s.history(50) == []


def test_two_sessions_on_one_profile(tmp_path: Path) -> None:
    first = _open(tmp_path, profile="ana")
    try:
        with pytest.raises(TuiDjError, match="open in another tui-dj"):
            _open(tmp_path, profile="ana", on_locked="refuse")
        second = _open(tmp_path, profile="ana")
        assert second.read_only and second.notice and "read-only" in second.notice
        second.start()
        view = second.react("like")
        assert view.read_only and view.learned is not None and not view.learned.saved
        second.close()
        first.start()
        first.react("skip")
    finally:
        first.close()
    with HistoryStore.open(tmp_path) as store:
        assert [e.kind for e in store.events("ana")] == ["play", "skip", "play"]
        assert store.integrity() == "ok"
    load_agent(tmp_path / "profiles" / "ana" / "model.pt")
    with _open(tmp_path, profile="ana") as third:
        assert not third.read_only


@pytest.mark.parametrize("name", ["../../etc", "a/b", "a\x00b", "x" * 300, ".."])
def test_unsafe_profile_names_write_nothing(tmp_path: Path, name: str) -> None:
    base = tmp_path / "data"
    with pytest.raises(TuiDjError, match="Profile name"):
        open_session(catalog=SMALL, profile=name, data_dir=base)
    assert not base.exists() and list(tmp_path.iterdir()) == []


def test_bad_catalog_and_model_files(tmp_path: Path) -> None:
    (tmp_path / "notacatalog").mkdir()
    with pytest.raises(TuiDjError, match="not a tui-dj catalog"):
        open_session(catalog=tmp_path / "notacatalog", data_dir=tmp_path)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(os.urandom(2000))
    with pytest.raises(TuiDjError, match="not a tui-dj model or is damaged"):
        _open(tmp_path, model=corrupt)
    # A network of another shape: the file says 128 hidden units but holds 32.
    good = tmp_path / "good.pt"
    save_agent(DQNAgent(), good)
    state = torch.load(good, weights_only=True)
    from tui_dj.config import AgentConfig

    state["online"] = DQNAgent(config=AgentConfig(hidden=32)).online.state_dict()
    other = tmp_path / "other.pt"
    torch.save(state, other)
    with pytest.raises(TuiDjError, match="another shape"):
        _open(tmp_path, model=other)
    # None of the refusals kept the profile: the next session opens it for writing.
    with _open(tmp_path) as s:
        assert not s.read_only


def test_concurrent_calls_are_serialised(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with _open(tmp_path) as s:
        s.start()

        def worker() -> None:
            try:
                for i in range(15):
                    s.react("dislike" if i % 2 else "skip")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                for _ in range(200):
                    view = s.view()
                    assert len(view.queue) == len({e.track.track_id for e in view.queue})
                    _ = s.taste, s.stats
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=worker), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert s.stats.plays == 16 and s.stats.dislikes + s.stats.skips == 15
        assert len(s.history(100)) == 31



def test_a_crafted_pickle_model_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.pt"
    torch.save({"format": "tui-dj-dqn", "online": Exploit(marker)}, crafted)
    with pytest.raises(TuiDjError, match="not a tui-dj model or is damaged"):
        _open(tmp_path / "data", model=crafted)
    assert not marker.exists()
    # The profile is free again for a good model.
    with _open(tmp_path / "data") as s:
        assert not s.read_only


def test_the_names_of_0_1_still_work_and_name_their_successors(tmp_path: Path) -> None:
    with _open(tmp_path) as s:
        with pytest.warns(DeprecationWarning, match=r"use start\(\)"):
            first = s.next_track()
        assert first is not None and first == s.view().now_playing
        with pytest.warns(DeprecationWarning, match=r"use react\("):
            learned = s.feedback("skip")
        assert learned is not None and (learned.reaction, learned.track) == ("skip", first)
        with pytest.warns(DeprecationWarning):
            second = s.next_track()  # the skip already started it: not one more song
        assert second == s.view().now_playing and second != first and s.view().play_number == 2
        with pytest.warns(DeprecationWarning):
            s.feedback("like")
        with pytest.warns(DeprecationWarning):
            assert s.next_track() != second  # after a like, next_track moves on as before
        kinds = [(e.kind, e.name) for e in s.history(10) if e.kind != "play"]
        assert kinds[:2] == [("like", second.name), ("skip", first.name)]
        with pytest.warns(DeprecationWarning, match=r"view.queue\[0\] is what plays next"):
            assert s.react("dislike").replaced is None


def test_the_names_of_0_2_still_work_and_name_their_successors(tmp_path: Path) -> None:
    with _open(tmp_path) as s:
        view = s.start()
        with pytest.warns(DeprecationWarning, match=r"Session.song_ended\(\) is deprecated .* use song_finished\(\)"):
            after = s.song_ended(view.play_number)
        assert after.play_number == view.play_number + 1  # the song finished and the next one started
        assert after.learned is not None and after.learned.reaction == "finish"
        with pytest.warns(DeprecationWarning):
            assert s.song_ended(view.play_number).play_number == after.play_number  # a late one: nothing
        assert [e.kind for e in s.history(3)] == ["play", "finish", "play"]
        playing = s.view().now_playing
        assert playing is not None
        with pytest.warns(DeprecationWarning, match=r"Track.index is deprecated .* use Track.row"):
            assert playing.index == playing.row == s.catalog.index_of(playing.track_id)


def test_a_reaction_says_it_is_on_disk_once_its_call_returns(tmp_path: Path) -> None:
    with _open(tmp_path) as s:
        s.start()
        view = s.react("skip")
        assert view.learned is not None and view.learned.saved
        with HistoryStore.open(tmp_path, read_only=True) as other:  # another reader sees both at once
            assert [e.kind for e in other.events("default", 2)] == ["play", "skip"]


def test_up_next_shows_no_song_played_this_session_while_unplayed_ones_remain(tmp_path: Path) -> None:
    """Issue 17: in a 7-song catalog, Up next held songs already played. A played song may come
    back only once every song has played."""
    catalog = builtin_catalog(7, seed=3)
    with open_session(catalog=catalog, data_dir=tmp_path, seed=1) as s:
        view = s.start()
        played: set[str] = set()
        for _ in range(6):
            assert view.now_playing is not None
            played.add(view.now_playing.track_id)
            queue = [e.track.track_id for e in view.queue]
            assert queue and not played & set(queue)
            assert len(queue) == 7 - len(played)  # every song not yet played, and only those
            view = s.react("skip")
