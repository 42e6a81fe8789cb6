"""A model file: the agent's network (and, for training, its target and optimiser) and metadata,
written atomically and read back without unpickling code. The bundled model is one of these."""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from tui_dj.atomic import atomic_write
from tui_dj.config import AgentConfig, update_from_mapping
from tui_dj.errors import TuiDjError
from tui_dj.learn.agent import DQNAgent
from tui_dj.learn.trace import OBS_DIM, SONG_DIM
from tui_dj.paths import PACKAGE_ASSETS

FORMAT = "tui-dj-dqn"
FORMAT_VERSION = 1
DEFAULT_MODEL_FILE = "default_model.pt"


def default_model_path() -> Path:
    """The small model trained on the built-in catalog that ships with the package."""
    return PACKAGE_ASSETS / DEFAULT_MODEL_FILE


def agent_state(agent: DQNAgent, training: bool = False) -> dict[str, Any]:
    """The agent as a plain dict of tensors, numbers and strings (loadable with weights_only=True)."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "obs_dim": OBS_DIM,
        "song_dim": SONG_DIM,
        "n_songs": int(agent.n_songs or 0),
        "agent_config": json.dumps(asdict(agent.config)),
        "online": agent.online.state_dict(),
        "epsilon": float(agent.epsilon),
        "updates": int(agent.updates),
    }
    if training:
        out["target"] = agent.target.state_dict()
        out["optimizer"] = agent.optimizer.state_dict()
    return out


def save_agent(agent: DQNAgent, path: Path, metadata: dict[str, Any] | None = None, training: bool = False) -> None:
    """Write the network (and with `training`, the target and optimiser) atomically."""
    state = agent_state(agent, training)
    state["metadata"] = json.dumps(metadata or {}, default=str)

    def write(tmp: Path) -> None:
        # Through a handle, not the path: torch names the archive's root folder after a path,
        # and the temporary name is random, so the same weights would give different bytes.
        with open(tmp, "wb") as handle:
            torch.save(state, handle)
        os.chmod(tmp, 0o644)  # a model is not a secret; the temporary file starts private

    atomic_write(Path(path), write)


def read_state(path: Path) -> dict[str, Any]:
    """Read a saved agent file without unpickling code, or raise one clear sentence."""
    path = Path(path)
    if not path.is_file():
        raise TuiDjError(f"No model file at {path}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a foreign file's pickle protocol is refused below anyway
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError, zipfile.BadZipFile, RuntimeError, ValueError, TypeError, AttributeError,
            ImportError, KeyError, IndexError, MemoryError) as exc:
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({type(exc).__name__}).") from None
    except Exception as exc:  # pickle.UnpicklingError and friends from a crafted file
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({type(exc).__name__}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TuiDjError(f"{path} is not a tui-dj model.")
    if state.get("version") != FORMAT_VERSION:
        raise TuiDjError(f"{path} was saved by another version of tui-dj (format {state.get('version')}).")
    if state.get("obs_dim") != OBS_DIM or state.get("song_dim") != SONG_DIM:
        raise TuiDjError(f"{path} was trained with other inputs ({state.get('obs_dim')}/{state.get('song_dim')} "
                         f"instead of {OBS_DIM}/{SONG_DIM}); retrain it with `tui-dj train`.")
    return state


def load_agent(path: Path, n_songs: int | None = None, training: bool = False,
               seed: int = 0) -> tuple[DQNAgent, dict[str, Any]]:
    """Load a model saved by `DQNAgent.save`: (agent, metadata). Refuses anything else clearly."""
    path = Path(path)
    state = read_state(path)
    try:
        config = AgentConfig()
        update_from_mapping(config, json.loads(state["agent_config"]), "agent")
        metadata = json.loads(state.get("metadata", "{}"))
        saved_songs = int(state.get("n_songs", 0)) or None
    except (TypeError, ValueError, KeyError, TuiDjError) as exc:
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({exc}).") from None
    if config.network == "per-song" and n_songs is not None and saved_songs != n_songs:
        raise TuiDjError(f"{path} scores {saved_songs} songs, but this catalog has {n_songs}; "
                         "the per-song network only works on the catalog it was trained on.")
    agent = DQNAgent(config, n_songs=saved_songs, seed=seed)
    try:
        agent.online.load_state_dict(state["online"])
        agent.target.load_state_dict(state.get("target", state["online"]))
        if training and "optimizer" in state:
            agent.optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuiDjError(f"{path} holds a network of another shape ({first[:120]}).") from None
    agent.epsilon = float(state.get("epsilon", config.eps_end))
    agent.updates = int(state.get("updates", 0))
    return agent, metadata
