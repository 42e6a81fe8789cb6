"""The listening history, the profile lock and the export: written as it happens, never corrupt."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from tui_dj.catalog import Track, builtin_catalog
from tui_dj.errors import TuiDjError
from tui_dj.store import HistoryStore, ProfileLock, profile_paths
from tui_dj.store.export import EXPORTIFY_HEADER, export_liked, neutralise


def _track(i: int = 0, **changes: object) -> Track:
    from dataclasses import replace

    return replace(builtin_catalog(50).track(i), **changes)  # type: ignore[arg-type]


def _add(store: HistoryStore, kind: str, track: Track, profile: str = "ana", session: str = "s1") -> str:
    uid, ok = store.add_event(profile=profile, session=session, kind=kind, track=track, reward=1.0)
    assert ok
    return uid


def test_events_are_committed_as_they_happen(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path)
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL
    _add(store, "play", _track(0))
    # A second connection (another process would do the same) sees the row without any close.
    other = sqlite3.connect(tmp_path / "history.sqlite3")
    assert other.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    other.close()
    store.close()


def test_writes_together_are_one_commit_at_the_end(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path) as store:
        other = sqlite3.connect(tmp_path / "history.sqlite3")
        with store.together():
            assert store.add_event(profile="ana", session="s1", kind="skip", track=_track(0), reward=-0.25)[1] is False
            store.add_event(profile="ana", session="s1", kind="play", track=_track(1), reward=None)
            assert other.execute("SELECT count(*) FROM events").fetchone()[0] == 0  # nothing yet
            assert store.pending > 0
        assert store.pending == 0
        assert other.execute("SELECT kind FROM events ORDER BY id").fetchall() == [("skip",), ("play",)]
        other.close()


def test_values_are_parameters_not_sql(tmp_path: Path) -> None:
    nasty = "x'); DROP TABLE events; --"
    with HistoryStore.open(tmp_path) as store:
        _add(store, "like", _track(1, name=nasty, artist='"; DELETE FROM tracks; --'), profile="ana")
        events = store.events("ana")
        assert events[0].name == nasty
        assert store.count() == 1
        assert store.integrity() == "ok"


def test_revert_hides_the_event_but_keeps_the_row(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path) as store:
        t = _track(2)
        _add(store, "play", t)
        uid = _add(store, "dislike", t)
        assert store.disliked("ana") == {t.track_id}
        store.revert(uid, "undo")
        assert store.disliked("ana") == set()
        assert [e.kind for e in store.events("ana")] == ["play"]
        assert store.count("ana", include_reverted=True) == 2


def test_liked_follows_the_latest_rating(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path) as store:
        a, b = _track(3), _track(4)
        _add(store, "like", a)
        _add(store, "like", b)
        _add(store, "dislike", b)
        _add(store, "like", a, profile="bob")
        assert [s.track_id for s in store.liked("ana")] == [a.track_id]
        assert store.liked("nobody") == []


def test_full_disk_keeps_events_in_memory_and_writes_them_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: opened.append(real_connect(*a, **k)) or opened[-1])
    store = HistoryStore.open(tmp_path)
    _add(store, "play", _track(0))
    # SQLite's own page limit gives a genuine SQLITE_FULL, as a full file system would.
    opened[0].execute(f"PRAGMA max_page_count = {store.pragma('page_count')}")
    written = []
    for i in range(1, 40):
        _, ok = store.add_event(profile="ana", session="s1", kind="play", track=_track(i % 50), reward=None)
        written.append(ok)
    assert not all(written)
    assert store.warning is not None and "full" in store.warning
    assert store.pending > 0
    opened[0].execute("PRAGMA max_page_count = 1073741823")
    assert store.flush()
    assert store.pending == 0 and store.warning is None
    assert store.count("ana") == 40
    assert store.integrity() == "ok"
    store.close()


def test_read_only_database_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    HistoryStore.open(tmp_path).close()
    path = tmp_path / "history.sqlite3"
    real_connect = sqlite3.connect

    # Tests run as root, which ignores file modes; open the file the way a read-only one opens.
    def read_only_connect(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        kwargs.pop("uri", None)
        return real_connect(f"{Path(str(database)).resolve().as_uri()}?mode=ro", *args, uri=True, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", read_only_connect)
    with pytest.raises(TuiDjError, match="read-only") as err:
        HistoryStore(path)
    assert "\n" not in str(err.value)


def test_locked_database_is_one_sentence(tmp_path: Path) -> None:
    HistoryStore.open(tmp_path).close()
    other = sqlite3.connect(tmp_path / "history.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TuiDjError, match="locked by another program"):
            HistoryStore.open(tmp_path, busy_timeout_s=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_lock_taken_mid_session_is_retried(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path, busy_timeout_s=0.05)
    other = sqlite3.connect(tmp_path / "history.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    _, ok = store.add_event(profile="ana", session="s", kind="play", track=_track(0), reward=None)
    assert not ok and store.warning and "locked" in store.warning
    other.execute("ROLLBACK")
    other.close()
    assert store.flush()
    assert store.count("ana") == 1
    store.close()


def test_damaged_database_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(TuiDjError, match="damaged"):
        HistoryStore.open(tmp_path)


def test_profile_lock_is_exclusive(tmp_path: Path) -> None:
    paths = profile_paths(tmp_path, "ana")
    first, second = ProfileLock(paths.lock), ProfileLock(paths.lock)
    assert first.acquire()
    assert not second.acquire()
    assert first.holder().isdigit()
    first.release()
    assert second.acquire()
    second.release()


@pytest.mark.parametrize("name", ["../../etc", "a/b", "/etc", "a\x00b", "a" * 300, "..", ".x"])
def test_profile_names_never_become_paths_outside(name: str, tmp_path: Path) -> None:
    base = tmp_path / "data"
    with pytest.raises(TuiDjError):
        profile_paths(base, name)
    with pytest.raises(TuiDjError):
        export_liked(base, name)
    assert not base.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _liked_store(tmp_path: Path, names: list[str]) -> None:
    with HistoryStore.open(tmp_path) as store:
        for i, name in enumerate(names):
            _add(store, "like", _track(i, name=name, artist=f"Artist, {i} \"the\" 🎧", album="=SUM(A1)"))


def test_export_csv_neutralises_formulas(tmp_path: Path) -> None:
    names = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(1)", "plain"]
    _liked_store(tmp_path, names)
    text, count = export_liked(tmp_path, "ana", "csv")
    assert count == 5
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORTIFY_HEADER
    header = rows[0]
    for row in rows[1:]:
        for column, cell in zip(header, row, strict=True):
            if column in ("Loudness", "Danceability", "Energy", "Tempo", "Duration (ms)", "Popularity"):
                float(cell)  # numbers stay numbers: a negative loudness is not neutralised
            elif cell:
                assert cell[0] not in "=+-@", (column, cell)
    loudness = [float(r[header.index("Loudness")]) for r in rows[1:]]
    assert all(v < 0 for v in loudness)
    assert [r[1] for r in rows[1:]] == [neutralise(n) for n in names]


def test_export_m3u_has_one_line_per_field(tmp_path: Path) -> None:
    _liked_store(tmp_path, ["two\nlines", "ok"])
    text, count = export_liked(tmp_path, "ana", "m3u")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and count == 2
    assert len(lines) == 1 + 2 * count
    assert "two lines" in lines[1]
    assert lines[2].startswith("spotify:track:")


def test_export_round_trips_through_prep(tmp_path: Path) -> None:
    importer = pytest.importorskip("tui_dj.catalog.importer")
    names = ['She said "hi", twice', "line\nbreak", "emoji 🎶🔥 ünïcode", "comma, and ; semicolon", "plain"]
    _liked_store(tmp_path, names)
    out = tmp_path / "liked.csv"
    export_liked(tmp_path, "ana", "csv", out)
    catalog = importer.import_files([out])
    assert len(catalog) == len(names)
    by_id = {catalog.tracks["track_id"][i]: i for i in range(len(catalog))}
    with HistoryStore.open(tmp_path) as store:
        liked = store.liked("ana")
    for song in liked:
        row = catalog.tracks.iloc[by_id[song.track_id]]
        assert row["name"] == song.name
        raw = catalog.raw_features(by_id[song.track_id])
        assert abs(float(raw[2]) - song.features["energy"]) < 1e-5


def test_export_of_nothing_says_why(tmp_path: Path) -> None:
    with pytest.raises(TuiDjError, match="no profile 'ana'"):
        export_liked(tmp_path, "ana", "csv")
    with HistoryStore.open(tmp_path) as store:
        store.start_session("ana", "built-in", "default")
        _add(store, "play", _track(0))
    with pytest.raises(TuiDjError, match="'ana' has no liked songs yet"):
        export_liked(tmp_path, "ana", "csv")
    with pytest.raises(TuiDjError, match="no profile 'nobody' .*profiles here: ana"):
        export_liked(tmp_path, "nobody", "csv")
    with pytest.raises(TuiDjError, match="csv or m3u"):
        export_liked(tmp_path, "ana", "xls")  # type: ignore[arg-type]
