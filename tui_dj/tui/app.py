"""The DJ console app: one worker thread runs the session's calls in key order; the screens show.

Every key that changes the session becomes an `Action` on a FIFO queue. A single long-lived thread
worker takes them one by one (so a burst of keys is handled in order and nothing is lost), calls the
session, reads back the queue, Q-table, taste and stats, and posts one `ActionDone` message. The
event loop never waits on torch. A failing action becomes an `ActionFailed` message, shown as a
notification by one handler.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from tui_dj.catalog import FEATURES
from tui_dj.errors import TuiDjError
from tui_dj.tui.messages import (
    Action,
    ActionDone,
    ActionFailed,
    ActionKind,
    SessionClosed,
    SessionView,
    TasteRow,
)

if TYPE_CHECKING:
    from tui_dj.session import Session

log = logging.getLogger("tui_dj.tui")

QUEUE_ROWS = 15
Q_ROWS = 15
TICK_S = 0.25


class DJApp(App[str | None]):
    """The console.

    Give it an open session, or a function that opens one: then the first screen shows at once and
    the session (torch, the catalog, the model) opens in the worker while the user looks at it.
    The app's result is None, or the one sentence to print when it could not open or save.
    `autoplay=False` keeps the song clock still (tests, snapshots).
    """

    CSS_PATH = Path(__file__).with_name("dj.tcss")  # absolute: subclasses live elsewhere
    TITLE = "tui-dj"

    def __init__(
        self,
        session: Session | Callable[[], Session],
        *,
        speed: float = 30.0,
        autoplay: bool = True,
        keymap: dict[str, str] | None = None,
        theme: str | None = None,
        freeze_gc: bool = False,
    ) -> None:
        super().__init__()
        if hasattr(session, "next_track"):
            self._session: Session | None = session  # type: ignore[assignment]
            self._opener: Callable[[], Session] | None = None
        else:
            self._session, self._opener = None, session  # type: ignore[assignment]
        self.speed = max(0.5, float(speed))
        self.autoplay = autoplay
        self.paused = False
        self.closed = False
        self._quitting = False
        self.view: SessionView | None = None
        self.progress = 0.0  # fraction of the current song heard
        self._actions: queue.Queue[Action | None] = queue.Queue()
        self._pending = 0
        self._ending_play: int | None = None
        self._rated: tuple[int, str] | None = None  # (play number, event) of the current song
        self._timer: Timer | None = None
        self._keymap = dict(keymap or {})
        self._freeze_gc = freeze_gc
        if theme:
            self.theme = theme

    # -- lifecycle -----------------------------------------------------------------------------
    def on_mount(self) -> None:
        from tui_dj.tui.main_screen import MainScreen

        if self._keymap:
            self.set_keymap(self._keymap)
        self.push_screen(MainScreen())
        self._session_worker()
        if self._opener is not None:
            self.submit_action("open")
        self.submit_action("start")
        if self.autoplay:
            self._timer = self.set_interval(TICK_S, self._tick)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise TuiDjError("The session is still opening.")
        return self._session

    @property
    def session_open(self) -> bool:
        return self._session is not None

    @property
    def pending(self) -> int:
        """Actions sent to the worker whose result has not reached the screen yet."""
        return self._pending

    def action_quit(self) -> None:  # type: ignore[override]
        """Quit by closing (and saving) the session after every key already pressed."""
        if self.closed or self._quitting:
            return
        self._quitting = True
        self.submit_action("close")

    def on_unmount(self) -> None:
        self._actions.put(None)

    # -- actions in, results out ---------------------------------------------------------------
    def submit_action(self, kind: ActionKind, ref: int | str | None = None,
                      play_number: int | None = None) -> None:
        if self.closed:
            return
        self._pending += 1
        self._actions.put(Action(kind, ref, play_number))

    def submit_feedback(self, event: str) -> None:
        if event in ("like", "skip", "dislike"):
            self.submit_action(event)  # type: ignore[arg-type]

    @work(thread=True, exclusive=True, group="session", exit_on_error=False, name="session")
    def _session_worker(self) -> None:
        worker = get_current_worker()
        log.info("session worker: start")
        while not worker.is_cancelled:
            try:
                action = self._actions.get(timeout=0.5)
            except queue.Empty:
                continue
            if action is None:
                log.info("session worker: stop")
                return
            try:
                feedback = self._perform(action)
            except Exception as exc:  # every failure reaches the user as one notification
                log.exception("%s failed", action.kind)
                self.post_message(ActionFailed(action, _describe(exc)))
                continue
            if action.kind == "close":
                log.info("session worker: closed the session")
                self.post_message(SessionClosed())
                return
            # When more keys are already waiting, their result will redraw the screen anyway.
            view = self._read_view() if self._actions.empty() else None
            self.post_message(ActionDone(action, view, feedback))

    def _perform(self, action: Action) -> Any:
        """Run one action against the session (in the worker thread)."""
        kind = action.kind
        if kind == "open":
            assert self._opener is not None
            self._session = self._opener()
            return None
        if kind == "close" and self._session is None:
            return None  # quit while still opening: nothing to save
        s = self.session
        if kind == "start":
            if s.current is None:
                s.next_track()
            return None
        if kind == "close":
            s.close()
            return None
        if kind == "play":
            assert action.ref is not None
            s.play(action.ref)
            self._rated = None
            return None
        if kind == "enqueue":
            assert action.ref is not None
            s.enqueue(action.ref)
            return None
        plays = s.stats.plays
        if kind == "undo":
            undone = s.undo()
            if undone is not None and s.current is not None and self._rated is not None \
                    and undone.track.track_id == s.current.track_id:
                self._rated = None
            return undone
        if kind == "end":
            if action.play_number != plays:
                return None  # the song was skipped or replaced before its end arrived
            feedback = None
            if self._rated is None or self._rated[0] != plays:
                feedback = s.feedback("finish")
            s.next_track()
            self._rated = None
            return feedback
        if kind == "skip" and self._rated == (plays, "like"):
            # "Next, please" after a like: the like stands (a skip would replace it).
            s.next_track()
            self._rated = None
            return None
        feedback = s.feedback(kind)
        if kind == "like":
            self._rated = (plays, "like")
        else:
            s.next_track()
            self._rated = None
        return feedback

    def _read_view(self) -> SessionView:
        s = self.session
        stats = s.stats
        taste = s.taste
        scaled = s.taste_scaled
        rated = self._rated[1] if self._rated and self._rated[0] == stats.plays else None
        return SessionView(
            current=s.current,
            play_number=stats.plays,
            rated=rated,
            queue=tuple(s.queue(QUEUE_ROWS)),
            q_rows=tuple(s.q_table(Q_ROWS)),
            taste=tuple(
                TasteRow(name, float(taste[name]), float(scaled[i])) for i, name in enumerate(FEATURES)
            ),
            stats=stats,
            notice=getattr(s, "notice", None),
            warning=getattr(s, "warning", None),
            read_only=bool(getattr(s, "read_only", False)),
        )

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        if message.view is not None:
            self._show(message.view)
        self._pending -= 1

    @on(ActionFailed)
    def _action_failed(self, message: ActionFailed) -> None:
        """The one place failures land: a notification, and the console goes on."""
        self._pending -= 1
        if message.action.kind == "close":
            self.closed = True
            self.exit(f"could not save the session: {message.error}")
            return
        if message.action.kind == "open":
            self.closed = True
            self.exit(message.error)
            return
        if message.action.kind == "end":
            self._ending_play = None
        self.notify(message.error, title=f"{message.action.kind} failed", severity="error")

    @on(SessionClosed)
    def _session_closed(self) -> None:
        self._pending -= 1
        self.closed = True
        self.exit(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "session" and event.state == WorkerState.ERROR:
            log.error("session worker died: %s", event.worker.error)
            self.notify(_describe(event.worker.error), title="session worker restarted",
                        severity="error")
            self._session_worker()

    # -- the song clock ------------------------------------------------------------------------
    def _show(self, view: SessionView) -> None:
        from tui_dj.tui.main_screen import MainScreen

        new_song = self.view is None or view.play_number != self.view.play_number
        if self.view is None and self._freeze_gc:
            # The catalog is millions of long-lived objects; a full collection walking them
            # would freeze the screen for a third of a second now and then.
            gc.collect()
            gc.freeze()
        if self.view is None and view.notice:
            self.notify(view.notice, title="tui-dj", timeout=8)
        if view.warning and (self.view is None or view.warning != self.view.warning):
            self.notify(view.warning, title="carrying on", severity="warning", timeout=10)
        if self.view is not None and self._freeze_gc:
            self.call_after_refresh(self._collect_if_due)
        self.view = view
        if new_song:
            self.progress = 0.0
            self._ending_play = None
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.show_view(view)
                self._show_progress(screen)

    def _collect_if_due(self) -> None:
        """Run the oldest generation's collection now, just after a repaint, if it is nearly due.

        Left to itself it comes every few keys and, walking the app's and the session's objects,
        takes 10-20 ms that would land inside the next key's response; the person is reading the
        screen now.
        """
        # Half-way: one key's torch work alone can run several younger collections.
        if self._pending == 0 and gc.isenabled() and gc.get_count()[2] >= gc.get_threshold()[2] // 2:
            gc.collect()

    def _show_progress(self, screen: Any = None) -> None:
        from tui_dj.tui.main_screen import MainScreen

        if screen is None:
            screen = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
            if screen is None:
                return
        duration = (self.view.current.duration_ms / 1000.0) if self.view and self.view.current else 0.0
        screen.show_progress(self.progress, duration, self.paused)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._show_progress()

    def _tick(self) -> None:
        if self.paused or self.view is None or self.view.current is None or self.closed:
            return
        if self._ending_play == self.view.play_number:
            return
        self.progress = min(1.0, self.progress + TICK_S / self.speed)
        self._show_progress()
        if self.progress >= 1.0:
            self._ending_play = self.view.play_number
            self.submit_action("end", play_number=self.view.play_number)


def _describe(exc: BaseException | None) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else "unknown error"


def run_console(
    *,
    catalog: Path | None,
    model: Path | None,
    profile: str,
    data_dir: Path | None,
    speed: float,
    theme: str | None,
    seed: int | None,
) -> str | None:
    """Open the session, run the console, close the session; returns an error sentence or None."""
    from tui_dj.paths import data_dir as resolve_data_dir
    from tui_dj.paths import logs_dir
    from tui_dj.tui.keymap import KEYMAP_FILE, load_keymap

    # The console's network steps are tiny (a batch of 64): more BLAS threads only spin on the
    # cores the interface needs to paint. Set before torch is imported; the user's setting wins.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    base = resolve_data_dir(data_dir)
    _log_to_file(logs_dir(base) / "console.log")
    keymap = load_keymap(base / KEYMAP_FILE)
    if theme is not None:
        probe: App[None] = App()
        if theme not in probe.available_themes:
            names = ", ".join(sorted(probe.available_themes))
            raise TuiDjError(f"There is no theme {theme!r}; choose one of: {names}.")
    # What can be checked without torch is checked before the screen opens, so a typo is one
    # sentence on the terminal rather than a flash of the console.
    from tui_dj.catalog import chosen_catalog_dir, is_catalog_dir, load_catalog
    from tui_dj.paths import check_profile_name

    check_profile_name(profile)
    catalog = chosen_catalog_dir(catalog)
    if catalog is not None and not is_catalog_dir(catalog):
        load_catalog(catalog)  # raises the sentence that says why it is not one
    if model is not None and not Path(model).is_file():
        raise TuiDjError(f"There is no model file at {model}; leave out --model to use the bundled one.")
    kwargs: dict[str, Any] = {"profile": profile, "data_dir": base, "seed": seed}
    if catalog is not None:
        kwargs["catalog"] = catalog
    if model is not None:
        kwargs["model"] = model

    def opener() -> Session:
        from tui_dj import open_session

        return open_session(**kwargs)

    app = DJApp(opener, speed=speed, keymap=keymap, theme=theme, freeze_gc=True)
    try:
        result = app.run()
    finally:
        if app.session_open and not app.closed:
            app.session.close()
    return result


def _log_to_file(path: Path) -> None:
    """Logs go to a file in the data folder; the screen belongs to the console."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
