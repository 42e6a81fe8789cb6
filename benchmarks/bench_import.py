"""`tui-dj prep FILE` on a 232,725-row Kaggle-format CSV: wall time and peak memory of the whole
process, beside a plain `pandas.read_csv` of the same file (issue 2); and the built-in `tui-dj prep`.

`python -m benchmarks.bench_import [--quick]`
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._util import Row, emit, run_measured

BENCH = "import"
FULL_SIZE = 232_725
BASELINE = "import sys, pandas; pandas.read_csv(sys.argv[1])"
# Written in a child process: a child's peak memory as wait4 reports it starts from its parent's size
# at fork, so the parent that measures must stay small.
WRITE_CSV = "import sys; from tui_dj.catalog.synthetic import write_kaggle_csv as w; w(sys.argv[1], int(sys.argv[2]))"


def measure(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and the largest peak memory (MB) over `runs` runs of `cmd`."""
    walls, peaks = [], []
    for _ in range(runs):
        wall, peak, _ = run_measured(cmd)
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 rows and one run each")
    args = parser.parse_args()
    n = 20_000 if args.quick else FULL_SIZE
    runs = 1 if args.quick else 3

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "SpotifyFeatures.csv"
        subprocess.run([sys.executable, "-c", WRITE_CSV, str(csv), str(n)], check=True)
        size_mb = csv.stat().st_size / 2**20
        note = f"{n:,} rows, {size_mb:.0f} MB, median of {runs}"
        prep = [sys.executable, "-m", "tui_dj", "prep", str(csv), "--out", str(Path(tmp) / "processed")]
        base = [sys.executable, "-c", BASELINE, str(csv)]
        wall, peak = measure(prep, runs)
        base_wall, base_peak = measure(base, runs)
        goal_wall, goal_mb = ("<= 3", "<= 600") if not args.quick else ("", "")
        rows.append(Row(BENCH, "tui-dj prep FILE: wall", wall, "s", goal_wall, note))
        rows.append(Row(BENCH, "tui-dj prep FILE: peak memory", peak, "MB", goal_mb, note))
        rows.append(Row(BENCH, "baseline pandas.read_csv: wall", base_wall, "s", "", "same file, own process"))
        rows.append(Row(BENCH, "baseline pandas.read_csv: peak memory", base_peak, "MB", "", "same file, own process"))
        rows.append(Row(BENCH, "prep / read_csv wall", wall / base_wall, "x", "",
                        "prep also cleans, merges, scales and saves"))
        builtin = [sys.executable, "-m", "tui_dj", "prep", "--out", str(Path(tmp) / "builtin")]
        b_wall, b_peak = measure(builtin, runs)
        rows.append(Row(BENCH, "tui-dj prep (built-in, 3,000 songs): wall", b_wall, "s", "", f"median of {runs}"))
        rows.append(Row(BENCH, "tui-dj prep (built-in): peak memory", b_peak, "MB"))
    emit(rows)


if __name__ == "__main__":
    main()
