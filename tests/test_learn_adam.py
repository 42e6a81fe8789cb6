"""Our Adam matches torch.optim.Adam bit for bit, and its state survives a save and a load."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch

from tui_dj.learn.adam import Adam


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def _train(model: torch.nn.Module, optimizer: object, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = torch.randn(16, 5, generator=gen), torch.randn(16, 1, generator=gen)
        optimizer.zero_grad()  # type: ignore[attr-defined]
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()  # type: ignore[attr-defined]


def test_same_arithmetic_as_torch() -> None:
    ours, theirs = _net(), _net()
    _train(ours, Adam(ours.parameters(), lr=5e-4), 200)
    _train(theirs, torch.optim.Adam(theirs.parameters(), lr=5e-4), 200)
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True))


def test_state_round_trip_continues_identically() -> None:
    straight, resumed = _net(), _net()
    opt = Adam(straight.parameters(), lr=1e-3)
    _train(straight, opt, 50)
    saved_model, saved_state = copy.deepcopy(straight.state_dict()), opt.state_dict()
    _train(straight, opt, 50, seed=2)
    resumed.load_state_dict(saved_model)
    again = Adam(resumed.parameters(), lr=1e-3)
    again.load_state_dict(saved_state)
    _train(resumed, again, 50, seed=2)
    assert all(torch.equal(a, b) for a, b in zip(straight.parameters(), resumed.parameters(), strict=True))


def test_state_of_another_shape_is_refused() -> None:
    opt = Adam(_net().parameters(), lr=1e-3)
    other = Adam(torch.nn.Linear(3, 3).parameters(), lr=1e-3)
    with pytest.raises(ValueError, match="another shape"):
        opt.load_state_dict(other.state_dict())


def test_the_agent_does_not_import_dynamo() -> None:
    # torch.optim would import torch._dynamo: about 2 s and 76 MB before the first song.
    code = "import sys\nfrom tui_dj.learn.agent import DQNAgent\nDQNAgent().update(1)\nprint('torch._dynamo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
