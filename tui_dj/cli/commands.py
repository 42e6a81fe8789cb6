"""The commands of `tui-dj`, each a few lines: parse, call one function elsewhere, print."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tui_dj.cli import app
from tui_dj.errors import Interrupted, TuiDjError

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Data folder (default: $TUI_DJ_DATA_DIR, else the platform's).", show_default=False)]
CatalogOption = Annotated[Path | None, typer.Option("--catalog", help="A processed catalog folder (default: data/processed if it holds one, else the built-in catalog).", show_default=False)]
BuiltinOption = Annotated[bool, typer.Option("--builtin", help="Use the built-in catalog even if data/processed exists.")]
_REWARD_HELP = "Reward model: listener (a simulated person) or similarity (the original design)."
# The simulated listener's habits, switched off one by one or all together (train and evaluate).
NoBoredomOption = Annotated[bool, typer.Option("--no-boredom", help="The simulated listener never gets bored.")]
NoDriftOption = Annotated[bool, typer.Option("--no-drift", help="The listener's taste never drifts.")]
NoQuitOption = Annotated[bool, typer.Option("--no-quit", help="The listener never quits.")]
AllOffOption = Annotated[bool, typer.Option("--all-off", help="No boredom, no drift, no quitting.")]
PopulationOption = Annotated[str | None, typer.Option("--population", metavar="mixture|simulator", help="Who the simulated people are: drawn from every listener family (default), or only the simulator's own.", show_default=False)]


@app.command()
def prep(
    files: Annotated[list[Path] | None, typer.Argument(metavar="FILES", help="Spotify-format CSV files, music folders or audio files to import (none: the built-in catalog).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the processed catalog to.")] = Path("data/processed"),
    add: Annotated[bool, typer.Option("--add", help="Add the files to the catalog already in --out instead of replacing it.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With no files: replace an imported catalog with the built-in one.")] = False,
    synthetic: Annotated[int | None, typer.Option("--synthetic", help="Generate a built-in catalog of this many songs.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the built-in catalog generator.")] = 0,
    kaggle_csv: Annotated[Path | None, typer.Option("--write-kaggle-csv", help="Also write the generated songs as a Kaggle-format CSV here (for benchmarks).", show_default=False)] = None,
    features_from: Annotated[list[Path] | None, typer.Option("--features-from", help="A Spotify-features CSV (any file prep reads) to borrow a music folder's features from; repeatable.", show_default=False)] = None,
    data: DataDirOption = None,
) -> None:
    """Import song catalogs or music folders (or build the built-in one), clean and scale their features."""
    from tui_dj.catalog.prep import run_prep
    from tui_dj.cli.render import catalog_summary, import_progress, music_progress
    from tui_dj.paths import data_dir

    err = Console(stderr=True)
    try:
        with import_progress(err) as progress, music_progress(err) as on_music:
            result = run_prep(files or [], out=out, synthetic=synthetic, seed=seed, kaggle_csv=kaggle_csv,
                              force=force, add=add, on_progress=progress, features_from=features_from,
                              cache_dir=data_dir(data) / "music-cache", on_music=on_music)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; the catalog in {out} was not changed (the songs analysed so far "
                          "are cached: running the same prep again goes on from there).") from None
    Console().print(catalog_summary(result.catalog))
    for note in result.notes:
        err.print(note, soft_wrap=True)
    err.print(f"Saved the catalog to {result.out}", soft_wrap=True)


@app.command()
def history(
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Only this profile's sessions.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent sessions to show.", min=1)] = 20,
    data: DataDirOption = None,
) -> None:
    """Print recent listening sessions: songs played, likes, skips and reward."""
    from tui_dj.cli.render import sessions_table
    from tui_dj.paths import check_profile_name, data_dir
    from tui_dj.store import open_history

    folder = data_dir(data)
    if profile is not None:
        check_profile_name(profile)
    with open_history(folder) as store:
        rows = [] if store is None else store.sessions(profile, limit)
    Console().print(sessions_table(rows, f"profile {profile!r}" if profile else "all profiles", folder))


@app.command()
def export(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Whose liked songs to export.")] = "default",
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (Exportify-style, `tui-dj prep` reads it back) or m3u.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: standard output).", show_default=False)] = None,
    catalog: Annotated[Path | None, typer.Option("--catalog", help="Where a music folder's songs are found (default: data/processed if it holds a catalog).", show_default=False)] = None,
    data: DataDirOption = None,
) -> None:
    """Write a profile's liked songs as an Exportify-style CSV or an M3U playlist (a music folder's
    songs as their files)."""
    from tui_dj.paths import data_dir
    from tui_dj.store.export import export_liked

    text, count = export_liked(data_dir(data), profile, fmt.lower(), out, catalog)  # type: ignore[arg-type]
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
    catalog: CatalogOption = None,
    builtin: BuiltinOption = False,
    model: Annotated[Path | None, typer.Option("--model", help="A model to start from, e.g. models/dqn.pt from `tui-dj train` (default: the profile's own, else the bundled one).", show_default=False)] = None,
    profile: Annotated[str, typer.Option("--profile", "-p", help="Whose taste to learn; profiles never share what they learned.")] = "default",
    data_dir: DataDirOption = None,
    speed: Annotated[float | None, typer.Option("--speed", help="Seconds a whole simulated song takes (default: 30 for a song with no file; a music file on the clock, with --simulate or no sound, takes its own length).", min=0.5, show_default=False)] = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="Play even music files on the simulated clock, without sound.")] = False,
    theme: Annotated[str | None, typer.Option("--theme", help="A built-in Textual theme, e.g. nord, gruvbox, ansi-dark.", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the DJ's exploration.", show_default=False)] = None,
    loudness: Annotated[str, typer.Option("--loudness", metavar="on|off", help="on: each music file plays at an even loudness (-14 LUFS, from what prep measured); off: as recorded.")] = "on",
    start: Annotated[str | None, typer.Option("--start", help="Begin with a song, an artist or a genre (it counts as a song you chose).", show_default=False)] = None,
) -> None:
    """Open the DJ console: it plays, you react with keys, and it learns as you go."""
    from tui_dj.tui.console import run_console

    if loudness not in ("on", "off"):
        raise typer.BadParameter(f"{loudness!r} is neither on nor off.", param_hint="'--loudness'")

    kept = run_console(catalog=catalog, model=model, profile=profile, data_dir=data_dir,
                       speed=speed, theme=theme, seed=seed, simulate=simulate, builtin=builtin,
                       loudness=loudness == "on", start=start)
    typer.echo(kept, err=True)


def _env_overrides(reward: str | None, no_boredom: bool, no_drift: bool, no_quit: bool, all_off: bool) -> dict[str, object]:
    out: dict[str, object] = {"env.reward": reward}
    for name, off in (("boredom", no_boredom), ("drift", no_drift), ("quit", no_quit)):
        if off or all_off:
            out[f"env.{name}"] = False
    return out


@app.command()
def train(
    catalog: CatalogOption = None,
    builtin: BuiltinOption = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for dqn.pt, the checkpoint and logs/.")] = Path("models"),
    config: Annotated[Path | None, typer.Option("--config", help="A TOML file of settings (\\[agent], \\[env], episodes, seed).", show_default=False)] = None,
    episodes: Annotated[int | None, typer.Option("--episodes", help="Sessions to train on (default 500).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed: the same seed gives the same run (default 0).", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out from its last checkpoint (its own settings; --episodes may extend it).")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Start over in an --out that holds a run (finished or not), keeping nothing of it.")] = False,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate (default 5e-4).", show_default=False)] = None,
    gamma: Annotated[float | None, typer.Option("--gamma", help="Discount factor (default 0.7; the original's 0.99).", show_default=False)] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Replay batch size (default 64).", show_default=False)] = None,
    buffer_size: Annotated[int | None, typer.Option("--buffer-size", help="Replay capacity (default 100000).", show_default=False)] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", help="Width of the hidden layers (default 128).", show_default=False)] = None,
    tau: Annotated[float | None, typer.Option("--tau", help="Soft target update rate (default 1e-3).", show_default=False)] = None,
    eps_decay: Annotated[float | None, typer.Option("--eps-decay", help="ε decay per session (default 0.995).", show_default=False)] = None,
    update_every: Annotated[int | None, typer.Option("--update-every", help="Songs per gradient step (default 4).", show_default=False)] = None,
    network: Annotated[str | None, typer.Option("--network", help="features (scores songs by their features) or per-song (the original: one output per song).", show_default=False)] = None,
    double: Annotated[bool | None, typer.Option("--double/--no-double", help="Double DQN targets.", show_default=False)] = None,
    dueling: Annotated[bool | None, typer.Option("--dueling/--no-dueling", help="A dueling head (state value + advantage).", show_default=False)] = None,
    reward: Annotated[str | None, typer.Option("--reward", help=_REWARD_HELP, show_default=False)] = None,
    no_boredom: NoBoredomOption = False,
    no_drift: NoDriftOption = False,
    no_quit: NoQuitOption = False,
    all_off: AllOffOption = False,
    model_out: Annotated[Path | None, typer.Option("--model-out", help="Also write the final model to this file.", show_default=False)] = None,
    population: PopulationOption = None,
    leave_out: Annotated[str | None, typer.Option("--leave-out", metavar="FAMILY", help="A listener family the mixture leaves out (to test on it: evaluate --panel families).", show_default=False)] = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Draw the learning curve at the end.")] = True,
    original: Annotated[bool, typer.Option("--original", help="The original design whole: similarity reward, one output per song, 2,000 sessions of 20 songs, discount 0.99 (other flags still apply).")] = False,
) -> None:
    """Train the DQN on simulated listening sessions (checkpoints, JSON-lines logs, a learning curve)."""
    from tui_dj.cli.render import catalog_label, learning_curve, train_progress
    from tui_dj.config import ORIGINAL, load_config
    from tui_dj.learn.train import last_checkpoint, mean_returns, resolve_catalog
    from tui_dj.learn.train import train as run

    overrides = {**(ORIGINAL if original else {}), **{k: v for k, v in {
        "seed": seed, "agent.lr": lr, "agent.gamma": gamma, "agent.batch_size": batch_size,
        "agent.buffer_size": buffer_size, "agent.hidden": hidden, "agent.tau": tau,
        "agent.eps_decay": eps_decay, "agent.update_every": update_every, "agent.network": network,
        "agent.double": double, "agent.dueling": dueling, "episodes": episodes,
        "env.population": population, "env.leave_out": leave_out,
        **_env_overrides(reward, no_boredom, no_drift, no_quit, all_off),
    }.items() if v is not None}}
    settings = load_config(config, overrides)
    from tui_dj.learn.simulate import mixture

    mixture(settings.env)  # a family to leave out that does not exist: refused before anything changes
    songs = resolve_catalog(catalog, builtin, lean=True)
    err = Console(stderr=True)
    err.print(f"Catalog: {catalog_label(songs.name, len(songs))}, fingerprint {songs.fingerprint}")
    # Every command suggested below names this catalog and folder, so it works as typed.
    same = f"{_catalog_flag(catalog, builtin)} --out {shlex.quote(str(out))}"
    _check_run(out, resume, restart, same)
    start = (last_checkpoint(out) or 0) if resume else 0
    try:
        with train_progress(err, episodes or settings.episodes, start) as progress:
            result = run(settings, songs, out, resume=resume, model_out=model_out, episodes=episodes,
                         on_progress=progress)
    except KeyboardInterrupt:
        kept = last_checkpoint(out)
        if kept is None:
            raise Interrupted("interrupted before the first checkpoint; nothing was saved.") from None
        raise Interrupted(f"interrupted; the checkpoint after {kept:,} sessions is kept in {out}: "
                          f"`tui-dj train{same} --resume` continues it.") from None
    if resume and result.episodes == 0:
        err.print(f"The run in {out} is finished ({start:,} sessions): nothing to do; --resume with a larger "
                  f"--episodes extends it, and `tui-dj train{same} --restart` starts it over.", soft_wrap=True)
        return
    if chart and result.log_path is not None:
        err.print(learning_curve(mean_returns(result.log_path)))
    model = shlex.quote(str(result.model_path))
    err.print(f"Trained {result.episodes:,} sessions ({result.steps:,} songs) in {result.seconds:.1f} s; "
              f"model saved to {result.model_path}. Play with it: "
              f"`tui-dj play{_catalog_flag(catalog, builtin)} --model {model}`.", soft_wrap=True)


def _catalog_flag(catalog: Path | None, builtin: bool) -> str:
    """The option that picks, in a later command, the catalog this one used."""
    from tui_dj.catalog import chosen_catalog_dir

    if catalog is not None and not builtin:
        return f" --catalog {shlex.quote(str(catalog))}"
    # data/processed needs no option (it is every command's default); the built-in catalog does,
    # or a catalog imported into data/processed later would be taken instead.
    return " --builtin" if builtin or chosen_catalog_dir(None) is None else ""


def _check_run(out: Path, resume: bool, restart: bool, same: str) -> None:
    """A run already in `out` is continued (--resume), started over (--restart) or refused."""
    from tui_dj.errors import TuiDjError
    from tui_dj.learn.train import CHECKPOINT_FILE, forget_run, last_checkpoint, planned_sessions

    if resume and restart:
        raise TuiDjError("--resume continues the run in --out and --restart starts it over; choose one.")
    held = (out / CHECKPOINT_FILE).is_file()
    if restart:
        forget_run(out)
    elif held and not resume:
        done, planned = last_checkpoint(out), planned_sessions(out)
        state = f" ({done:,} of {planned:,} sessions)" if done is not None and planned else ""
        raise TuiDjError(f"{out} already holds a training run{state}; `tui-dj train{same} --resume` continues it, "
                         f"`tui-dj train{same} --restart` starts it over, or choose another --out.")


@app.command()
def evaluate(
    catalog: CatalogOption = None,
    builtin: BuiltinOption = False,
    model: Annotated[Path | None, typer.Option("--model", help="The trained model (default: models/dqn.pt if it exists, else the shipped default model).", show_default=False)] = None,
    sessions: Annotated[int, typer.Option("--sessions", help="Sessions per policy, spread over the seeds.")] = 1000,
    seeds: Annotated[int, typer.Option("--seeds", help="Evaluation seeds.")] = 5,
    reward: Annotated[str | None, typer.Option("--reward", help=_REWARD_HELP, show_default=False)] = None,
    no_boredom: NoBoredomOption = False,
    no_drift: NoDriftOption = False,
    no_quit: NoQuitOption = False,
    all_off: AllOffOption = False,
    population: PopulationOption = None,
    songs: Annotated[int | None, typer.Option("--songs", help="Songs per session (default 60).", show_default=False)] = None,
    wide: Annotated[bool, typer.Option("--wide", help="Every metric, not just the ones that fit 80 columns.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON here.", show_default=False)] = None,
    panel: Annotated[str | None, typer.Option("--panel", help="Instead: a listener panel through the session API, personas, playlists or families.", show_default=False)] = None,
    playlists: Annotated[Path | None, typer.Option("--playlists", help="For --panel playlists (and optionally families): the TidyTuesday spotify_songs.csv.", show_default=False)] = None,
    exportify: Annotated[Path | None, typer.Option("--exportify", help="For --panel playlists: an Exportify export to add as one more listener.", show_default=False)] = None,
    listeners: Annotated[int | None, typer.Option("--listeners", "--limit", help="Only the first N listeners of the panel (for families: N per family, default 8).", min=1, show_default=False)] = None,
    policies: Annotated[str | None, typer.Option("--policies", help="For --panel: the policies to run, comma-separated (default: all).", show_default=False)] = None,
    families: Annotated[str | None, typer.Option("--families", help="For --panel families: only these families, comma-separated (default: all).", show_default=False)] = None,
    split: Annotated[str, typer.Option("--split", metavar="report|dev", help="For --panel families: the people reported (report) or a development split of other people of the same families (dev), to tune settings on.")] = "report",
    leave_one_out: Annotated[Path | None, typer.Option("--leave-one-out", help="For --panel families: train a model without each family into this folder (reused when there) and test it on that family beside --model.", show_default=False)] = None,
    train_seeds: Annotated[str | None, typer.Option("--train-seeds", metavar="0-4|0,2,5", help="For --leave-one-out: with each of these training seeds, train a model on every family and one without each family, and compare like with like (instead of beside --model).", show_default=False)] = None,
) -> None:
    """Compare the trained DQN with every baseline over the same simulated listeners, or over a
    panel of personas, real playlists or listener families through the session API."""
    if panel is not None:
        _evaluate_panel(panel, catalog, builtin, model, playlists, exportify, listeners, policies, songs, json_out,
                        families, leave_one_out, split, train_seeds)
        return
    if train_seeds is not None:
        raise TuiDjError("--train-seeds goes with --panel families --leave-one-out.")
    from tui_dj.atomic import atomic_write_bytes
    from tui_dj.cli.render import (
        catalog_label,
        count_progress,
        evaluation_table,
        evaluation_verdict,
    )
    from tui_dj.config import load_config
    from tui_dj.learn.evaluate import evaluate as run
    from tui_dj.learn.model_file import load_agent
    from tui_dj.learn.train import default_model_for, resolve_catalog

    overrides = _env_overrides(reward, no_boredom, no_drift, no_quit, all_off)
    overrides["env.max_steps"] = songs
    overrides["env.population"] = population
    env = load_config(None, overrides).env
    cat = resolve_catalog(catalog, builtin)
    path = default_model_for(model)
    agent, _ = load_agent(path, n_songs=len(cat))  # refuses a bad file before any work
    err = Console(stderr=True)
    err.print(f"Model: {path}; catalog: {catalog_label(cat.name, len(cat))}", soft_wrap=True)
    try:
        with count_progress(err, "evaluating") as progress:
            report = run(cat, path, env, sessions=sessions, seeds=seeds, candidates=agent.config.candidates,
                         on_progress=progress)
    except KeyboardInterrupt:
        raise Interrupted("interrupted; nothing was written.") from None
    console = Console()
    console.print(evaluation_table(report, wide=wide))
    verdict = evaluation_verdict(report)
    if verdict:
        console.print(verdict)
    if json_out is not None:
        atomic_write_bytes(json_out, json.dumps(report, indent=2).encode())
        err.print(f"Wrote {json_out}")


def _evaluate_panel(panel: str, catalog: Path | None, builtin: bool, model: Path | None, playlists: Path | None,
                    exportify: Path | None, listeners: int | None, policies: str | None, songs: int | None,
                    json_out: Path | None, families: str | None = None, leave_one_out: Path | None = None,
                    split: str = "report", train_seeds: str | None = None) -> None:
    import tempfile

    from tui_dj.atomic import atomic_write_bytes
    from tui_dj.catalog import chosen_catalog_dir, save_catalog
    from tui_dj.cli.panel_tables import family_notes, family_tables, panel_notes, panel_table
    from tui_dj.cli.render import count_progress
    from tui_dj.errors import TuiDjError
    from tui_dj.learn.model_file import load_agent
    from tui_dj.learn.registry import ORDER, chosen
    from tui_dj.panels.families import PER_FAMILY, SPLITS, summarise_families
    from tui_dj.panels.run import POLICIES, SONGS, PanelSpec, run_panel, summarise

    names = chosen(policies, POLICIES if policies is None else ORDER)
    if train_seeds is not None and (panel != "families" or leave_one_out is None):
        raise TuiDjError("--train-seeds goes with --panel families --leave-one-out.")
    from tui_dj.cli.lofo import seed_list

    seeds = None if train_seeds is None else seed_list(train_seeds)
    if seeds is not None and model is not None:
        raise TuiDjError("--train-seeds trains the models it compares; leave out --model.")
    if model is not None:
        load_agent(model)  # a bad file is one sentence before any work
    err = Console(stderr=True)
    with tempfile.TemporaryDirectory() as tmp:
        if panel == "personas":
            where = None if builtin else chosen_catalog_dir(catalog)
            spec = PanelSpec("personas", None if where is None else str(where))
        elif panel == "families":
            if split not in SPLITS:
                raise TuiDjError(f"--split is report or dev, not {split!r}.")
            where = None if builtin else chosen_catalog_dir(catalog)
            if playlists is not None:
                from tui_dj.catalog.importer import import_files

                where = Path(tmp) / "catalog"
                save_catalog(import_files([playlists]), where)
            spec = PanelSpec("families", None if where is None else str(where),
                             None if playlists is None else str(playlists), per_family=listeners or PER_FAMILY,
                             families=None if families is None else _families(families), split=split)
            listeners = None  # already per family
            if leave_one_out is not None:
                from tui_dj.cli.lofo import run_leave_one_out

                run_leave_one_out(spec, model, leave_one_out, songs, json_out, err, seeds)
                return
        elif panel == "playlists":
            if playlists is None:
                raise TuiDjError("--panel playlists needs --playlists spotify_songs.csv (the TidyTuesday file).")
            from tui_dj.catalog.importer import import_files

            folder = Path(tmp) / "catalog"
            save_catalog(import_files([playlists]), folder)
            spec = PanelSpec("playlists", str(folder), str(playlists), None if exportify is None else str(exportify))
        else:
            raise TuiDjError(f"--panel is personas, playlists or families, not {panel!r}.")
        if panel != "families" and (families is not None or leave_one_out is not None or split != "report"):
            raise TuiDjError("--families, --split and --leave-one-out go with --panel families.")
        try:
            with count_progress(err, f"{panel} panel") as progress:
                results = run_panel(spec, names, None if model is None else str(model), listeners,
                                    songs or SONGS, on_progress=progress)
        except KeyboardInterrupt:
            raise Interrupted("interrupted; nothing was written.") from None
    console = Console()
    if panel == "families":
        summary = summarise_families(results, songs or SONGS)
        for table in family_tables(summary):
            console.print(table)
        lines = family_notes(summary)
    else:
        summary = summarise(results, songs or SONGS)
        count = max(e["listeners"] for e in summary["policies"].values())
        console.print(panel_table(summary, f"{panel}: {count} listeners × {summary['songs']} songs; "
                                           "median like rate [95% interval]"))
        lines = panel_notes(summary)
    for line in lines:
        console.print(line)
    if json_out is not None:
        atomic_write_bytes(json_out, json.dumps(summary, indent=2).encode())
        err.print(f"Wrote {json_out}")


def _families(names: str) -> tuple[str, ...]:
    from tui_dj.errors import TuiDjError
    from tui_dj.learn.families import FAMILIES

    chosen = tuple(n.strip() for n in names.split(",") if n.strip())
    unknown = [n for n in chosen if n not in FAMILIES]
    if unknown or not chosen:
        raise TuiDjError(f"There is no listener family {(unknown or [names])[0]!r}; the families are "
                         f"{', '.join(FAMILIES)}.")
    return chosen
