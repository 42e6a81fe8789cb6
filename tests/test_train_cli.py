"""`tui-dj train`: files, repeatability, resume, and bad input refused in one sentence with nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tui_dj.catalog import builtin_catalog, save_catalog
from tui_dj.learn.model_file import load_agent

SMALL = """
checkpoint_every = 3
[agent]
hidden = 16
batch_size = 8
buffer_size = 500
candidates = 16
"""



@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("train")
    cat_a, cat_b = base / "a", base / "b"
    save_catalog(builtin_catalog(150, seed=1), cat_a)
    save_catalog(builtin_catalog(150, seed=2), cat_b)
    config = base / "small.toml"
    config.write_text(SMALL)
    return cat_a, cat_b, config


def _train(out: Path, setup: tuple[Path, Path, Path], *extra: str | Path) -> tuple[int, str, str]:
    cat_a, _, config = setup
    return run_cli("train", "--catalog", cat_a, "--config", config, "--out", out, "--no-chart", *extra)


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "logs" / "train.jsonl").read_text().splitlines()]


def _refused(code: int, stdout: str, stderr: str, *expected: str) -> None:
    assert code == 1, stdout + stderr
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith("tui-dj: "), stderr
    assert "Traceback" not in stdout + stderr
    for text in expected:
        assert text in lines[-1], lines[-1]


def test_train_writes_model_checkpoint_and_logs(tmp_path: Path, setup) -> None:
    code, stdout, stderr = _train(tmp_path / "run", setup, "--episodes", "6", "--seed", "3")
    assert code == 0, stderr
    out = tmp_path / "run"
    rows = _log(out)
    assert [r["episode"] for r in rows] == list(range(6))
    assert {"return", "mean_return_100", "epsilon", "loss", "steps_per_s"} <= set(rows[0])
    agent, meta = load_agent(out / "dqn.pt")
    assert meta["episodes"] == 6 and meta["catalog_fingerprint"]
    assert meta["train_config"]["seed"] == 3 and agent.config.hidden == 16
    assert (out / "dqn.checkpoint.pt").is_file()
    assert "Trained 6 sessions" in stderr


def test_same_seed_samerun_cli(tmp_path: Path, setup) -> None:
    for name in ("x", "y"):
        assert _train(tmp_path / name, setup, "--episodes", "5", "--seed", "7")[0] == 0
    strip = [{k: v for k, v in r.items() if k != "steps_per_s"} for r in _log(tmp_path / "x")]
    assert strip == [{k: v for k, v in r.items() if k != "steps_per_s"} for r in _log(tmp_path / "y")]


def test_resume_continues_from_the_checkpoint(tmp_path: Path, setup) -> None:
    out = tmp_path / "run"
    assert _train(out, setup, "--episodes", "3")[0] == 0
    code, _, stderr = _train(out, setup, "--resume", "--episodes", "7")
    assert code == 0, stderr
    assert [r["episode"] for r in _log(out)] == list(range(7))
    assert load_agent(out / "dqn.pt")[1]["episodes"] == 7


def test_an_existing_run_is_not_overwritten(tmp_path: Path, setup) -> None:
    out = tmp_path / "run"
    assert _train(out, setup, "--episodes", "3")[0] == 0
    before = (out / "dqn.checkpoint.pt").read_bytes()
    _refused(*_train(out, setup, "--episodes", "3"), "--resume")
    assert (out / "dqn.checkpoint.pt").read_bytes() == before


def test_resume_refuses_a_checkpoint_from_another_catalog(tmp_path: Path, setup) -> None:
    _, cat_b, config = setup
    out = tmp_path / "run"
    assert _train(out, setup, "--episodes", "3")[0] == 0
    before = (out / "dqn.checkpoint.pt").read_bytes()
    _refused(*run_cli("train", "--catalog", cat_b, "--config", config, "--out", out, "--resume", "--no-chart"),
             "another catalog")
    assert (out / "dqn.checkpoint.pt").read_bytes() == before


def test_resume_refuses_a_corrupt_checkpoint(tmp_path: Path, setup) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "dqn.checkpoint.pt").write_bytes(b"PK\x03\x04 not really a zip")
    _refused(*_train(out, setup, "--resume"), "damaged")
    assert (out / "dqn.checkpoint.pt").read_bytes() == b"PK\x03\x04 not really a zip"


def test_resume_with_nothing_to_resume(tmp_path: Path, setup) -> None:
    _refused(*_train(tmp_path / "empty", setup, "--resume"), "Nothing to resume")


def test_no_catalog_at_the_given_path(tmp_path: Path) -> None:
    _refused(*run_cli("train", "--catalog", tmp_path / "nowhere", "--out", tmp_path / "o"), "No catalog at")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flags,expected", [
    (("--lr", "-1"), "agent.lr"),
    (("--gamma", "2"), "agent.gamma"),
    (("--episodes", "0"), "episodes"),
    (("--batch-size", "0"), "agent.batch_size"),
    (("--network", "huge"), "agent.network"),
    (("--reward", "vibes"), "env.reward"),
    (("--lr", "nan"), "agent.lr"),
])
def test_nonsense_hyperparameters(tmp_path: Path, setup, flags: tuple[str, ...], expected: str) -> None:
    cat_a, _, _ = setup
    _refused(*run_cli("train", "--catalog", cat_a, "--out", tmp_path / "o", *flags), expected)
    assert not (tmp_path / "o").exists()


def test_a_config_file_with_an_unknown_setting(tmp_path: Path, setup) -> None:
    cat_a, _, _ = setup
    bad = tmp_path / "bad.toml"
    bad.write_text("[agent]\nlearning_rate = 0.1\n")
    _refused(*run_cli("train", "--catalog", cat_a, "--config", bad, "--out", tmp_path / "o"), "learning_rate")


def test_learning_curve_is_drawn(tmp_path: Path, setup) -> None:
    cat_a, _, config = setup
    code, _, stderr = run_cli("train", "--catalog", cat_a, "--config", config, "--out", tmp_path / "r", "--episodes", "4")
    assert code == 0
    assert "mean session return" in stderr


def test_ctrl_c_before_the_first_checkpoint_by_count_keeps_the_work_of_the_last_minute(
        tmp_path: Path, setup, monkeypatch: pytest.MonkeyPatch) -> None:
    # checkpoint_every is 3 here; a checkpoint by time (every 0 s for the test) comes after each session.
    import tui_dj.learn.train as training
    from tui_dj.config import load_config

    cat_a, _, config = setup
    monkeypatch.setattr(training, "CHECKPOINT_SECONDS", 0.0)

    def stop_after_two(p: training.Progress) -> None:
        if p.episode == 2:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        training.train(load_config(config), training.resolve_catalog(cat_a), out, episodes=6,
                       on_progress=stop_after_two)
    assert training.last_checkpoint(out) == 1  # the second session's checkpoint was not yet written
    code, _, stderr = _train(out, setup, "--resume")
    assert code == 0, stderr
    assert [r["episode"] for r in _log(out)] == list(range(6))


def test_resume_and_restart_together_are_refused(tmp_path: Path, setup) -> None:
    out = tmp_path / "run"
    assert _train(out, setup, "--episodes", "3")[0] == 0
    before = (out / "dqn.checkpoint.pt").read_bytes()
    _refused(*_train(out, setup, "--resume", "--restart"), "choose one")
    assert (out / "dqn.checkpoint.pt").read_bytes() == before


def test_leaving_out_a_family_that_does_not_exist_is_one_sentence(tmp_path: Path, setup) -> None:
    code, _, err = run_cli("train", "--builtin", "--leave-out", "nobody", "--out", tmp_path / "m")
    assert code == 1 and "There is no listener family 'nobody' to leave out" in err
    assert not (tmp_path / "m").exists()
