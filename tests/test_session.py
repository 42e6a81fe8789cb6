"""The UI-free session: the README example, learning from feedback, undo, dislikes, profiles."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tui_dj import open_session
from tui_dj.catalog import FEATURES, builtin_catalog, save_catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent, load_agent
from tui_dj.session import Feedback, QRow, Session, SessionStats
from tui_dj.store import HistoryStore

SMALL = builtin_catalog(500)


def _open(tmp_path: Path, **kwargs: object) -> Session:
    kwargs.setdefault("catalog", SMALL)
    kwargs.setdefault("seed", 1)
    return open_session(data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def _weights(session: Session) -> list[torch.Tensor]:
    return [p.detach().clone() for p in session._agent.online.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _readme_python_example() -> str:
    """The Python block under "## Python API" in README.md, exactly as a reader sees it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_example_works_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUI_DJ_DATA_DIR", str(tmp_path / "platform-data"))
    save_catalog(builtin_catalog(400), tmp_path / "data" / "processed")
    DQNAgent(seed=3).save(tmp_path / "models" / "dqn.pt", {"note": "test model"})
    example = _readme_python_example()
    assert "open_session(catalog=\"data/processed\"" in example
    scope: dict[str, object] = {}
    exec(compile(example, "README", "exec"), scope)
    track = scope["track"]
    assert {"track_id", "name", "artist", "genres", "duration_ms"} <= set(dir(track))
    assert set(track.features) == set(FEATURES)  # type: ignore[attr-defined]
    assert (tmp_path / "platform-data" / "history.sqlite3").exists()
    with open_session(catalog="data/processed", profile="ana", data_dir="/tmp/x", seed=7) as again:
        assert again.history(5)[0].kind in {"like", "play", "finish", "skip", "dislike"}


def test_the_documented_api(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        assert s.current is None and s.profile == "ana" and s.read_only is False
        track = s.next_track()
        assert s.current == track
        fb = s.feedback("like")
        assert isinstance(fb, Feedback) and fb.event == "like" and fb.reward == 1.0 and fb.track == track
        assert fb.update_ms > 0
        assert set(s.taste) == set(FEATURES)
        assert len(s.taste_scaled) == 9 and all(0 <= v <= 1 for v in s.taste_scaled)
        queue = s.queue(10)
        assert len(queue) == 10 and track not in queue
        table = s.q_table(10)
        assert len(table) == 10 and all(isinstance(r, QRow) for r in table)
        assert [r.q for r in table] == sorted((r.q for r in table), reverse=True)
        s.next_track()
        s.feedback("skip")
        assert any(r.delta is not None for r in s.q_table(10))
        stats = s.stats
        assert isinstance(stats, SessionStats)
        assert (stats.plays, stats.likes, stats.skips) == (2, 1, 1)
        assert stats.total_reward == pytest.approx(0.75) and stats.recent_rewards == (1.0, -0.25)
        kinds = [e.kind for e in s.history(10)]
        assert kinds == ["skip", "play", "like", "play"]
        hits = s.search(track.name.split()[0], 5)
        assert hits and all(track.name.split()[0].lower() in (h.name + h.artist + h.album).lower() for h in hits)
        chosen = s.enqueue(hits[0].track_id)
        assert s.queue(1)[0] == chosen
        assert s.next_track() == chosen
        played = s.play(7)
        assert played.index == 7 and s.current == played
        with pytest.raises(TuiDjError):
            s.feedback("love")
        with pytest.raises(TuiDjError):
            s.enqueue("no-such-id")


def test_feedback_moves_taste_toward_a_liked_song(tmp_path: Path) -> None:
    with _open(tmp_path) as s:
        track = s.next_track()
        before = np.array(s.taste_scaled)
        s.feedback("like")
        after = np.array(s.taste_scaled)
        song = SMALL.features[track.index]
        assert np.linalg.norm(after - song) < np.linalg.norm(before - song)


def _play_listener(session: Session, n: int, likes_it: Callable[[dict[str, float]], bool]) -> list[bool]:
    likes = []
    for _ in range(n):
        track = session.next_track()
        like = likes_it(track.features)
        session.feedback("like" if like else "skip")
        likes.append(like)
    return likes


LISTENERS: dict[str, Callable[[dict[str, float]], bool]] = {
    # The listener: 40 % of the catalog qualifies, so a trained model finds it within a few
    # songs and the first 20 are already mostly liked.
    "energy above 0.7": lambda f: f["energy"] > 0.7,
    # A minority taste (14 % of the catalog, far from the average song) shows the learning curve.
    "acousticness above 0.7": lambda f: f["acousticness"] > 0.7,
}


@pytest.mark.parametrize("taste", list(LISTENERS))
def test_scripted_listener_learns(tmp_path: Path, taste: str) -> None:
    """A listener with a hidden taste likes what matches it and skips the rest, 60 songs, 4 times."""
    likes_it = LISTENERS[taste]
    catalog = builtin_catalog(3000)
    matches = np.array([likes_it(dict(zip(FEATURES, row, strict=True))) for row in catalog.raw_features()])
    rng = np.random.default_rng(0)
    random_rate = float(np.mean([matches[rng.choice(len(catalog), 20, replace=False)].mean() for _ in range(200)]))
    first, last = [], []
    for seed in range(4):
        with open_session(catalog=catalog, profile=f"listener{seed}", data_dir=tmp_path, seed=seed) as s:
            likes = _play_listener(s, 60, likes_it)
        first.append(float(np.mean(likes[:20])))
        last.append(float(np.mean(likes[-20:])))
        print(f"{taste}, listener {seed}: like rate first 20 {first[-1]:.2f}, last 20 {last[-1]:.2f}")
    print(f"{taste}: mean like rate first 20 {np.mean(first):.2f}, last 20 {np.mean(last):.2f}, "
          f"random picks {random_rate:.2f} (model: {Path(s.model_source).name})")
    assert np.mean(last) >= random_rate + 0.3
    assert np.mean(last) >= np.mean(first)
    if random_rate < 0.2:
        # Where the first songs cannot already be right, the last 20 are clearly better.
        assert np.mean(last) >= np.mean(first) + 0.25


def test_dislike_never_plays_again_and_likes_come_back_later(tmp_path: Path) -> None:
    catalog = builtin_catalog(120, seed=5)
    disliked: set[str] = set()
    plays: list[str] = []
    with open_session(catalog=catalog, profile="ana", data_dir=tmp_path, seed=2) as s:
        for i in range(150):
            track = s.next_track()
            plays.append(track.track_id)
            assert track.track_id not in disliked
            if i < 10:
                s.feedback("dislike")
                disliked.add(track.track_id)
            else:
                s.feedback("like")
    # Nothing returns within 50 plays; liked songs do come back after that.
    for i, tid in enumerate(plays):
        assert tid not in plays[max(0, i - 50):i]
    assert len(set(plays)) < len(plays)
    with open_session(catalog=catalog, profile="ana", data_dir=tmp_path, seed=3) as s:
        for _ in range(60):
            assert s.next_track().track_id not in disliked
            assert not disliked & {t.track_id for t in s.queue(20)}
            s.feedback("finish")
    # Another profile is free to hear them.
    with open_session(catalog=catalog, profile="bob", data_dir=tmp_path, seed=2) as s:
        heard = set()
        for _ in range(100):
            heard.add(s.next_track().track_id)
            s.feedback("finish")
    assert heard & disliked


def test_undo_reverts_history_trace_and_weights(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        assert s.undo() is None
        s.next_track()
        s.feedback("like")
        track = s.next_track()
        weights, taste, stats = _weights(s), s.taste_scaled, s.stats
        queue_before = [t.track_id for t in s.queue(5)]
        fb = s.feedback("dislike")
        assert not _same(weights, _weights(s))
        undone = s.undo()
        assert undone == fb
        assert _same(weights, _weights(s))
        assert s.taste_scaled == taste
        assert s.stats.likes == stats.likes and s.stats.dislikes == 0 and s.stats.total_reward == stats.total_reward
        assert [e.kind for e in s.history(10)] == ["play", "like", "play"]
        assert track.index not in s._disliked
        assert len(queue_before) == 5
        # The current song may be rated again after an undo.
        s.feedback("finish")
        assert [e.kind for e in s.history(2)] == ["finish", "play"]
    with HistoryStore.open(tmp_path) as store:
        rows = store._conn.execute("SELECT kind, reverted FROM events ORDER BY id").fetchall()
    assert ("dislike", "undo") in rows and ("undo", None) in rows


def test_a_second_rating_replaces_the_first(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        s.next_track()
        weights = _weights(s)
        s.feedback("like")
        s.feedback("dislike")
        assert s.stats.likes == 0 and s.stats.dislikes == 1
        assert [e.kind for e in s.history(5)] == ["dislike", "play"]
        assert s.undo() is not None
        assert _same(weights, _weights(s))
        assert s.undo() is None
    with HistoryStore.open(tmp_path) as store:
        rows = store._conn.execute("SELECT kind, reverted FROM events WHERE kind = 'like'").fetchall()
    assert rows == [("like", "replaced")]


def test_reopen_continues_the_profile_and_profiles_do_not_share(tmp_path: Path) -> None:
    with _open(tmp_path, profile="ana") as s:
        for _ in range(5):
            s.next_track()
            s.feedback("like")
        learned = _weights(s)
        taste = s.taste_scaled
    model = tmp_path / "profiles" / "ana" / "model.pt"
    assert model.is_file()
    agent, meta = load_agent(model)
    assert meta["profile"] == "ana" and meta["feedback_count"] == 5
    with _open(tmp_path, profile="ana") as s:
        assert s.model_source == str(model)
        assert _same(learned, _weights(s))
        assert np.allclose(s.taste_scaled, taste)
        assert len([e for e in s.history(50) if e.kind == "like"]) == 5
    with _open(tmp_path, profile="bob") as s:
        assert not _same(learned, _weights(s))
        assert s.history(50) == []


def test_two_sessions_on_one_profile(tmp_path: Path) -> None:
    first = _open(tmp_path, profile="ana")
    try:
        with pytest.raises(TuiDjError, match="open in another tui-dj"):
            _open(tmp_path, profile="ana", on_locked="refuse")
        second = _open(tmp_path, profile="ana")
        assert second.read_only and second.notice and "read-only" in second.notice
        second.next_track()
        second.feedback("like")
        second.close()
        first.next_track()
        first.feedback("skip")
    finally:
        first.close()
    with HistoryStore.open(tmp_path) as store:
        assert [e.kind for e in store.events("ana")] == ["skip", "play"]
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
    DQNAgent().save(good)
    state = torch.load(good, weights_only=True)
    state["online"] = DQNAgent(config=_config(hidden=32)).online.state_dict()
    other = tmp_path / "other.pt"
    torch.save(state, other)
    with pytest.raises(TuiDjError, match="another shape"):
        _open(tmp_path, model=other)
    assert not (tmp_path / "profiles" / "default" / "lock").exists() or _open(tmp_path).close() is None


def _config(**values: object) -> object:
    from tui_dj.config import AgentConfig

    return AgentConfig(**values)  # type: ignore[arg-type]


def test_concurrent_calls_are_serialised(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with _open(tmp_path) as s:
        s.next_track()

        def worker() -> None:
            try:
                for i in range(15):
                    s.feedback("like" if i % 2 else "skip")
                    s.next_track()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                for _ in range(200):
                    s.queue(10)
                    s.q_table(10)
                    _ = s.taste, s.stats
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=worker), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert s.stats.plays == 16 and s.stats.likes + s.stats.skips == 15
        assert len(s.history(100)) == 31


class _Exploit:
    """Unpickling this would run code: it must never happen when a model file is opened."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_pickle_model_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.pt"
    torch.save({"format": "tui-dj-dqn", "online": _Exploit(marker)}, crafted)
    with pytest.raises(TuiDjError, match="not a tui-dj model or is damaged"):
        _open(tmp_path / "data", model=crafted)
    assert not marker.exists()
    # The profile is free again for a good model.
    with _open(tmp_path / "data") as s:
        assert not s.read_only
