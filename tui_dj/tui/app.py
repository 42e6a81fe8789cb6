"""The DJ console app: keys become session calls on one worker thread; the screens show the views.

Every key that changes the session becomes an `Action` on a FIFO queue. A single long-lived thread
worker takes them one by one (so a burst of keys is handled in order and nothing is lost) and makes
the one session call the action stands for (`DISPATCH`); the view it returns is posted back as
`ActionDone`. The event loop never waits on torch. Every worker's failure, the session's and the
history and search loaders', lands in `on_worker_state_changed` or `ActionFailed`: a notification,
and the console goes on.
"""

from __future__ import annotations

import gc
import logging
import queue
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from tui_dj.errors import TuiDjError
from tui_dj.playback.base import FAILED, Player
from tui_dj.tui.fast_table import LiveTable
from tui_dj.tui.main_screen import MainScreen
from tui_dj.tui.messages import (
    Action,
    ActionDone,
    ActionFailed,
    ActionKind,
    Requested,
    SessionClosed,
)
from tui_dj.tui.screens import HelpScreen, HistoryScreen, SearchScreen

if TYPE_CHECKING:
    from tui_dj.session import Session, SessionView

log = logging.getLogger("tui_dj.tui")

TICK_S = 0.25
HISTORY_ROWS = 200
SEARCH_ROWS = 50

# One session call per action: the whole meaning of a key lives in the session.
DISPATCH: dict[str, Callable[[Session, Action], SessionView]] = {
    "start": lambda s, a: s.start(),
    "like": lambda s, a: s.react("like"),
    "skip": lambda s, a: s.react("skip"),
    "dislike": lambda s, a: s.react("dislike"),
    "undo": lambda s, a: s.undo(),
    "end": lambda s, a: s.song_ended(a.play_number),
    "move_on": lambda s, a: s.move_on(a.play_number),
    "play": lambda s, a: s.play(a.ref),  # type: ignore[arg-type]
    "enqueue": lambda s, a: s.enqueue(a.ref),  # type: ignore[arg-type]
    "forgive": lambda s, a: s.forgive(a.ref),  # type: ignore[arg-type]
}


class DJApp(App[str | None]):
    """The console.

    Give it an open session, or a function that opens one: then the first screen shows at once and
    the session (torch, the catalog, the model) opens in the worker while the user looks at it.
    The app's result is None, or the one sentence to print when it could not open or save.
    `autoplay=False` keeps the song clock still (tests, snapshots).
    """

    CSS_PATH = Path(__file__).with_name("dj.tcss")  # absolute: subclasses live elsewhere
    TITLE = "tui-dj"
    # ctrl+c quits from any screen as q does (saving first), instead of Textual's "press q" hint;
    # before a widget's own ctrl+c (the search box would copy).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", id="dj.quit_ctrl_c", show=False, priority=True,
                tooltip="Save and quit, from any screen"),
    ]

    def __init__(
        self,
        session: Session | Callable[[], Session],
        *,
        speed: float = 30.0,
        autoplay: bool = True,
        keymap: dict[str, str] | None = None,
        theme: str | None = None,
        freeze_gc: bool = False,
        player: Player | None = None,
        simulate: bool = False,
    ) -> None:
        super().__init__()
        if callable(session) and not hasattr(session, "react"):
            self._session: Session | None = None
            self._opener: Callable[[], Session] | None = session
        else:
            self._session, self._opener = session, None  # type: ignore[assignment]
        self.speed = max(0.5, float(speed))
        self.autoplay = autoplay
        # The player: given, or chosen when the catalog is known (a real one for songs with files
        # unless `simulate`; the simulated clock for the rest). `autoplay=False` plays nothing.
        self.player: Player | None = player
        self._simulate = simulate
        self._playing_number: int | None = None  # the play the player was given
        self.paused = False
        self.closed = False
        self._quitting = False
        self.view: SessionView | None = None
        self._actions: queue.Queue[Action | None] = queue.Queue()
        self._pending = 0
        self._ending_play: int | None = None
        self._timer: Timer | None = None
        self._user_keymap = dict(keymap or {})  # not `_keymap`: Textual's App has one of its own
        self._freeze_gc = freeze_gc
        if theme:
            self.theme = theme

    # -- lifecycle -----------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self._user_keymap:
            self.set_keymap(self._user_keymap)
        self.push_screen(MainScreen(self._user_keymap))
        self._session_worker()
        if self._opener is not None:
            self.submit_action("open")
        self.submit_action("start")
        if self.autoplay:
            self._timer = self.set_interval(TICK_S, self._tick)

    @classmethod
    def binding_ids(cls) -> set[str]:
        """The id of every binding of the console, its screens and tables: what keymap.toml names."""
        return {binding_id for keys in cls.binding_keys() for binding_id in keys}

    @classmethod
    def binding_keys(cls) -> list[dict[str, str]]:
        """Each screen's (and table's) `{binding id: its default keys}`."""
        return [{b.id: b.key for b in owner.BINDINGS if isinstance(b, Binding) and b.id}
                for owner in (cls, MainScreen, LiveTable, HelpScreen, HistoryScreen, SearchScreen)]

    def what_was_kept(self, data_dir: Path) -> str:
        """One line for the terminal once the console has closed: what was saved, and where."""
        if self._session is None:
            return "Quit before the DJ had opened; nothing was saved."
        profile = self._session.profile
        if self._session.read_only:
            return f"Profile {profile!r} was open in another tui-dj, so nothing was saved (read-only)."
        s = self._session.stats
        if s.likes + s.finishes + s.skips + s.dislikes == 0:
            return (f"Saved profile {profile!r} (its listening history; no reactions, so its model is as "
                    f"it was) in {data_dir}.")
        return f"Saved profile {profile!r} (its model and listening history) in {data_dir}."

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
        if self.player is not None:
            self.player.close()

    @property
    def progress(self) -> float:
        """The fraction of the song playing that has been heard."""
        player = self.player
        if player is None or self.view is None or self.view.now_playing is None or not player.duration:
            return 0.0
        return min(1.0, player.position / player.duration)

    # -- actions in, views out -------------------------------------------------------------------
    def submit_action(self, kind: ActionKind, ref: int | str | None = None, play_number: int | None = None) -> None:
        if self.closed:
            return
        self._pending += 1
        self._actions.put(Action(kind, ref, play_number))

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
                view = self._perform(action)
            except Exception as exc:  # every failure reaches the user as one notification
                log.exception("%s failed", action.kind)
                self.post_message(ActionFailed(action, _describe(exc)))
                continue
            if action.kind == "close":
                log.info("session worker: closed the session")
                self.post_message(SessionClosed())
                return
            self.post_message(ActionDone(action, view))

    def _perform(self, action: Action) -> SessionView | None:
        """Run one action against the session (in the worker thread)."""
        if action.kind == "open":
            assert self._opener is not None
            self._session = self._opener()
            return None
        if action.kind == "close":
            if self._session is not None:  # quit while still opening: nothing to save
                self._session.close()
            return None
        return DISPATCH[action.kind](self.session, action)

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        self._pending -= 1
        view = message.view
        if view is None:
            return
        self._tell(view)
        if self._pending == 0 or self.view is None:
            # With more keys already waiting, their views will redraw the screen anyway.
            self._show(view)
        if message.action.kind == "forgive":
            for screen in self.screen_stack:
                if isinstance(screen, HistoryScreen):
                    screen.reload()

    def _tell(self, view: SessionView) -> None:
        """What a view says once: a message, a replaced head, a warning that is new."""
        if view.message:
            self.notify(view.message, timeout=8 if view.out_of_songs else 4,
                        severity="warning" if view.out_of_songs else "information")
        if view.replaced is not None:
            self.notify(f"After the dislike, {view.replaced.name} is no longer next.", timeout=4)
        if view.warning and (self.view is None or view.warning != self.view.warning):
            self.notify(view.warning, title="carrying on", severity="warning", timeout=10)

    @on(ActionFailed)
    def _action_failed(self, message: ActionFailed) -> None:
        """The one place a failed session call lands: a notification, and the console goes on."""
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
        """Every worker's failure: the session worker is restarted, a loader's screen is told."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        error = _describe(worker.error)
        log.error("worker %s failed: %s", worker.name, error)
        if worker.name == "session":
            self.notify(error, title="session worker restarted", severity="error")
            self._session_worker()
            return
        self.notify(error, title=f"{worker.name} failed", severity="error")
        for screen in self.screen_stack:
            if getattr(screen, "group", None) == worker.group and hasattr(screen, "load_failed"):
                screen.load_failed(error)

    @on(Requested)
    def _requested(self, message: Requested) -> None:
        kind = message.kind
        if kind == "pause":
            self.toggle_pause()
        elif kind == "seek":
            if self.player is not None and self._playing_number is not None:
                self.player.seek(float(message.ref or 0), relative=True)
                self._show_progress()
        elif kind == "volume":
            if self.player is not None:
                self.player.set_volume(self.player.volume + int(message.ref or 0))
                self.notify(f"Volume {self.player.volume}%", timeout=1.5)
        elif kind in ("history", "search"):
            if not self.session_open:
                self.notify("The DJ is still opening the catalog; one moment.")
            elif kind == "history":
                self.push_screen(HistoryScreen(lambda: self.session.history(HISTORY_ROWS)))
            else:
                self.push_screen(SearchScreen(lambda query: self.session.search(query, SEARCH_ROWS)))
        else:
            self.submit_action(kind, message.ref)  # type: ignore[arg-type]

    # -- the screen and the song clock -----------------------------------------------------------
    def _show(self, view: SessionView) -> None:
        new_song = self.view is None or view.play_number != self.view.play_number
        if self.view is None and self._freeze_gc:
            # The catalog is millions of long-lived objects; a full collection walking them
            # would freeze the screen for a third of a second now and then.
            gc.collect()
            gc.freeze()
        if self.view is None:
            self._opened(view)
        if self.view is not None and self._freeze_gc:
            self.call_after_refresh(self._collect_if_due)
        self.view = view
        if new_song or view.now_playing is None:  # nothing plays (out of songs): the clock shows 0
            self._ending_play = None
            self._start_song(view)
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.show_view(view)
                self._show_progress(screen)

    def _start_song(self, view: SessionView) -> None:
        """Give the player the song that now plays (and the next one, for a gapless start)."""
        if not self.autoplay:
            return
        if self.player is None:
            self.player = self._open_player()
        playing = view.now_playing
        if playing is None:
            self.player.pause(True)
            self._playing_number = None
            return
        self._playing_number = view.play_number
        self.player.play(playing.path, playing.duration_ms / 1000.0)
        if self.paused:
            self.player.pause(True)
        upcoming = view.queue[0].track if view.queue else None
        if upcoming is not None and upcoming.path:
            self.player.preload(upcoming.path)

    def _open_player(self) -> Player:
        """A real player when the catalog's songs have files (unless told to simulate), else the clock."""
        from tui_dj.playback import SimulatedPlayer, open_player

        has_files = self._session is not None and "path" in self._session.catalog.tracks.columns \
            and bool(self._session.catalog.tracks["path"].notna().any())
        if not has_files:
            return SimulatedPlayer(self.speed)
        player, note = open_player("simulate" if self._simulate else "auto", song_seconds=self.speed)
        log.info("player: %s", note)
        self.notify(note, title="tui-dj", timeout=6)
        return player

    def _opened(self, view: SessionView) -> None:
        """The first view: say which model plays (in the stats panel too), and the session's notice."""
        model = self.model_description
        if model:
            self.notify(f"Playing with {model}.", title="tui-dj", timeout=6)
            for screen in self.screen_stack:
                if isinstance(screen, MainScreen):
                    screen.show_model(model)
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.show_catalog(self.session.catalog)  # the taste map's songs
        if view.notice:
            self.notify(view.notice, title="tui-dj", timeout=8)

    @property
    def model_description(self) -> str | None:
        """Which model the session plays with, in words (None while it opens)."""
        return self._session.model_description if self._session is not None else None

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
        if screen is None:
            screen = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
            if screen is None:
                return
        playing = self.view.now_playing if self.view else None
        player = self.player
        duration = (player.duration if player is not None and player.duration else 0.0) or \
            (playing.duration_ms / 1000.0 if playing else 0.0)
        screen.show_progress(self.progress if playing else 0.0, duration, self.paused)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.player is not None:
            self.player.pause(self.paused)
        self._show_progress()

    def _tick(self) -> None:
        """Four times a second: the player's position on screen, and what happened to the song."""
        view, player = self.view, self.player
        if view is None or player is None or self.closed:
            return
        for event in player.poll():
            if self._ending_play == self._playing_number or self._playing_number != view.play_number:
                continue  # this song's end is already on its way (or it is not the one on screen)
            self._ending_play = view.play_number
            if event.kind == FAILED:
                # The file is gone or broken: say so, log it, and go on without learning anything.
                log.warning("could not play %s: %s", event.path, event.reason)
                name = view.now_playing.name if view.now_playing else "the song"
                self.notify(f"{name} could not be played ({event.reason}); the next song starts.",
                            severity="warning", timeout=6)
                self.submit_action("move_on", play_number=view.play_number)
            else:
                self.submit_action("end", play_number=view.play_number)
        self._show_progress()


def _describe(exc: BaseException | None) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else "unknown error"
