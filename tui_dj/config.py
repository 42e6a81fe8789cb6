"""Every setting with its default in one place, loadable from TOML and checked with a clear message.

The defaults of `AgentConfig` are the original Spotify RL recommender's hyperparameters (2x128,
replay 100k, batch 64, lr 5e-4, tau 1e-3, epsilon 1.0 -> 0.01 x0.995) except the discount: 0.7
instead of 0.99, and sessions of 60 songs instead of 20. Both were measured on simulated listeners
apart from the evaluation's (0.99 learned a clearly worse agent in the same number of sessions).
`ORIGINAL` holds the original design whole (its similarity reward, one output per song, 2,000
sessions of 20 songs, 0.99), for `tui-dj train --original`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from tui_dj.errors import TuiDjError

RewardModel = Literal["listener", "similarity"]
NetworkKind = Literal["features", "per-song"]


@dataclass
class EnvConfig:
    reward: RewardModel = "listener"
    max_steps: int = 60  # songs in a session (the original design: 20)
    history: int = 5  # songs averaged into the "recent" part of the state, as in the original
    boredom: bool = True
    drift: bool = True
    quit: bool = True
    # Who the simulated people are: "mixture" draws each session's person from every listener
    # family (learn/families.py: habits and tastes the simulator lacks, as well as its own),
    # "simulator" only the simulator's people. `leave_out` names a family the mixture leaves out.
    population: Literal["mixture", "simulator"] = "mixture"
    leave_out: str = ""


@dataclass
class AgentConfig:
    network: NetworkKind = "features"
    hidden: int = 128  # two hidden layers of this width, as in the original
    buffer_size: int = 100_000
    batch_size: int = 64
    gamma: float = 0.7
    lr: float = 5e-4
    tau: float = 1e-3
    eps_start: float = 1.0
    eps_end: float = 0.01
    eps_decay: float = 0.995
    update_every: int = 4  # one gradient step every 4 environment steps, as in the original DQN
    double: bool = False
    dueling: bool = False
    candidates: int = 64  # songs scored per decision: near the taste, near the likes, elsewhere
    # The next state's best-scored candidates the target maximises over (the max is among them),
    # which keeps an update four times cheaper than bootstrapping over all 64.
    bootstrap: int = 16


@dataclass
class TrainConfig:
    episodes: int = 500
    seed: int = 0
    checkpoint_every: int = 250  # episodes between checkpoints
    threads: int = 1  # torch threads; one is fastest for this small network on a shared CPU
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)


# The original Spotify RL recommender, reproducible side by side with tui-dj's own defaults.
ORIGINAL: dict[str, Any] = {
    "episodes": 2000,
    "env.reward": "similarity",
    "env.max_steps": 20,
    "agent.network": "per-song",
    "agent.gamma": 0.99,
}


def _check_value(section: str, name: str, value: Any, expected: Any) -> Any:
    setting = f"{section}.{name}" if section else name
    origin = getattr(expected, "__origin__", None)
    if origin is Literal:
        allowed = get_args(expected)
        if value not in allowed:
            raise TuiDjError(f"Setting {setting} must be one of {', '.join(map(str, allowed))}, not {value!r}.")
        return value
    if expected is bool or expected == "bool":
        if not isinstance(value, bool):
            raise TuiDjError(f"Setting {setting} must be true or false, not {value!r}.")
        return value
    if expected is int or expected == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TuiDjError(f"Setting {setting} must be a whole number, not {value!r}.")
        return value
    if expected is float or expected == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TuiDjError(f"Setting {setting} must be a number, not {value!r}.")
        return float(value)
    return value


def _resolved_types(cls: type) -> dict[str, Any]:
    import typing

    return typing.get_type_hints(cls)


def update_from_mapping(obj: Any, values: dict[str, Any], section: str = "") -> None:
    """Set the fields of dataclass `obj` from `values`, checking names and types."""
    types = _resolved_types(type(obj))
    names = {f.name for f in fields(obj)}
    for key, value in values.items():
        name = key.replace("-", "_")
        where = f"{section}.{name}" if section else name
        if name not in names:
            raise TuiDjError(f"Unknown setting {where!r}; known ones are {', '.join(sorted(names))}.")
        current = getattr(obj, name)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise TuiDjError(f"Setting {where} must be a table of settings, not {value!r}.")
            update_from_mapping(current, value, where)
        else:
            setattr(obj, name, _check_value(section, name, value, types[name]))


def validate(config: TrainConfig) -> TrainConfig:
    """Reject values that cannot work, naming the setting."""
    a, e = config.agent, config.env
    positive = {
        "episodes": config.episodes,
        "checkpoint_every": config.checkpoint_every,
        "threads": config.threads,
        "env.max_steps": e.max_steps,
        "env.history": e.history,
        "agent.hidden": a.hidden,
        "agent.buffer_size": a.buffer_size,
        "agent.batch_size": a.batch_size,
        "agent.update_every": a.update_every,
        "agent.candidates": a.candidates,
        "agent.bootstrap": a.bootstrap,
    }
    for name, value in positive.items():
        if value <= 0:
            raise TuiDjError(f"Setting {name} must be positive, not {value}.")
    unit = {
        "agent.gamma": a.gamma,
        "agent.tau": a.tau,
        "agent.eps_start": a.eps_start,
        "agent.eps_end": a.eps_end,
        "agent.eps_decay": a.eps_decay,
    }
    for name, fraction in unit.items():
        if not 0.0 <= fraction <= 1.0:
            raise TuiDjError(f"Setting {name} must be between 0 and 1, not {fraction}.")
    if not 0 < a.lr < 1:
        raise TuiDjError(f"Setting agent.lr must be between 0 and 1, not {a.lr}.")
    if a.eps_end > a.eps_start:
        raise TuiDjError(f"Setting agent.eps_end ({a.eps_end}) must not exceed agent.eps_start ({a.eps_start}).")
    if a.batch_size > a.buffer_size:
        raise TuiDjError(f"Setting agent.batch_size ({a.batch_size}) must not exceed agent.buffer_size ({a.buffer_size}).")
    return config


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Defaults, then the TOML file at `path`, then `overrides` (dotted names, e.g. "agent.lr")."""
    config = TrainConfig()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TuiDjError(f"Config file {path} does not exist.") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise TuiDjError(f"Config file {path} is not valid TOML: {exc}.") from None
        except OSError as exc:
            raise TuiDjError(f"Cannot read config file {path}: {exc.strerror or exc}.") from None
        update_from_mapping(config, data)
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        nested: dict[str, Any] = {leaf: value}
        for parent in reversed(parents):
            nested = {parent: nested}
        update_from_mapping(config, nested)
    return validate(config)


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(data: dict[str, Any]) -> TrainConfig:
    config = TrainConfig()
    update_from_mapping(config, data)
    return validate(config)
