"""Settings: the original hyperparameters by default, TOML and flags on top, one clear sentence when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_dj.config import TrainConfig, from_dict, load_config, to_dict
from tui_dj.errors import TuiDjError


def test_defaults_are_the_original_design_but_the_discount_and_the_sessions() -> None:
    a = TrainConfig().agent
    assert (a.hidden, a.buffer_size, a.batch_size, a.lr, a.tau) == (128, 100_000, 64, 5e-4, 1e-3)
    assert (a.eps_start, a.eps_end, a.eps_decay) == (1.0, 0.01, 0.995)
    assert a.gamma == 0.7 and a.network == "features"
    assert (TrainConfig().episodes, TrainConfig().env.max_steps) == (500, 60)


def test_the_original_design_is_one_preset_away() -> None:
    from tui_dj.config import ORIGINAL

    config = load_config(None, ORIGINAL)
    assert (config.episodes, config.env.max_steps, config.env.reward) == (2000, 20, "similarity")
    assert (config.agent.network, config.agent.gamma) == ("per-song", 0.99)


def test_toml_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "dj.toml"
    path.write_text('episodes = 10\n[agent]\nlr = 0.001\ndouble = true\n[env]\nreward = "similarity"\n')
    config = load_config(path, {"agent.lr": 0.002, "seed": 3})
    assert config.episodes == 10
    assert config.agent.lr == 0.002
    assert config.agent.double is True
    assert config.env.reward == "similarity"
    assert config.seed == 3


def test_round_trip_through_dict() -> None:
    config = load_config(overrides={"agent.dueling": True})
    assert from_dict(to_dict(config)) == config


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"agent.batch_size": -1}, "agent.batch_size"),
        ({"agent.eps_start": 1.5}, "agent.eps_start"),
        ({"env.reward": "vibes"}, "env.reward"),
        ({"agent.lr": 0}, "agent.lr"),
        ({"agent.gamma": "high"}, "gamma"),
        ({"agent.hidden": 1.5}, "hidden"),
        ({"agent.batch_size": 200_000}, "agent.batch_size"),
        ({"agent.colour": 1}, "agent.colour"),
    ],
)
def test_nonsense_values_name_the_setting(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(TuiDjError) as err:
        load_config(overrides=overrides)
    message = str(err.value)
    assert named in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text",
    ["episodes = = 3", "[agent\nlr=1", "\x00\x01binary", "agent = 5"],
)
def test_malformed_config_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(TuiDjError) as err:
        load_config(path)
    assert "\n" not in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(TuiDjError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
