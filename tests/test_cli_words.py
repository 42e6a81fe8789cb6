"""The words the commands print say what they mean: the evaluation table explains its columns and
policies under it, and a catalog's size is said once."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from tui_dj.cli.render import catalog_label, evaluation_table


def _report(late: bool = True) -> dict[str, Any]:
    figure = {"mean": 0.5, "low": 0.4, "high": 0.6}
    metrics = ("return", "like_rate", "like_early", "skip_rate", "length", "quit_rate", "diversity", "normalised")
    entry = {m: figure for m in metrics} | {"coverage": 0.1} | ({"like_late": figure} if late else {})
    names = ("oracle", "dqn", "gp-ucb", "thompson", "linucb", "liked-mean", "diverse", "greedy", "popular", "random")
    return {"env": {"boredom": True, "drift": True, "quit": True, "max_steps": 60 if late else 20,
                    "reward": "listener"},
            "sessions": 10, "seeds": 2, "catalog": {"name": "built-in (3000 songs, seed 0)"},
            "policies": {n: entry for n in names}}


def _shown(report: dict[str, Any], wide: bool = False) -> str:
    console = Console(width=80, record=True, no_color=True)
    console.print(evaluation_table(report, wide=wide))
    return " ".join(console.export_text().split())


def test_the_evaluation_table_says_what_its_words_mean() -> None:
    text = _shown(_report())
    for words in ("return: a session's summed reward", "likes 21+: the share of songs 21 on that were liked",
                  "score: the return placed between random (0) and the oracle (1)",
                  "liked-mean: plays what is near the mean of the songs liked so far",
                  "thompson, linucb: linear bandits", "gp-ucb: a Gaussian-process bandit", "oracle: sees the listener's hidden taste"):
        assert words in text, text
    assert "likes 21+:" not in _shown(_report(late=False))  # no such column in sessions of 20 songs


def test_a_catalog_is_counted_once() -> None:
    assert catalog_label("built-in (3000 songs, seed 0)", 3000) == "built-in (3,000 songs, seed 0)"
    assert catalog_label("mine.csv", 1200) == "mine.csv (1,200 songs)"


def test_prep_replacing_the_built_in_catalog_counts_its_songs_once(csv_file, tmp_path) -> None:
    from tests.clirun import run_cli

    out = tmp_path / "out"
    assert run_cli("prep", "--out", out)[0] == 0
    code, _, stderr = run_cli("prep", csv_file("kaggle"), "--out", out)
    assert code == 0, stderr
    assert f"Replaced the catalog in {out} (built-in (3000 songs, seed 0));" in stderr, stderr
