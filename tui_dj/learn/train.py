"""`tui-dj train`: the DQN learns from simulated listening sessions, with checkpoints and logs.

Files written under the output folder: `dqn.pt` (what the console loads with `--model`),
`dqn.checkpoint.pt` (the training state, for `--resume`), `logs/train.jsonl` (one line of metrics
per session). Progress goes to a callback; the CLI draws it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tui_dj.atomic import atomic_write_bytes, remove_leftovers
from tui_dj.catalog.model import Catalog, chosen_catalog_dir, load_catalog
from tui_dj.catalog.synthetic import builtin_catalog
from tui_dj.config import TrainConfig, from_dict
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.model_file import default_model_path, load_agent, read_state, save_agent
from tui_dj.learn.policy import DQNPolicy
from tui_dj.learn.simulate import mixture, run_session
from tui_dj.learn.songs import SongTable
from tui_dj.paths import MODELS_DIR

MODEL_FILE = "dqn.pt"
CHECKPOINT_FILE = "dqn.checkpoint.pt"
LOG_FILE = Path("logs") / "train.jsonl"
# A checkpoint every `checkpoint_every` sessions and at least this often: ctrl-c in the first
# minutes of a slow run keeps what was learned.
CHECKPOINT_SECONDS = 60.0


@dataclass(frozen=True)
class Progress:
    """One finished training session, for a progress display."""

    episode: int  # sessions done so far, resumed ones included
    total: int
    mean_return: float  # over the last 100 sessions
    epsilon: float
    loss: float | None
    steps_per_s: float


@dataclass
class TrainResult:
    episodes: int
    seconds: float
    steps: int
    returns: list[float] = field(default_factory=list)
    model_path: Path | None = None
    log_path: Path | None = None


TRAIN_COLUMNS = ("artist", "popularity")  # all of a song's metadata that training reads (`SongTable`)


def resolve_catalog(path: Path | None, builtin: bool = False, lean: bool = False) -> Catalog:
    """--catalog DIR, else data/processed when it holds a catalog, else the built-in catalog;
    `lean`: with only the track columns that training reads (`load_catalog(columns=)`)."""
    where = None if builtin else chosen_catalog_dir(path)
    if where is None:
        return builtin_catalog()
    return load_catalog(where, columns=TRAIN_COLUMNS if lean else None)


def episode_seed(seed: int, episode: int) -> int:
    """Every session's listener and draws come from its own seed, so a resumed run matches."""
    return (seed * 1_000_003 + episode) % (2**63)


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
          model_out: Path | None = None, episodes: int | None = None,
          on_progress: Callable[[Progress], None] | None = None) -> TrainResult:
    """Train (or resume training) a DQN on `catalog`; write model, checkpoints and logs to `out_dir`.

    On `resume` the run's own settings come from its checkpoint; `episodes` may extend it.
    """
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT_FILE
    if resume:
        agent, config, start, recent = _resume(out_dir, catalog, episodes)
    else:
        if checkpoint.exists():
            raise TuiDjError(f"{out_dir} already holds a training run; continue it with --resume, start it "
                             "over with --restart, or choose another --out.")
        if episodes is not None:
            config.episodes = episodes
        agent = DQNAgent(config.agent, n_songs=len(catalog), seed=config.seed)
        start, recent = 0, []
    torch.set_num_threads(config.threads)
    torch.set_flush_denormal(True)  # tiny Adam moments otherwise slow every step down
    songs = SongTable.from_catalog(catalog)
    env = config.env
    if len(songs) < env.max_steps + env.history + 1:
        raise TuiDjError(f"A catalog of {len(songs)} songs is too small to train on sessions of "
                         f"{env.max_steps} songs; import more songs, or train on the built-in catalog with --builtin.")
    mixture(env)  # an unknown family to leave out is one sentence before anything is written
    generator = CandidateGenerator(songs.features, k=config.agent.candidates, seed=config.seed)
    policy = DQNPolicy(agent, mode="train")
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
    t0 = saved_at = time.perf_counter()
    total_steps = 0
    last_loss: float | None = None

    def save(episode: int) -> None:
        meta = {**metadata_base, "episodes": episode}
        save_agent(agent, out_dir / MODEL_FILE, meta)
        save_agent(agent, checkpoint, _checkpoint_state(agent, config, catalog.fingerprint, episode, list(window)),
                   training=True)

    try:
        for episode in range(start, config.episodes):
            result = run_session(songs, policy, generator, env, episode_seed(config.seed, episode))
            agent.decay_epsilon()
            ret, steps = result.total, len(result.outcomes)
            loss = float(np.mean(result.losses)) if result.losses else None
            total_steps += steps
            last_loss = loss if loss is not None else last_loss
            window.append(ret)
            returns.append(ret)
            sps = total_steps / max(time.perf_counter() - t0, 1e-9)
            record = {"episode": episode, "return": round(ret, 4), "steps": steps,
                      "mean_return_100": round(float(np.mean(window)), 4), "epsilon": round(agent.epsilon, 5),
                      "loss": None if loss is None else round(loss, 6), "steps_per_s": round(sps, 1)}
            log.write(json.dumps(record) + "\n")
            if on_progress is not None:
                on_progress(Progress(episode + 1, config.episodes, float(np.mean(window)), agent.epsilon,
                                     last_loss, sps))
            if ((episode + 1) % config.checkpoint_every == 0 or episode + 1 == config.episodes
                    or time.perf_counter() - saved_at >= CHECKPOINT_SECONDS):
                log.flush()
                save(episode + 1)
                saved_at = time.perf_counter()
    except OSError as exc:  # the log (a full disk); the model files report their own failures
        raise TuiDjError(f"Could not write {log_path}: {exc.strerror or exc}; training stopped and the "
                         "last checkpoint is unchanged.") from None
    finally:
        with contextlib.suppress(OSError):
            log.close()
    if start >= config.episodes:
        save(start)
    if model_out is not None:
        save_agent(agent, Path(model_out), {**metadata_base, "episodes": config.episodes})
    seconds = time.perf_counter() - t0
    return TrainResult(config.episodes - start, seconds, total_steps, returns, out_dir / MODEL_FILE, log_path)


def last_checkpoint(out_dir: Path) -> int | None:
    """The number of sessions the checkpoint in `out_dir` holds, or None when there is none."""
    path = Path(out_dir) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        return int(json.loads(read_state(path).get("metadata", "{}"))["episode"])
    except (TuiDjError, ValueError, KeyError, TypeError):
        return None


def planned_sessions(out_dir: Path) -> int | None:
    """How many sessions the run whose checkpoint is in `out_dir` was set to train, or None."""
    path = Path(out_dir) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        return int(json.loads(read_state(path).get("metadata", "{}"))["train_config"]["episodes"])
    except (TuiDjError, ValueError, KeyError, TypeError):
        return None


def forget_run(out_dir: Path) -> None:
    """Delete the training run in `out_dir` (model, checkpoint, log), to start it over."""
    for name in (MODEL_FILE, CHECKPOINT_FILE, LOG_FILE):
        with contextlib.suppress(FileNotFoundError):
            (Path(out_dir) / name).unlink()


def mean_returns(log_path: Path) -> list[float]:
    """The mean return over the last 100 sessions, one value per logged session."""
    points: list[float] = []
    for line in Path(log_path).read_text(encoding="utf-8").splitlines():
        try:
            points.append(float(json.loads(line)["mean_return_100"]))
        except (ValueError, KeyError, TypeError):
            continue
    return points


def default_model_for(model: Path | None) -> Path:
    """--model, else models/dqn.pt when it exists, else the shipped default model."""
    if model is not None:
        return Path(model)
    trained = MODELS_DIR / MODEL_FILE
    return trained if trained.is_file() else default_model_path()
