"""Leave one family out: for each listener family, a model trained on the mixture without it,
tested on it beside the model trained on the whole mixture, on the same people.

This is the figure that says whether the DQN learns habits it was not trained on. Each left-out
model is trained with the default settings and seed (`tui-dj train --leave-out FAMILY`) into a
folder of its own and reused when it is already there, so a second run only evaluates.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tui_dj.catalog import Catalog, builtin_catalog, load_catalog
from tui_dj.config import TrainConfig, load_config
from tui_dj.learn.simulate import EARLY
from tui_dj.learn.stats import paired_ratio, resamples
from tui_dj.learn.train import MODEL_FILE, last_checkpoint, train
from tui_dj.panels.families import score
from tui_dj.panels.run import SONGS, PanelSpec, run_panel

WITHIN = 0.9  # the goal: without the family, at least 90% of the figure with it


def _catalog(spec: PanelSpec) -> Catalog:
    return builtin_catalog() if spec.catalog is None else load_catalog(Path(spec.catalog))


def _config(family: str, episodes: int | None) -> TrainConfig:
    return load_config(None, {"env.leave_out": family, "episodes": episodes})


def _train_without(family: str, catalog_dir: str | None, out: str, episodes: int | None) -> str:
    """Train the default model without `family` into `out` (in a worker process), going on from
    its checkpoint when an earlier run was interrupted; its model file."""
    import torch

    torch.set_num_threads(1)
    spec = PanelSpec("families", catalog_dir)
    config = _config(family, episodes)
    resume = last_checkpoint(Path(out)) is not None
    train(config, _catalog(spec), Path(out), resume=resume, episodes=config.episodes)
    return str(Path(out) / MODEL_FILE)


def models_without(spec: PanelSpec, families: list[str], folder: Path, workers: int = 2,
                   on_progress: Callable[[int, int], None] | None = None,
                   episodes: int | None = None) -> dict[str, str]:
    """The model trained without each family, trained where it is missing (two at a time)."""
    paths = {f: str(folder / f"without-{f}") for f in families}
    # A model file alone is not a finished run: training checkpoints every minute as well.
    missing = [f for f in families if last_checkpoint(Path(paths[f])) != _config(f, episodes).episodes]
    done = len(families) - len(missing)
    if on_progress is not None:
        on_progress(done, len(families))
    if missing:
        context = multiprocessing.get_context("spawn")  # torch and fork do not mix
        with ProcessPoolExecutor(min(workers, len(missing)), mp_context=context) as pool:
            futures = [pool.submit(_train_without, f, spec.catalog, paths[f], episodes) for f in missing]
            for future in futures:
                future.result()
                done += 1
                if on_progress is not None:
                    on_progress(done, len(families))
    return {f: str(Path(paths[f]) / MODEL_FILE) for f in families}


def leave_one_out(spec: PanelSpec, families: list[str], model: str | None, folder: Path,
                  n_songs: int = SONGS, on_progress: Callable[[str, int, int], None] | None = None,
                  episodes: int | None = None) -> dict[str, Any]:
    """Per family: the DQN's median score over songs 21 on with the model trained on everything
    (`model`; None: the shipped one) and with the one trained without the family, same people,
    and their paired ratio. `episodes`: the left-out models' training length (default: train's)."""
    def stage(name: str) -> Callable[[int, int], None] | None:
        return None if on_progress is None else (lambda done, total: on_progress(name, done, total))

    without = models_without(spec, families, folder, on_progress=stage("training"), episodes=episodes)
    out: dict[str, Any] = {"songs": n_songs, "within": WITHIN, "families": {}}
    for family in families:
        only = replace(spec, families=(family,))
        with_it = run_panel(only, ["dqn"], model, n_songs=n_songs, on_progress=stage(f"{family}, trained on all"))
        left_out = run_panel(only, ["dqn"], without[family], n_songs=n_songs,
                             on_progress=stage(f"{family}, trained without it"))
        a = np.array([score(r, EARLY, n_songs) for r in sorted(with_it, key=lambda r: r.listener)])
        b = np.array([score(r, EARLY, n_songs) for r in sorted(left_out, key=lambda r: r.listener)])
        ratio = paired_ratio(b, a, resamples(len(a)))
        out["families"][family] = {"with": float(np.median(a)), "without": float(np.median(b)), "ratio": ratio,
                                   "listeners": len(a), "model_without": without[family],
                                   "holds": bool(np.median(b) >= WITHIN * np.median(a))}
    return out
