"""`tui-dj play`: open the session, run the console, close (and save) the session."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App

from tui_dj.errors import Interrupted, TuiDjError
from tui_dj.tui.app import DJApp

if TYPE_CHECKING:
    from tui_dj.session import Session


def run_console(
    *,
    catalog: Path | None,
    model: Path | None,
    profile: str,
    data_dir: Path | None,
    speed: float | None,
    theme: str | None,
    seed: int | None,
    simulate: bool = False,
    builtin: bool = False,
    loudness: bool = True,
    start: str | None = None,
) -> str:
    """Open the session, run the console, close (and save) the session.

    `start`: a song, an artist or a genre to begin with. Returns the line to print once the console has gone: what was saved, and where. Raises
    `TuiDjError` with one sentence when the session could not open or save, and `Interrupted`
    (saying what was kept) when a ctrl-c arrives as a signal rather than as a key.
    """
    from tui_dj.paths import data_dir as resolve_data_dir
    from tui_dj.paths import logs_dir
    from tui_dj.tui.keymap import KEYMAP_FILE, check_clashes, load_keymap

    # The console's network is tiny: more BLAS threads only spin on the cores the interface needs
    # to paint. For a network that loads torch, set before it is imported; the user's setting wins
    # (numpy's BLAS is limited to one thread when the session opens, whatever is set here).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    base = resolve_data_dir(data_dir)
    _log_to_file(logs_dir(base) / "console.log")
    keymap = load_keymap(base / KEYMAP_FILE, DJApp.binding_ids())
    check_clashes(base / KEYMAP_FILE, keymap, DJApp.binding_keys())
    if theme is not None:
        probe: App[None] = App()
        if theme not in probe.available_themes:
            names = ", ".join(sorted(probe.available_themes))
            raise TuiDjError(f"There is no theme {theme!r}; choose one of: {names}.")
    # What can be checked without torch is checked before the screen opens, so a typo is one
    # sentence on the terminal rather than a flash of the console.
    from tui_dj.session.checks import check_play_options

    catalog = check_play_options(catalog, model, profile, builtin)
    kwargs: dict[str, Any] = {"profile": profile, "data_dir": base, "seed": seed}
    if catalog is not None:
        kwargs["catalog"] = catalog
    if model is not None:
        kwargs["model"] = model

    def opener() -> Session:
        from tui_dj.session import open_session

        session = open_session(**kwargs)
        if start is not None:  # the first song: the one the person named (a song they chose)
            try:
                session.start(near=start)
            except BaseException:
                session.close()
                raise
        return session

    app = DJApp(opener, speed=speed, keymap=keymap, theme=theme, freeze_gc=True, simulate=simulate,
                loudness=loudness, media_keys=True)
    interrupted = False
    try:
        error = app.run()
    except KeyboardInterrupt:  # a SIGINT from outside; at the keyboard ctrl+c is a key (quit)
        error, interrupted = None, True
    finally:
        if app.session_open and not app.closed:
            app.session.close()
    if error:
        raise TuiDjError(error)
    said = app.what_was_kept(base)
    if interrupted:
        raise Interrupted(f"interrupted; {said[0].lower()}{said[1:]}")
    return said


def _log_to_file(path: Path) -> None:
    """Logs go to a file in the data folder; the screen belongs to the console."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
