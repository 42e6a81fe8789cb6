"""A long session on the full-size catalog: memory stays flat once the replay buffer is full, the
time per reaction does not grow, and the history holds every event."""

from __future__ import annotations

import gc
import os
import random
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from tests.faults import SLOW_SCALE_ENV, repeats
from tui_dj import open_session
from tui_dj.catalog import builtin_catalog
from tui_dj.learn.model_file import load_agent
from tui_dj.session import opening as session_module

FULL_SIZE = 232_725  # songs in the largest public Spotify-features table
KINDS = ["like", "finish", "skip", "dislike"]
WEIGHTS = [0.3, 0.3, 0.3, 0.1]


def _rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds), q) * 1e3)


def _p99_ms(seconds: list[float]) -> float:
    return _percentile_ms(seconds, 99)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads memory from /proc")
def test_ten_thousand_reactions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = repeats(10_000, 1_500)
    reduced = os.environ.get(SLOW_SCALE_ENV) == "reduced"
    if reduced:
        # The shorter run fills a smaller buffer so that it still has a long stretch after "full".
        monkeypatch.setattr(session_module, "REPLAY_CAPACITY", 600)
    capacity = session_module.REPLAY_CAPACITY
    catalog = builtin_catalog(FULL_SIZE)
    data = tmp_path / "data"
    rng = random.Random(3)
    session = open_session(catalog=catalog, profile="soak", data_dir=data, seed=0)
    session.start()
    gc.collect()
    rss_open = _rss_mb()
    feedback_s: list[float] = []
    next_s: list[float] = []
    rss: list[float] = []  # after every event
    # Every reaction stores one transition: after `capacity` of them the buffer is full for sure.
    full_at = capacity
    t0 = time.perf_counter()
    for _ in range(events):
        reaction = rng.choices(KINDS, WEIGHTS)[0]
        a = time.perf_counter()
        if reaction == "finish":
            session.song_finished()
        else:
            session.react(reaction)
        b = time.perf_counter()
        if reaction == "like":
            session.song_finished()  # the liked song plays to its end: the next one starts
        c = time.perf_counter()
        feedback_s.append(b - a)
        next_s.append(c - b if reaction == "like" else 0.0)
        rss.append(_rss_mb())
    wall = time.perf_counter() - t0
    session.close()

    assert full_at is not None and events - full_at >= events // 2, (full_at, capacity)
    after_full = events - full_at
    q1_end = full_at + after_full // 4
    last_q = rss[events - after_full // 4:]
    window = max(300, events // 10)
    start_p99, end_p99 = _p99_ms(feedback_s[:window]), _p99_ms(feedback_s[-window:])
    start_next, end_next = _p99_ms(next_s[:window]), _p99_ms(next_s[-window:])
    growth = max(last_q) - rss[q1_end]

    with sqlite3.connect(data / "history.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = dict(conn.execute("SELECT kind, count(*) FROM events WHERE profile = 'soak' GROUP BY kind"))
    rated = sum(counts.get(k, 0) for k in KINDS)
    _, meta = load_agent(data / "profiles" / "soak" / "model.pt")

    print(f"long session: {events:,} reactions on {len(catalog):,} songs in {wall:.0f} s "
          f"(replay {capacity:,} rows, full after event {full_at:,})\n"
          f"  RSS: {rss_open:.0f} MB at open, {rss[full_at]:.0f} MB when the buffer filled, "
          f"{rss[q1_end]:.0f} MB a quarter later, {rss[-1]:.0f} MB at the end "
          f"(growth over the last three quarters after full: {growth:+.1f} MB)\n"
          f"  reaction p99: {start_p99:.1f} ms over the first {window:,} events, {end_p99:.1f} ms over "
          f"the last {window:,} (median {np.median(feedback_s[:window]) * 1e3:.1f} -> "
          f"{np.median(feedback_s[-window:]) * 1e3:.1f} ms); next song after a like p99 {start_next:.1f} -> "
          f"{end_next:.1f} ms\n"
          f"  history: {rated:,} reactions, {counts.get('play', 0):,} plays; {counts}")

    assert rated == events
    assert counts.get("play") == events + 1  # the first song, then one after every reaction
    assert counts.get("undo", 0) == 0
    assert meta["reactions"] == events
    assert growth < 50, f"memory grew {growth:.1f} MB after the replay buffer was full"
    # Whether a reaction slows down as the session grows: the median and the 95th percentile, which
    # a few host hiccups cannot move (the p99 of the reduced run's 300 events is its third slowest:
    # a CI run of 0.3.1 saw it go 43.9 -> 145.5 ms with the median 7.7 -> 10.1 ms, and 9-14 ms
    # both ways on the same code here). The tail's budget is the benchmarks' (bench_session).
    start_p95, end_p95 = _percentile_ms(feedback_s[:window], 95), _percentile_ms(feedback_s[-window:], 95)
    start_median, end_median = _percentile_ms(feedback_s[:window], 50), _percentile_ms(feedback_s[-window:], 50)
    assert end_median < 2 * start_median, f"the feedback median went from {start_median:.1f} to {end_median:.1f} ms"
    assert end_p95 < 3 * start_p95, f"feedback p95 went from {start_p95:.1f} to {end_p95:.1f} ms"
    next_p95 = _percentile_ms(next_s[:window], 95), _percentile_ms(next_s[-window:], 95)
    assert next_p95[1] < 3 * max(next_p95[0], 1.0), f"the next song's p95 went from {next_p95[0]:.1f} to {next_p95[1]:.1f} ms"
