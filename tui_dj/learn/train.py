"""`tui-dj train`: the DQN learns from simulated listening sessions, with checkpoints and logs.

Files written under the output folder: `dqn.pt` (what the console loads), `dqn.checkpoint.pt` (the
training state, for `--resume`), `logs/train.jsonl` (one line of metrics per episode).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tui_dj.atomic import atomic_write_bytes, remove_leftovers
from tui_dj.catalog.model import Catalog, chosen_catalog_dir, load_catalog
from tui_dj.catalog.synthetic import builtin_catalog
from tui_dj.config import TrainConfig, from_dict
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent, load_agent, read_state
from tui_dj.learn.env import DJEnv, SongTable

MODEL_FILE = "dqn.pt"
CHECKPOINT_FILE = "dqn.checkpoint.pt"
LOG_FILE = Path("logs") / "train.jsonl"


@dataclass
class TrainResult:
    episodes: int
    seconds: float
    steps: int
    returns: list[float] = field(default_factory=list)
    model_path: Path | None = None


def resolve_catalog(path: Path | None, builtin: bool = False) -> Catalog:
    """--catalog DIR, else data/processed when it holds a catalog, else the built-in catalog."""
    where = None if builtin else chosen_catalog_dir(path)
    return builtin_catalog() if where is None else load_catalog(where)


def episode_seed(seed: int, episode: int) -> int:
    """Every episode's listener and candidates come from its own seed, so a resumed run matches."""
    return (seed * 1_000_003 + episode) % (2**63)


def run_episode(env: DJEnv, agent: DQNAgent, seed: int, learn: bool = True) -> tuple[float, int, float | None]:
    """Play one session with ε-greedy actions; store and learn from every transition."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    cands = env.candidates(rng)
    inputs = env.song_inputs(cands)
    total, steps, losses = 0.0, 0, []
    while True:
        pos = agent.act(obs, inputs, cands, explore=learn)
        next_obs, reward, terminated, truncated, _ = env.step(cands[pos])
        done = terminated or truncated
        total += reward
        steps += 1
        if done:
            next_cands, next_inputs = None, None
        else:
            next_cands = env.candidates(rng)
            next_inputs = env.song_inputs(next_cands)
        if learn:
            # A session that reaches its last song ends for good: its length is part of the state.
            agent.remember(obs, inputs[pos], reward, next_obs, next_inputs, done,
                           action=int(cands[pos]), next_candidates=next_cands)
            loss = agent.maybe_update()
            if loss is not None:
                losses.append(loss)
        if done:
            return total, steps, (float(np.mean(losses)) if losses else None)
        obs, cands, inputs = next_obs, next_cands, next_inputs  # type: ignore[assignment]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]training[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("reward(100) {task.fields[mean]:>6.2f}"),
        TextColumn("ε {task.fields[eps]:.3f}"),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[sps]:>5.0f} steps/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _checkpoint_state(agent: DQNAgent, config: TrainConfig, fingerprint: str, episode: int,
                      history: list[float]) -> dict[str, Any]:
    return {
        "kind": "checkpoint",
        "episode": episode,
        "train_config": asdict(config),
        "catalog_fingerprint": fingerprint,
        "agent_rng": agent.rng.bit_generator.state,
        "returns": history[-100:],
    }


def _read_log(path: Path, before: int) -> list[str]:
    if not path.is_file():
        return []
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line)["episode"] < before:
                keep.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    return keep


def _resume(out_dir: Path, catalog: Catalog, episodes: int | None) -> tuple[DQNAgent, TrainConfig, int, list[float]]:
    path = out_dir / CHECKPOINT_FILE
    if not path.is_file():
        raise TuiDjError(f"Nothing to resume in {out_dir}: there is no {CHECKPOINT_FILE}; start without --resume.")
    state = read_state(path)
    try:
        meta = json.loads(state.get("metadata", "{}"))
        config = from_dict(meta["train_config"])
        episode = int(meta["episode"])
        fingerprint = str(meta["catalog_fingerprint"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TuiDjError(f"{path} is not a tui-dj training checkpoint or is damaged ({exc}).") from None
    if fingerprint != catalog.fingerprint:
        raise TuiDjError(f"{path} was trained on another catalog (fingerprint {fingerprint}, this one is "
                         f"{catalog.fingerprint}); pass the same --catalog or start a new run with another --out.")
    if episodes is not None:
        config.episodes = episodes
    agent, _ = load_agent(path, n_songs=len(catalog), training=True, seed=config.seed)
    agent.rng.bit_generator.state = meta["agent_rng"]
    return agent, config, episode, [float(r) for r in meta.get("returns", [])]


def train(config: TrainConfig, catalog: Catalog, out_dir: Path, resume: bool = False,
          console: Console | None = None, show_progress: bool = True, chart: bool = True,
          model_out: Path | None = None, episodes: int | None = None) -> TrainResult:
    """Train (or resume training) a DQN on `catalog`; write model, checkpoints and logs to `out_dir`.

    On `resume` the run's own settings come from its checkpoint; `episodes` may extend it.
    """
    console = console or Console(stderr=True)
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT_FILE
    if resume:
        agent, config, start, recent = _resume(out_dir, catalog, episodes)
    else:
        if checkpoint.exists():
            raise TuiDjError(f"{out_dir} already holds a training run; pass --resume to continue it "
                             "or choose another --out.")
        if episodes is not None:
            config.episodes = episodes
        agent = DQNAgent(config.agent, n_songs=len(catalog), seed=config.seed)
        start, recent = 0, []
    torch.set_num_threads(config.threads)
    torch.set_flush_denormal(True)  # tiny Adam moments otherwise slow every step down
    songs = SongTable.from_catalog(catalog)
    env = DJEnv(songs, config.env, candidates=config.agent.candidates)
    log_path = out_dir / LOG_FILE
    for written in (out_dir / MODEL_FILE, checkpoint, log_path):
        remove_leftovers(written)  # what a killed run was writing; never read, only in the way
    lines = _read_log(log_path, start) if resume else []
    # Rewrite the log first so that lines from after the checkpoint are not kept twice.
    atomic_write_bytes(log_path, ("\n".join(lines) + "\n").encode() if lines else b"")
    log = log_path.open("a", encoding="utf-8")
    window: deque[float] = deque(recent, maxlen=100)
    returns: list[float] = []
    metadata_base = {"catalog_fingerprint": catalog.fingerprint, "catalog_name": catalog.name,
                     "n_songs": len(catalog), "train_config": asdict(config)}
    t0 = time.perf_counter()
    total_steps = 0
    last_loss: float | None = None

    def save(episode: int) -> None:
        meta = {**metadata_base, "episodes": episode}
        agent.save(out_dir / MODEL_FILE, meta)
        agent.save(checkpoint, _checkpoint_state(agent, config, catalog.fingerprint, episode, list(window)),
                   training=True)

    progress = _progress(console) if show_progress else None
    try:
        if progress is not None:
            progress.start()
            task = progress.add_task("train", total=config.episodes, completed=start, mean=0.0,
                                     eps=agent.epsilon, loss="  -  ", sps=0.0)
        for episode in range(start, config.episodes):
            ret, steps, loss = run_episode(env, agent, episode_seed(config.seed, episode))
            agent.decay_epsilon()
            total_steps += steps
            last_loss = loss if loss is not None else last_loss
            window.append(ret)
            returns.append(ret)
            sps = total_steps / max(time.perf_counter() - t0, 1e-9)
            record = {"episode": episode, "return": round(ret, 4), "steps": steps,
                      "mean_return_100": round(float(np.mean(window)), 4), "epsilon": round(agent.epsilon, 5),
                      "loss": None if loss is None else round(loss, 6), "steps_per_s": round(sps, 1)}
            log.write(json.dumps(record) + "\n")
            if progress is not None:
                progress.update(task, advance=1, mean=float(np.mean(window)), eps=agent.epsilon,
                                loss="  -  " if last_loss is None else f"{last_loss:.4f}", sps=sps)
            if (episode + 1) % config.checkpoint_every == 0 or episode + 1 == config.episodes:
                log.flush()
                save(episode + 1)
    except OSError as exc:  # the log (a full disk); the model files report their own failures
        raise TuiDjError(f"Could not write {log_path}: {exc.strerror or exc}; training stopped and the "
                         "last checkpoint is unchanged.") from None
    finally:
        if progress is not None:
            progress.stop()
        with contextlib.suppress(OSError):
            log.close()
    if start >= config.episodes:
        save(start)
    if model_out is not None:
        agent.save(Path(model_out), {**metadata_base, "episodes": config.episodes})
    seconds = time.perf_counter() - t0
    result = TrainResult(config.episodes - start, seconds, total_steps, returns, out_dir / MODEL_FILE)
    if chart:
        console.print(learning_curve(log_path))
    console.print(f"Trained {result.episodes:,} sessions ({total_steps:,} songs) in {seconds:.1f} s; "
                  f"model saved to {out_dir / MODEL_FILE}")
    return result


def learning_curve(log_path: Path, width: int = 64, height: int = 10) -> str:
    """The mean return over the last 100 sessions as a small block chart for the terminal."""
    points: list[float] = []
    for line in Path(log_path).read_text(encoding="utf-8").splitlines():
        try:
            points.append(float(json.loads(line)["mean_return_100"]))
        except (ValueError, KeyError, TypeError):
            continue
    if not points:
        return ""
    # One column per slice of episodes: the slice's mean.
    columns = [float(np.mean(chunk)) for chunk in np.array_split(np.asarray(points), min(width, len(points)))]
    low, high = min(columns), max(columns)
    span = high - low or 1.0
    levels = [(c - low) / span * height for c in columns]
    blocks = " ▁▂▃▄▅▆▇█"
    rows = []
    for r in range(height - 1, -1, -1):
        label = f"{(high if r else low):>7.2f} ┤" if r in (height - 1, 0) else "        │"
        cells = "".join(blocks[int(round(min(max(v - r, 0.0), 1.0) * 8))] for v in levels)
        rows.append(label + cells)
    rows.append("        └" + "─" * len(columns))
    rows.append(f"         episode 1 … {len(points):,}: mean session return over the last 100")
    return "\n".join(rows)


def run_train(config: TrainConfig, catalog: Catalog, out_dir: Path, resume: bool = False,
              episodes: int | None = None, chart: bool = True, model_out: Path | None = None) -> TrainResult:
    """The `tui-dj train` command: say which catalog, then train."""
    console = Console(stderr=True)
    console.print(f"Catalog: {catalog.name} ({len(catalog):,} songs, fingerprint {catalog.fingerprint})")
    return train(config, catalog, out_dir, resume=resume, console=console, chart=chart,
                 model_out=model_out, episodes=episodes)


def default_model_for(model: Path | None) -> Path:
    """--model, else models/dqn.pt when it exists, else the shipped default model."""
    from tui_dj.learn.agent import default_model_path
    from tui_dj.paths import MODELS_DIR

    if model is not None:
        return Path(model)
    trained = MODELS_DIR / MODEL_FILE
    return trained if trained.is_file() else default_model_path()
