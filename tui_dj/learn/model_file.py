"""A model file: the agent's network (and, for training, its target and optimiser) and metadata,
written atomically and read back without unpickling code. The bundled model is one of these.

The file is what `torch.save` writes; it is read without torch (`torch_format`), so the console
opens a model, plays it (`playing.PlayingAgent`) and saves it without ever importing torch.
Training's agent (`agent.DQNAgent`) is built from the same reading, and writes with torch."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_dj.atomic import atomic_write
from tui_dj.config import AgentConfig, update_from_mapping
from tui_dj.errors import TuiDjError
from tui_dj.learn import torch_format
from tui_dj.learn.playing import PlayingAgent
from tui_dj.learn.trace import OBS_DIM, SONG_DIM
from tui_dj.paths import PACKAGE_ASSETS

if TYPE_CHECKING:
    from tui_dj.learn.agent import DQNAgent

FORMAT = "tui-dj-dqn"
FORMAT_VERSION = 1
DEFAULT_MODEL_FILE = "default_model.pt"


def default_model_path() -> Path:
    """The small model trained on the built-in catalog that ships with the package."""
    return PACKAGE_ASSETS / DEFAULT_MODEL_FILE


def agent_state(agent: DQNAgent | PlayingAgent, training: bool = False) -> dict[str, Any]:
    """The agent as a plain dict of tensors (arrays, for a `PlayingAgent`), numbers and strings
    (loadable with weights_only=True)."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "obs_dim": OBS_DIM,
        "song_dim": SONG_DIM,
        "n_songs": int(agent.n_songs or 0),
        "agent_config": json.dumps(asdict(agent.config)),
        "online": agent.state_dict() if isinstance(agent, PlayingAgent) else agent.online.state_dict(),
        "epsilon": float(agent.epsilon),
        "updates": int(agent.updates),
    }
    if isinstance(agent, PlayingAgent):  # the output layer's person part, refit to this profile
        out["person"] = agent.person()
    if training and not isinstance(agent, PlayingAgent):
        out["target"] = agent.target.state_dict()
        out["optimizer"] = agent.optimizer.state_dict()
    return out


def save_agent(agent: DQNAgent | PlayingAgent, path: Path, metadata: dict[str, Any] | None = None,
               training: bool = False) -> None:
    """Write the network (and with `training`, the target and optimiser) atomically: with torch
    for training's agent, by hand (`torch_format`) for the console's."""
    state = agent_state(agent, training)
    state["metadata"] = json.dumps(metadata or {}, default=str)

    def write(tmp: Path) -> None:
        # Through a handle, not the path: torch names the archive's root folder after a path,
        # and the temporary name is random, so the same weights would give different bytes.
        with open(tmp, "wb") as handle:
            if isinstance(agent, PlayingAgent):
                torch_format.write(handle, state)
            else:
                import torch

                torch.save(state, handle)
        os.chmod(tmp, 0o644)  # a model is not a secret; the temporary file starts private

    atomic_write(Path(path), write)


def read_state(path: Path) -> dict[str, Any]:
    """Read a saved agent file (tensors as numpy arrays) without torch and without unpickling
    code, or raise one clear sentence."""
    path = Path(path)
    if not path.is_file():
        raise TuiDjError(f"No model file at {path}.")
    try:
        state = torch_format.read(path)
    except Exception as exc:  # a damaged zip, a refused pickle, or whatever else a crafted file raises
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({type(exc).__name__}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TuiDjError(f"{path} is not a tui-dj model.")
    if state.get("version") != FORMAT_VERSION:
        raise TuiDjError(f"{path} was saved by another version of tui-dj (format {state.get('version')}).")
    if state.get("obs_dim") != OBS_DIM or state.get("song_dim") != SONG_DIM:
        raise TuiDjError(f"{path} was trained with other inputs ({state.get('obs_dim')}/{state.get('song_dim')} "
                         f"instead of {OBS_DIM}/{SONG_DIM}); retrain it with `tui-dj train`.")
    return state


def _parts(state: dict[str, Any], path: Path) -> tuple[AgentConfig, dict[str, Any], int | None]:
    """(the agent's configuration, the file's metadata, the catalog size a per-song network needs)."""
    try:
        config = AgentConfig()
        update_from_mapping(config, json.loads(state["agent_config"]), "agent")
        metadata = json.loads(state.get("metadata", "{}"))
        saved_songs = int(state.get("n_songs", 0)) or None
        if not isinstance(state["online"], dict):
            raise TypeError("no network")
    except (TypeError, ValueError, KeyError, TuiDjError) as exc:
        raise TuiDjError(f"{path} is not a tui-dj model or is damaged ({exc}).") from None
    return config, metadata, saved_songs


def load_playing(path: Path) -> tuple[PlayingAgent | None, dict[str, Any]]:
    """The model at `path` as the console plays it, without torch: (agent, metadata); the agent is
    None for a network that learns by gradient steps while playing (load it with `load_agent`)."""
    path = Path(path)
    state = read_state(path)
    config, metadata, _ = _parts(state, path)
    if not PlayingAgent.plays(config):
        return None, metadata
    try:
        agent = PlayingAgent(config, state["online"], epsilon=float(state.get("epsilon", config.eps_end)),
                             updates=int(state.get("updates", 0)))
        if "person" in state:
            agent.set_person(state["person"])
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise TuiDjError(f"{path} holds a network of another shape ({str(exc)[:120]}).") from None
    return agent, metadata


def load_agent(path: Path, n_songs: int | None = None, training: bool = False,
               seed: int = 0) -> tuple[DQNAgent, dict[str, Any]]:
    """Load a model saved by `save_agent` as training's agent: (agent, metadata). Refuses anything
    else clearly."""
    from tui_dj.learn.agent import DQNAgent

    path = Path(path)
    state = _as_tensors(read_state(path))
    config, metadata, saved_songs = _parts(state, path)
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


def _as_tensors(value: Any) -> Any:
    """`value` with every numpy array in it (dicts, lists, tuples) made a torch tensor."""
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, dict):
        return type(value)((k, _as_tensors(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return type(value)(_as_tensors(v) for v in value)
    return value
