"""A long session on the full-size catalog: memory stays flat once the replay buffer is full, the
time per feedback does not grow, and the history holds every event."""

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
from tui_dj import session as session_module
from tui_dj.catalog import builtin_catalog
from tui_dj.learn.agent import load_agent

FULL_SIZE = 232_725  # songs in the largest public Spotify-features table
KINDS = ["like", "finish", "skip", "dislike"]
WEIGHTS = [0.3, 0.3, 0.3, 0.1]


def _rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _p99_ms(seconds: list[float]) -> float:
    return float(np.percentile(np.asarray(seconds), 99) * 1e3)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads memory from /proc")
def test_ten_thousand_feedback_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = repeats(10_000, 1_500)
    reduced = os.environ.get(SLOW_SCALE_ENV) == "reduced"
    if reduced:
        # The shorter run fills a smaller buffer so that it still has a long stretch after "full".
        monkeypatch.setattr(session_module, "REPLAY_CAPACITY", 1_000)
    capacity = session_module.REPLAY_CAPACITY
    catalog = builtin_catalog(FULL_SIZE)
    data = tmp_path / "data"
    rng = random.Random(3)
    session = open_session(catalog=catalog, profile="soak", data_dir=data, seed=0)
    replay = session._agent.replay
    gc.collect()
    rss_open = _rss_mb()
    feedback_s: list[float] = []
    next_s: list[float] = []
    rss: list[float] = []  # after every event
    full_at: int | None = None
    t0 = time.perf_counter()
    for i in range(events):
        a = time.perf_counter()
        session.next_track()
        b = time.perf_counter()
        session.feedback(rng.choices(KINDS, WEIGHTS)[0])
        c = time.perf_counter()
        next_s.append(b - a)
        feedback_s.append(c - b)
        rss.append(_rss_mb())
        if full_at is None and replay.size >= capacity:
            full_at = i
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

    print(f"long session: {events:,} feedback events on {len(catalog):,} songs in {wall:.0f} s "
          f"(replay {capacity:,} rows, full after event {full_at:,})\n"
          f"  RSS: {rss_open:.0f} MB at open, {rss[full_at]:.0f} MB when the buffer filled, "
          f"{rss[q1_end]:.0f} MB a quarter later, {rss[-1]:.0f} MB at the end "
          f"(growth over the last three quarters after full: {growth:+.1f} MB)\n"
          f"  feedback p99: {start_p99:.1f} ms over the first {window:,} events, {end_p99:.1f} ms over "
          f"the last {window:,} (median {np.median(feedback_s[:window]) * 1e3:.1f} -> "
          f"{np.median(feedback_s[-window:]) * 1e3:.1f} ms); next_track p99 {start_next:.1f} -> {end_next:.1f} ms\n"
          f"  history: {rated:,} feedback events, {counts.get('play', 0):,} plays; {counts}")

    assert rated == events
    assert counts.get("play") == events
    assert counts.get("undo", 0) == 0
    assert meta.get("feedback_count", events) == events
    assert growth < 50, f"memory grew {growth:.1f} MB after the replay buffer was full"
    assert end_p99 < 3 * start_p99, f"feedback p99 went from {start_p99:.1f} to {end_p99:.1f} ms"
    assert end_next < 3 * max(start_next, 1.0), f"next_track p99 went from {start_next:.1f} to {end_next:.1f} ms"
