"""`tui-dj evaluate`: every policy over the same sessions, intervals, normalised scores, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.clirun import run_cli
from tui_dj.catalog import builtin_catalog, save_catalog
from tui_dj.config import AgentConfig
from tui_dj.learn.agent import DQNAgent
from tui_dj.learn.evaluate import METRICS, session_seeds
from tui_dj.learn.model_file import save_agent


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("eval")
    save_catalog(builtin_catalog(200, seed=4), base / "cat")
    save_agent(DQNAgent(AgentConfig(hidden=16, candidates=16)), base / "m.pt")
    return base / "cat", base / "m.pt"


def test_sessions_are_spread_over_seeds() -> None:
    seeds = session_seeds(10, 5)
    assert len(seeds) == len(set(seeds.tolist())) == 10


def test_evaluate_reports_every_policy_with_intervals(tmp_path: Path, files) -> None:
    catalog, model = files
    out = tmp_path / "e.json"
    code, stdout, stderr = run_cli("evaluate", "--catalog", catalog, "--model", model, "--sessions", "12",
                                "--seeds", "2", "--json", out, columns=80)
    assert code == 0, stderr
    report = json.loads(out.read_text())
    names = set(report["policies"])
    assert names == {"random", "popular", "greedy", "diverse", "liked-mean", "liked-mean-diverse", "linucb",
                     "thompson", "gp-ucb", "dqn", "oracle"}
    for entry in report["policies"].values():
        for metric in METRICS:
            m = entry[metric]
            assert m["low"] <= m["mean"] + 1e-9 and m["mean"] <= m["high"] + 1e-9
        assert 0.0 < entry["coverage"] <= 1.0
    assert report["policies"]["random"]["normalised"]["mean"] == pytest.approx(0.0)
    assert report["policies"]["oracle"]["normalised"]["mean"] == pytest.approx(1.0)
    assert report["sessions"] == 12 and set(report["checks"]) == names - {"dqn", "oracle"}
    assert "dqn" in stdout and "oracle" in stdout
    assert all(len(line) <= 80 for line in stdout.splitlines()), stdout
    assert "…" not in stdout  # no label or figure cut short
    assert "{" not in stdout  # no JSON on the screen


def test_evaluate_writes_nothing_unasked_and_wide_shows_every_metric(tmp_path: Path, files,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, model = files
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_cli("evaluate", "--catalog", catalog, "--model", model, "--sessions", "4",
                                "--seeds", "1", "--wide")
    assert code == 0, stderr
    assert list(tmp_path.iterdir()) == []
    for label in ("like rate", "skip rate", "length", "diversity", "coverage"):
        assert label in stdout


def test_sessions_of_twenty_songs_report_no_like_rate_after_twenty(tmp_path: Path, files) -> None:
    catalog, model = files
    out = tmp_path / "e.json"
    code, _, stderr = run_cli("evaluate", "--catalog", catalog, "--model", model, "--sessions", "4", "--seeds", "1",
                              "--songs", "20", "--json", out)
    assert code == 0, stderr
    report = json.loads(out.read_text())
    assert report["env"]["max_steps"] == 20
    assert all("like_late" not in entry for entry in report["policies"].values())


@pytest.mark.parametrize("flags,env", [
    (("--reward", "similarity"), {"reward": "similarity"}),
    (("--all-off",), {"boredom": False, "drift": False, "quit": False}),
    (("--no-drift",), {"boredom": True, "drift": False, "quit": True}),
])
def test_reward_and_ablation_flags(tmp_path: Path, files, flags: tuple[str, ...], env: dict) -> None:
    catalog, model = files
    out = tmp_path / "e.json"
    code, _, stderr = run_cli("evaluate", "--catalog", catalog, "--model", model, "--sessions", "4", "--seeds", "1",
                           "--json", out, *flags)
    assert code == 0, stderr
    report = json.loads(out.read_text())
    for key, value in env.items():
        assert report["env"][key] == value
    if env.get("reward") == "similarity":
        assert report["policies"]["oracle"]["length"]["mean"] == 60
        assert np.isclose(report["policies"]["oracle"]["return"]["mean"], 30, atol=1.5)


def test_evaluate_refuses_a_corrupt_model(tmp_path: Path, files) -> None:
    catalog, _ = files
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x04garbage")
    code, _, stderr = run_cli("evaluate", "--catalog", catalog, "--model", bad, "--json", tmp_path / "e.json")
    assert code == 1 and stderr.strip().startswith("tui-dj: ") and "Traceback" not in stderr
    assert not (tmp_path / "e.json").exists()


def test_evaluate_refuses_too_few_sessions(tmp_path: Path, files) -> None:
    catalog, model = files
    code, _, stderr = run_cli("evaluate", "--catalog", catalog, "--model", model, "--sessions", "1")
    assert code == 1 and "at least 2 sessions" in stderr
