"""`tui-dj evaluate --panel families --leave-one-out`: the panel run, its table and its seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from tui_dj.errors import Interrupted, TuiDjError


def seed_list(text: str) -> list[int]:
    """"0-4" or "0,2,5" as a list of seeds, or one sentence on why it is not one."""
    try:
        if "-" in text.strip().lstrip("-"):
            first, last = (int(part) for part in text.split("-", 1))
            seeds = list(range(first, last + 1))
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise TuiDjError(f"--train-seeds is a range like 0-4 or a list like 0,2,5 of distinct seeds ≥ 0, "
                         f"not {text!r}.")
    return seeds


def run_leave_one_out(spec: Any, model: Path | None, folder: Path, songs: int | None, json_out: Path | None,
                      err: Console, seeds: list[int] | None = None) -> None:
    """Train what the leave-one-out panel needs, print its table, write its JSON (`--json`)."""
    from tui_dj.atomic import atomic_write_bytes
    from tui_dj.cli.panel_tables import leave_out_table
    from tui_dj.cli.render import stage_progress
    from tui_dj.learn.families import FAMILIES
    from tui_dj.panels.leave_out import leave_one_out, leave_one_out_seeds
    from tui_dj.panels.run import SONGS

    names = list(spec.families or FAMILIES)
    try:
        with stage_progress(err) as progress:
            if seeds is not None:
                report = leave_one_out_seeds(spec, names, seeds, folder, songs or SONGS, on_progress=progress)
            else:
                report = leave_one_out(spec, names, None if model is None else str(model), folder,
                                       songs or SONGS, on_progress=progress)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; the models trained so far are kept in {folder}.") from None
    Console().print(leave_out_table(report))
    if json_out is not None:
        atomic_write_bytes(json_out, json.dumps(report, indent=2).encode())
        err.print(f"Wrote {json_out}")
