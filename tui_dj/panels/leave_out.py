"""Leave one family out: for each listener family, a model trained on the mixture without it,
tested on it beside the model trained on the whole mixture, on the same people.

This is the figure that says whether the DQN learns habits it was not trained on. Each left-out
model is trained with the default settings and seed (`tui-dj train --leave-out FAMILY`) into a
folder of its own and reused when it is already there, so a second run only evaluates.

One training run is one draw: the same command on another machine, or another seed, moves a
family's median by as much as 0.1. `leave_one_out_seeds` compares like with like over several
seeds instead: for each seed, a model trained on everything and one without each family, both
trained here with that seed, on the same people.
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


def _config(family: str | None, episodes: int | None, seed: int | None = None) -> TrainConfig:
    """The default training settings, without `family` (None: the whole mixture), with `seed`."""
    return load_config(None, {"env.leave_out": family, "episodes": episodes,
                              **({} if seed is None else {"seed": seed})})


def _train_without(family: str | None, catalog_dir: str | None, out: str, episodes: int | None,
                   seed: int | None = None) -> str:
    """Train the default model without `family` (None: on every family) into `out` (in a worker
    process), going on from its checkpoint when an earlier run was interrupted; its model file."""
    import torch

    torch.set_num_threads(1)
    spec = PanelSpec("families", catalog_dir)
    config = _config(family, episodes, seed)
    resume = last_checkpoint(Path(out)) is not None
    train(config, _catalog(spec), Path(out), resume=resume, episodes=config.episodes)
    return str(Path(out) / MODEL_FILE)


def _trained(spec: PanelSpec, runs: dict[str, tuple[str | None, int | None]], workers: int,
             on_progress: Callable[[int, int], None] | None, episodes: int | None) -> dict[str, str]:
    """Each run (folder: the family left out and the seed) trained where it is not finished (two
    at a time); each folder's model file."""
    # A model file alone is not a finished run: training checkpoints every minute as well.
    missing = [d for d, (f, seed) in runs.items() if last_checkpoint(Path(d)) != _config(f, episodes, seed).episodes]
    done = len(runs) - len(missing)
    if on_progress is not None:
        on_progress(done, len(runs))
    if missing:
        context = multiprocessing.get_context("spawn")  # torch and fork do not mix
        with ProcessPoolExecutor(min(workers, len(missing)), mp_context=context) as pool:
            futures = [pool.submit(_train_without, runs[d][0], spec.catalog, d, episodes, runs[d][1])
                       for d in missing]
            for future in futures:
                future.result()
                done += 1
                if on_progress is not None:
                    on_progress(done, len(runs))
    return {d: str(Path(d) / MODEL_FILE) for d in runs}


def models_without(spec: PanelSpec, families: list[str], folder: Path, workers: int = 2,
                   on_progress: Callable[[int, int], None] | None = None,
                   episodes: int | None = None) -> dict[str, str]:
    """The model trained without each family, trained where it is missing (two at a time)."""
    paths = {f: str(folder / f"without-{f}") for f in families}
    models = _trained(spec, {paths[f]: (f, None) for f in families}, workers, on_progress, episodes)
    return {f: models[paths[f]] for f in families}


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


def leave_one_out_seeds(spec: PanelSpec, families: list[str], seeds: list[int], folder: Path,
                        n_songs: int = SONGS, on_progress: Callable[[str, int, int], None] | None = None,
                        episodes: int | None = None, workers: int = 2) -> dict[str, Any]:
    """Leave one out over several training runs, like with like: for each seed, the model trained
    on every family (`all-seed{S}`) and the one without each family (`without-{family}-seed{S}`),
    both trained here with that seed. Per family: each seed's medians with and without, their means,
    and the ratio of the means with a 95% interval (the seeds resampled, each with its pair)."""
    def stage(name: str) -> Callable[[int, int], None] | None:
        return None if on_progress is None else (lambda done, total: on_progress(name, done, total))

    runs: dict[str, tuple[str | None, int | None]] = {}
    for seed in seeds:
        runs[str(folder / f"all-seed{seed}")] = (None, seed)
        runs.update({str(folder / f"without-{f}-seed{seed}"): (f, seed) for f in families})
    models = _trained(spec, runs, workers, stage("training"), episodes)
    out: dict[str, Any] = {"songs": n_songs, "within": WITHIN, "seeds": list(seeds), "families": {}}
    idx = np.random.default_rng(0).integers(0, len(seeds), size=(2000, len(seeds)))
    for family in families:
        only = replace(spec, families=(family,))
        medians: dict[str, list[float]] = {"with": [], "without": []}
        for seed in seeds:
            for side, folder_name in (("with", f"all-seed{seed}"), ("without", f"without-{family}-seed{seed}")):
                results = run_panel(only, ["dqn"], models[str(folder / folder_name)], n_songs=n_songs,
                                    on_progress=stage(f"{family}, seed {seed}, trained {side} it"))
                medians[side].append(float(np.median([score(r, EARLY, n_songs) for r in results])))
        a, b = np.array(medians["with"]), np.array(medians["without"])
        ratio = None
        if a.mean() > 0:
            boots = b[idx].mean(axis=1) / np.maximum(a[idx].mean(axis=1), 1e-9)
            ratio = {"median": float(b.mean() / a.mean()), "low": float(np.percentile(boots, 2.5)),
                     "high": float(np.percentile(boots, 97.5))}
        by_seed = [float(y / x) for x, y in zip(a, b, strict=True) if x > 0]
        out["families"][family] = {
            "with": float(a.mean()), "without": float(b.mean()), "ratio": ratio,
            "per_seed": {"with": medians["with"], "without": medians["without"]},
            "seed_ratios": [min(by_seed), max(by_seed)] if by_seed else None,
            "holds": bool(b.mean() >= WITHIN * a.mean()),
        }
    return out
