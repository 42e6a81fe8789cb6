"""The DJ console app: keys become session calls on one worker thread; the screens show the views.

Every key that changes the session becomes an `Action` on a FIFO queue. A single long-lived thread
worker takes them one by one (so a burst of keys is handled in order and nothing is lost) and makes
the one session call the action stands for (`DISPATCH`); the view it returns is posted back as
`ActionDone`. The event loop never waits on the session's work. Every worker's failure, the session's and the
history and search loaders', lands in `on_worker_state_changed` or `ActionFailed`: a notification,
and the console goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeGuard, get_args

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from tui_dj.errors import TuiDjError
from tui_dj.playback.base import FAILED, Player
from tui_dj.tui.deck import Deck
from tui_dj.tui.fast_table import LiveTable
from tui_dj.tui.gc_tuning import collect_if_due, freeze_what_is_loaded
from tui_dj.tui.main_screen import MainScreen
from tui_dj.tui.messages import (
    Action,
    ActionDone,
    ActionFailed,
    ActionKind,
    Requested,
    SessionClosed,
    SessionRequest,
)
from tui_dj.tui.mpris import MediaKeys
from tui_dj.tui.screens import HelpScreen, HistoryScreen, SearchScreen

if TYPE_CHECKING:
    from tui_dj.session import Session, SessionView

log = logging.getLogger("tui_dj.tui")

FIRST_FRAME_S = 1.0  # the longest the session waits for the first screen before opening
TICK_S = 0.25
HISTORY_ROWS = 200
SEARCH_ROWS = 50

SESSION_REQUESTS = frozenset(get_args(SessionRequest))


def _for_session(kind: str) -> TypeGuard[SessionRequest]:
    return kind in SESSION_REQUESTS


def _song(action: Action) -> int | str:
    if action.ref is None:
        raise TuiDjError(f"{action.kind} needs a song.")
    return action.ref


# One session call per action: the whole meaning of a key lives in the session. (Opening and
# closing the session are the worker's own.)
DISPATCH: dict[ActionKind, Callable[[Session, Action], SessionView]] = {
    "start": lambda s, a: s.start(),
    "like": lambda s, a: s.react("like"),
    "skip": lambda s, a: s.react("skip"),
    "dislike": lambda s, a: s.react("dislike"),
    "undo": lambda s, a: s.undo(),
    "finish": lambda s, a: s.song_finished(a.play_number),
    "move_on": lambda s, a: s.move_on(a.play_number),
    "play": lambda s, a: s.play(_song(a)),
    "enqueue": lambda s, a: s.enqueue(_song(a)),
    "forgive": lambda s, a: s.forgive(_song(a)),
}


class DJApp(App[str | None]):
    """The console.

    Give it an open session, or a function that opens one: then the first screen shows at once and
    the session (the catalog, the model) opens in the worker while the user looks at it.
    The app's result is None, or the one sentence to print when it could not open or save.
    `autoplay=False` keeps the song clock still (tests, snapshots). `loudness`: even loudness.
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
        speed: float | None = None,
        autoplay: bool = True,
        keymap: dict[str, str] | None = None,
        theme: str | None = None,
        freeze_gc: bool = False,
        player: Player | None = None,
        simulate: bool = False,
        loudness: bool = True,
        media_keys: bool = False,
    ) -> None:
        super().__init__()
        if callable(session) and not hasattr(session, "react"):
            self._session: Session | None = None
            self._opener: Callable[[], Session] | None = session
        else:
            self._session, self._opener = session, None  # type: ignore[assignment]
        self.autoplay = autoplay
        # The player: given, or chosen when the first song is known (a real one for songs with
        # files unless `simulate`; the simulated clock for the rest). `autoplay=False` plays nothing.
        self.deck = Deck(player, speed=None if speed is None else max(0.5, float(speed)), simulate=simulate,
                         loudness=loudness)
        self.main: MainScreen | None = None  # set when it mounts
        self.closed = False
        self._quitting = False
        self.view: SessionView | None = None
        self._actions: queue.Queue[Action | None] = queue.Queue()
        self._first_frame = threading.Event()  # the session opens once the first screen is drawn
        self._pending = 0
        self._ending_play: int | None = None
        self._told: tuple[str, float] | None = None  # the last message told, and when
        self._timer: Timer | None = None
        self._user_keymap = dict(keymap or {})  # not `_keymap`: Textual's App has one of its own
        self._freeze_gc = freeze_gc
        self._media_keys = MediaKeys(self, on=media_keys)  # MPRIS
        if theme:
            self.theme = theme

    # -- lifecycle -----------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self._user_keymap:
            self.set_keymap(self._user_keymap)
        # Opening the catalog is seconds of Python that would share the interpreter with drawing
        # the first screen: the worker waits for that frame (or FIRST_FRAME_S at most).
        self.main = MainScreen(self._user_keymap, on_drawn=self._first_frame.set)
        self.push_screen(self.main)
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
        self._media_keys.stop()
        self.deck.close()

    @property
    def player(self) -> Player | None:
        return self.deck.player

    @property
    def paused(self) -> bool:
        return self.deck.paused

    @property
    def progress(self) -> float:
        """The fraction of the song playing that has been heard."""
        return self.deck.progress

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
            self._first_frame.wait(FIRST_FRAME_S)
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
        if view is None or not self.is_running:  # not running: its screens are being taken down
            return
        self._tell(view)
        if self._pending == 0 or self.view is None:
            # With more keys already waiting, their views will redraw the screen anyway.
            self._show(view)
        if message.action.kind == "forgive" and isinstance(self.screen, HistoryScreen):
            self.screen.reload()

    def _tell(self, view: SessionView) -> None:
        """What a view says once: a message, a warning that is new."""
        if view.message and not self._told_lately(view.message):
            self.notify(view.message, timeout=8 if view.out_of_songs else 4,
                        severity="warning" if view.out_of_songs else "information")
        if view.warning and (self.view is None or view.warning != self.view.warning):
            self.notify(view.warning, title="carrying on", severity="warning", timeout=10)

    def _told_lately(self, message: str, within_s: float = 8.0) -> bool:
        """Whether this message was the last one told, less than `within_s` ago (it still shows:
        once out of songs, every key brings the same sentence)."""
        now = time.monotonic()
        told, self._told = self._told, (message, now)
        return told is not None and told[0] == message and now - told[1] < within_s

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
        if message.action.kind == "finish":
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
        """A session request goes to the worker (`DISPATCH`); the console's own are handled here."""
        kind = message.kind
        if _for_session(kind):
            self.submit_action(kind, message.ref)
            return
        match kind:
            case "pause":
                self.toggle_pause()
            case "seek":
                if not self.deck.seek(float(message.ref or 0)) and self.view is not None:
                    self.submit_action("skip")  # seeking out of the song is leaving it
                self._show_progress()
            case "volume":
                volume = self.deck.change_volume(int(message.ref or 0))
                if volume is not None and self.main is not None:
                    self.main.show_volume(volume)  # in place: a notice each press would pile up
            case "history" | "search" if not self.session_open:
                self.notify("The DJ is still opening the catalog; one moment.")
            case "history":
                self.push_screen(HistoryScreen(lambda: self.session.history(HISTORY_ROWS)))
            case "search":
                self.push_screen(SearchScreen(lambda query: self.session.search(query, SEARCH_ROWS)))

    # -- the screen and the song clock -----------------------------------------------------------
    def _show(self, view: SessionView) -> None:
        new_song = self.view is None or view.play_number != self.view.play_number
        if self.view is None and self._freeze_gc:
            freeze_what_is_loaded()
        if self.view is None:
            self._opened(view)
        if self.view is not None and self._freeze_gc:
            self.call_after_refresh(lambda: collect_if_due(self._pending))
        self.view = view
        if new_song or view.now_playing is None:  # nothing plays (out of songs): the clock shows 0
            self._ending_play = None
            if self.autoplay:
                note = self.deck.start(view)
                if note:
                    self.notify(note, title="tui-dj", timeout=6)
        if self.main is not None:
            self.main.show_view(view)
            self._show_progress()

    def _opened(self, view: SessionView) -> None:
        """The first view: say which model plays (in the stats panel too), and the session's notice."""
        model = self.model_description
        if model:
            self.notify(f"Playing with {model}.", title="tui-dj", timeout=6)
            if self.main is not None:
                self.main.show_model(model)
        if self.main is not None:
            self.main.show_catalog(self.session.catalog)  # the taste map's songs
        if view.notice:
            self.notify(view.notice, title="tui-dj", timeout=8)
        # Media keys once the first song is on screen: connecting imports a D-Bus library, which
        # would otherwise hold up the first frame.
        self.call_after_refresh(self._media_keys.start)

    @property
    def model_description(self) -> str | None:
        """Which model the session plays with, in words (None while it opens)."""
        return self._session.model_description if self._session is not None else None

    def _show_progress(self) -> None:
        if self.main is None:
            return
        playing = self.view.now_playing if self.view else None
        if playing is None:  # nothing plays: no song's length, and no "▶"
            self.main.show_progress(0.0, 0.0, self.paused, stopped=True)
            return
        self.main.show_progress(self.progress, self.deck.duration(playing.duration_ms / 1000.0), self.paused)

    def toggle_pause(self) -> None:
        self.deck.toggle_pause()
        self._show_progress()

    def _tick(self) -> None:
        """Four times a second: the player's position on screen, and what happened to the song."""
        view = self.view
        if view is None or self.player is None or self.closed or not self.is_running:
            return  # (not running: the console is closing, and its panels may already be gone)
        playing_number = self.deck.playing_number
        if view.now_playing is not None and self._ending_play != playing_number:  # not while it ends
            stalled = self.deck.check_stall(view.now_playing.duration_ms / 1000.0)
            if stalled:
                self.notify(stalled, title="no sound", severity="warning", timeout=10)
        for event in self.deck.poll():
            if self._ending_play == playing_number or playing_number != view.play_number:
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
                self.submit_action("finish", play_number=view.play_number)
        self._show_progress()


def _describe(exc: BaseException | None) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else "unknown error"
