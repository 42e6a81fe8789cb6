"""The `tui-dj` command: thin Typer commands that parse options and call one function elsewhere.

Heavy modules (torch, textual, pandas) are imported inside the commands, so `tui-dj --help` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core

from tui_dj import __version__
from tui_dj.errors import TuiDjError


class _OneSentenceErrors(typer.core.TyperGroup):
    """Every command's `TuiDjError` becomes one sentence on stderr and exit 1, in one place."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except TuiDjError as exc:
            typer.echo(f"tui-dj: {exc}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="tui-dj",
    cls=_OneSentenceErrors,
    help="A terminal DJ that learns what you want to hear next.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear sentence on stderr and a non-zero exit, never a traceback."""
    typer.echo(f"tui-dj: {message}", err=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tui-dj {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """A terminal DJ that learns what you want to hear next."""


@app.command()
def prep(
    files: Annotated[list[Path] | None, typer.Argument(help="Spotify-format CSV files to import (none: the built-in catalog).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the processed catalog to.")] = Path("data/processed"),
    synthetic: Annotated[int | None, typer.Option("--synthetic", help="Generate a built-in catalog of this many songs.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the built-in catalog generator.")] = 0,
    kaggle_csv: Annotated[Path | None, typer.Option("--write-kaggle-csv", help="Also write the generated songs as a Kaggle-format CSV here (for benchmarks).", show_default=False)] = None,
) -> None:
    """Import song catalogs (or build the built-in one), clean and scale their features."""
    from tui_dj.catalog.prep import run_prep

    run_prep(files or [], out=out, synthetic=synthetic, seed=seed, kaggle_csv=kaggle_csv)


DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Data folder (default: $TUI_DJ_DATA_DIR, else the platform's).", show_default=False)]


@app.command()
def history(
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Only this profile's sessions.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent sessions to show.", min=1)] = 20,
    data: DataDirOption = None,
) -> None:
    """Print recent listening sessions: songs played, likes, skips and reward."""
    from rich.console import Console

    from tui_dj.store import history_table

    Console().print(history_table(data, profile, limit))


@app.command()
def export(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Whose liked songs to export.")] = "default",
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (Exportify-style, `tui-dj prep` reads it back) or m3u.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: standard output).", show_default=False)] = None,
    data: DataDirOption = None,
) -> None:
    """Write a profile's liked songs as an Exportify-style CSV or an M3U playlist."""
    from tui_dj.paths import data_dir
    from tui_dj.store import export_liked

    text, count = export_liked(data_dir(data), profile, fmt.lower(), out)  # type: ignore[arg-type]
    if out is None:
        sys.stdout.write(text)
    else:
        typer.echo(f"Wrote {count} liked songs of profile {profile!r} to {out}", err=True)


@app.command()
def locate(data: DataDirOption = None) -> None:
    """Print where tui-dj keeps the history, the profiles, the catalog and the models."""
    from tui_dj.store import locations

    for label, where in locations(data):
        typer.echo(f"{label:<16} {where}")


@app.command()
def play(
    catalog: Annotated[Path | None, typer.Option("--catalog", help="Processed catalog folder (default: data/processed if it holds one, else the built-in catalog).", show_default=False)] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model file to start from (default: the profile's own, else the bundled one).", show_default=False)] = None,
    profile: Annotated[str, typer.Option("--profile", "-p", help="Whose taste to learn; profiles never share what they learned.")] = "default",
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data folder (default: $TUI_DJ_DATA_DIR, else the platform's).", show_default=False)] = None,
    speed: Annotated[float, typer.Option("--speed", help="Seconds a whole (simulated) song takes.", min=0.5)] = 30.0,
    theme: Annotated[str | None, typer.Option("--theme", help="A built-in Textual theme, e.g. nord, gruvbox, ansi-dark.", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the DJ's exploration.", show_default=False)] = None,
) -> None:
    """Open the DJ console: it plays, you react with keys, and it learns as you go."""
    from tui_dj.tui.app import run_console

    error = run_console(catalog=catalog, model=model, profile=profile, data_dir=data_dir,
                        speed=speed, theme=theme, seed=seed)
    if error:
        fail(error)


def _env_overrides(reward: str | None, no_boredom: bool, no_drift: bool, no_quit: bool, all_off: bool) -> dict[str, object]:
    out: dict[str, object] = {"env.reward": reward}
    for name, off in (("boredom", no_boredom), ("drift", no_drift), ("quit", no_quit)):
        if off or all_off:
            out[f"env.{name}"] = False
    return out


_REWARD_HELP = "Reward model: listener (a simulated person) or similarity (the original design)."


@app.command()
def train(
    catalog: Annotated[Path | None, typer.Option("--catalog", help="A processed catalog folder (default: data/processed if it holds one, else the built-in catalog).", show_default=False)] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="Use the built-in catalog even if data/processed exists.")] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for dqn.pt, the checkpoint and logs/.")] = Path("models"),
    config: Annotated[Path | None, typer.Option("--config", help="A TOML file of settings (\\[agent], \\[env], episodes, seed).", show_default=False)] = None,
    episodes: Annotated[int | None, typer.Option("--episodes", help="Sessions to train on (default 2000).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed: the same seed gives the same run (default 0).", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out from its last checkpoint (its own settings; --episodes may extend it).")] = False,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate (default 5e-4).", show_default=False)] = None,
    gamma: Annotated[float | None, typer.Option("--gamma", help="Discount factor (default 0.99).", show_default=False)] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Replay batch size (default 64).", show_default=False)] = None,
    buffer_size: Annotated[int | None, typer.Option("--buffer-size", help="Replay capacity (default 100000).", show_default=False)] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", help="Width of the hidden layers (default 128).", show_default=False)] = None,
    tau: Annotated[float | None, typer.Option("--tau", help="Soft target update rate (default 1e-3).", show_default=False)] = None,
    eps_decay: Annotated[float | None, typer.Option("--eps-decay", help="ε decay per session (default 0.995).", show_default=False)] = None,
    update_every: Annotated[int | None, typer.Option("--update-every", help="Environment steps per gradient step (default 4).", show_default=False)] = None,
    network: Annotated[str | None, typer.Option("--network", help="features (scores songs by their features) or per-song (the original: one output per song).", show_default=False)] = None,
    double: Annotated[bool | None, typer.Option("--double/--no-double", help="Double DQN targets.", show_default=False)] = None,
    dueling: Annotated[bool | None, typer.Option("--dueling/--no-dueling", help="A dueling head (state value + advantage).", show_default=False)] = None,
    reward: Annotated[str | None, typer.Option("--reward", help=_REWARD_HELP, show_default=False)] = None,
    no_boredom: Annotated[bool, typer.Option("--no-boredom", help="The simulated listener never gets bored.")] = False,
    no_drift: Annotated[bool, typer.Option("--no-drift", help="The listener's taste never drifts.")] = False,
    no_quit: Annotated[bool, typer.Option("--no-quit", help="The listener never quits.")] = False,
    all_off: Annotated[bool, typer.Option("--all-off", help="No boredom, no drift, no quitting.")] = False,
    model_out: Annotated[Path | None, typer.Option("--model-out", help="Also write the final model to this file.", show_default=False)] = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Draw the learning curve at the end.")] = True,
) -> None:
    """Train the DQN on simulated listening sessions (checkpoints, JSON-lines logs, a learning curve)."""
    from tui_dj.config import load_config
    from tui_dj.learn.train import resolve_catalog, run_train

    overrides = {
        "seed": seed, "agent.lr": lr, "agent.gamma": gamma, "agent.batch_size": batch_size,
        "agent.buffer_size": buffer_size, "agent.hidden": hidden, "agent.tau": tau,
        "agent.eps_decay": eps_decay, "agent.update_every": update_every, "agent.network": network,
        "agent.double": double, "agent.dueling": dueling, "episodes": episodes,
        **_env_overrides(reward, no_boredom, no_drift, no_quit, all_off),
    }
    settings = load_config(config, overrides)
    run_train(settings, resolve_catalog(catalog, builtin), out, resume=resume, episodes=episodes,
              chart=chart, model_out=model_out)


@app.command()
def evaluate(
    catalog: Annotated[Path | None, typer.Option("--catalog", help="A processed catalog folder (default: data/processed if it holds one, else the built-in catalog).", show_default=False)] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="Use the built-in catalog even if data/processed exists.")] = False,
    model: Annotated[Path | None, typer.Option("--model", help="The trained model (default: models/dqn.pt if it exists, else the shipped default model).", show_default=False)] = None,
    sessions: Annotated[int, typer.Option("--sessions", help="Sessions per policy, spread over the seeds.")] = 1000,
    seeds: Annotated[int, typer.Option("--seeds", help="Evaluation seeds.")] = 5,
    reward: Annotated[str | None, typer.Option("--reward", help=_REWARD_HELP, show_default=False)] = None,
    no_boredom: Annotated[bool, typer.Option("--no-boredom", help="The simulated listener never gets bored.")] = False,
    no_drift: Annotated[bool, typer.Option("--no-drift", help="The listener's taste never drifts.")] = False,
    no_quit: Annotated[bool, typer.Option("--no-quit", help="The listener never quits.")] = False,
    all_off: Annotated[bool, typer.Option("--all-off", help="No boredom, no drift, no quitting.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = Path("evaluation.json"),
) -> None:
    """Compare the trained DQN with every baseline over the same seeded sessions."""
    from tui_dj.config import load_config
    from tui_dj.learn.evaluate import run_evaluate
    from tui_dj.learn.train import default_model_for, resolve_catalog

    env = load_config(None, _env_overrides(reward, no_boredom, no_drift, no_quit, all_off)).env
    run_evaluate(resolve_catalog(catalog, builtin), default_model_for(model), env, sessions, seeds, json_out)


def main() -> None:
    try:
        app()
    except TuiDjError as exc:
        typer.echo(f"tui-dj: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("tui-dj: interrupted; nothing already saved was changed.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
