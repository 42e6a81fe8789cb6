"""Benchmark tools run as smoke tests: shrunk so that they finish in seconds, timing nothing."""

from __future__ import annotations


def test_the_cores_benchmark_trains_at_each_thread_count_and_side_by_side(capsys) -> None:
    """`python -m benchmarks.train_threads`, shrunk: a row per thread count and one for the runs
    side by side, each a real training run."""
    import json

    from benchmarks.train_threads import main

    main(["--threads", "1", "2", "--parallel", "2", "--songs", "600", "--episodes", "2"])
    rows = json.loads(capsys.readouterr().out.splitlines()[-1].removeprefix("BENCH-ROWS "))
    assert [r["metric"] for r in rows] == ["one run, 1 torch thread(s)", "one run, 2 torch thread(s)",
                                          "2 runs side by side, 1 thread each"]
    assert all(r["value"] > 0 for r in rows)
