"""Run every benchmark in its own process and print one table (`--json FILE` writes the same)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks._util import Row

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--only", action="append", help="run only this benchmark (e.g. bench_import); repeatable")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--baseline", metavar="GIT_REF", help="benchmarks that compare commits also time this one")
    args = parser.parse_args()
    names = args.only or discover()
    rows: list[Row] = []
    failures: list[str] = []
    console = Console(stderr=True)
    for name in names:
        console.print(f"[bold]running {name}[/]...")
        cmd = [sys.executable, "-m", f"benchmarks.{name}"] + (["--quick"] if args.quick else [])
        if args.baseline and name in ("bench_console", "bench_session", "bench_learn"):
            cmd += ["--baseline", args.baseline]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-ROWS ")]
        if proc.returncode != 0 or not lines:
            failures.append(f"{name}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'no output'}")
            continue
        rows += [Row(**r) for r in json.loads(lines[-1][len("BENCH-ROWS "):])]
    table = Table(title="tui-dj benchmarks")
    for col, justify in (("benchmark", "left"), ("metric", "left"), ("value", "right"), ("unit", "left"), ("goal", "left"), ("met", "left"), ("note", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(r.benchmark, r.metric, f"{r.value:,.4g}", r.unit, r.goal, r.met, r.note)
    out = Console()
    # Piped into a file the console would be 80 columns wide and fold every row.
    (out if out.is_terminal else Console(width=160)).print(table)
    if args.json:
        args.json.write_text(json.dumps([{**r.__dict__, "met": r.met} for r in rows], indent=2))
    for failure in failures:
        console.print(f"[red]failed[/] {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
