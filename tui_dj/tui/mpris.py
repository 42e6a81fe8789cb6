"""MPRIS2 for the console: media keys, desktop widgets and `playerctl` drive it as its keys do.

Each D-Bus call becomes the `Requested` message a key posts (Next is the skip key, so the session
records a skip; PlayPause is space), and the app handles it on the same path. The service lives on
the console's asyncio loop (dbus-fast is asyncio-native) and looks at the console four times a
second for what to announce (PropertiesChanged, Seeked). The D-Bus side is in `mpris_service`;
this module starts and stops it, says what the console plays in MPRIS's terms, and takes its
calls to the console. Without
dbus-fast (the `mpris` extra) or without a session bus the console runs as before: one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui_dj.tui.messages import Requested

if TYPE_CHECKING:
    from textual.message import Message

    from tui_dj.playback.base import Player
    from tui_dj.session import SessionView

log = logging.getLogger("tui_dj.tui")

MPRIS_EXTRA = "pip install 'tui-dj[mpris]'"
WATCH_S = 0.25
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
# Names a folder's picture goes by (compared without case), the most usual first.
COVER_NAMES = ("cover", "folder", "front", "album", "albumart")
COVER_SUFFIXES = (".jpg", ".jpeg", ".png")


class Console(Protocol):
    """What the service needs of the app: what it shows, its player, and its message queue."""

    @property
    def view(self) -> SessionView | None: ...

    @property
    def paused(self) -> bool: ...

    @property
    def player(self) -> Player | None: ...

    def post_message(self, message: Message) -> bool: ...

    def action_quit(self) -> None: ...


@dataclass(frozen=True)
class Now:
    """The song playing as MPRIS describes it (`track_id` NO_TRACK when none plays)."""

    track_id: str = NO_TRACK
    status: str = "Stopped"  # Playing, Paused or Stopped
    title: str = ""
    artist: str = ""
    album: str = ""
    genres: tuple[str, ...] = ()
    length_us: int = 0
    path: str | None = None
    position_us: int = 0
    volume: float = 1.0
    can_seek: bool = False

    @property
    def playing(self) -> bool:
        return self.track_id != NO_TRACK


def now(console: Console) -> Now:
    """What `console` plays now."""
    view, player = console.view, console.player
    volume = player.volume / 100.0 if player is not None else 1.0
    song = view.now_playing if view is not None else None
    if view is None or song is None:
        return Now(volume=volume)
    position = player.position if player is not None else 0.0
    length = (player.duration if player is not None and player.duration else 0.0) or song.duration_ms / 1000.0
    return Now(
        # An object path names the play, not the song: the same song played twice is two tracks.
        track_id=f"/org/tui_dj/play/{view.play_number}",
        status="Paused" if console.paused else "Playing",
        title=song.name, artist=song.artist, album=song.album, genres=song.genres,
        length_us=int(length * 1_000_000), path=song.path,
        position_us=int(position * 1_000_000), volume=volume, can_seek=player is not None,
    )


def find_cover(path: str | None) -> bytes | Path | None:
    """The picture for the audio file `path`: the bytes embedded in it, else the file of a cover
    beside it, else None."""
    if not path:
        return None
    from tinytag import TinyTag

    try:
        image = TinyTag.get(path, image=True).images.any
    except Exception as exc:  # a tag parser meets untrusted bytes: no picture, never a crash
        log.info("no tags in %s: %s", path, exc)
        image = None
    if image is not None and image.data:
        return bytes(image.data)
    try:
        beside = {p.name.lower(): p for p in Path(path).parent.iterdir() if p.is_file()}
    except OSError:
        return None
    return next((beside[name + suffix] for name in COVER_NAMES for suffix in COVER_SUFFIXES
                 if name + suffix in beside), None)


class MediaKeys:
    """The MPRIS service of one console: `start` on its loop, `stop` when it goes. Off unless `on`
    (`tui-dj play` turns it on), so that an app in a test never shows up on a desktop's bus."""

    def __init__(self, console: Console, on: bool = True) -> None:
        self.console = console
        self.on = on
        self.bus_name: str | None = None  # once it is on the bus
        self._task: asyncio.Task[None] | None = None
        self._service: Any = None  # a mpris_service.MprisService once connected
        self._covers: Path | None = None  # a private folder for embedded pictures, made when needed
        self._stopped = False

    def start(self) -> None:
        if not self.on or self._stopped or self._task is not None:  # once, and never after stop
            return
        self._task = asyncio.get_running_loop().create_task(self._serve(), name="mpris")

    async def _serve(self) -> None:
        try:
            from tui_dj.tui.mpris_service import MprisService
        except ImportError:
            log.info("MPRIS is off: dbus-fast is not installed (%s).", MPRIS_EXTRA)
            return
        try:
            self._service = await MprisService.connect(self)
        except Exception as exc:  # no session bus, refused, a timeout: the console goes on without
            log.info("MPRIS is off: no session bus answered (%s).", " ".join(str(exc).split())[:160])
            return
        self.bus_name = self._service.bus_name
        log.info("MPRIS: on the session bus as %s.", self.bus_name)
        said = ""
        while True:
            await asyncio.sleep(WATCH_S)
            try:
                await self._service.announce()
            except Exception as exc:  # one bad announcement must not end the service
                if str(exc) != said:  # nor fill the log four times a second
                    log.exception("MPRIS: could not announce a change")
                said = str(exc)

    # What the D-Bus side asks of the console ------------------------------------------------------
    def now(self) -> Now:
        return now(self.console)

    def request(self, kind: str, ref: int | float | None = None) -> None:
        """What a key would ask (`Requested`), on the app's own path."""
        self.console.post_message(Requested(kind, ref))  # type: ignore[arg-type]

    def quit(self) -> None:
        self.console.action_quit()

    def cover(self, path: str | None) -> Path | None:
        """A file of the song's picture, for a URL: an embedded one is written once to a private
        folder (removed by `stop`)."""
        found = find_cover(path)
        if not isinstance(found, bytes):
            return found
        if self._stopped:
            return None
        try:
            if self._covers is None:
                import tempfile

                self._covers = Path(tempfile.mkdtemp(prefix="tui-dj-covers-"))
            import hashlib

            suffix = ".png" if found.startswith(b"\x89PNG") else ".jpg"
            written = self._covers / (hashlib.sha1(found).hexdigest()[:20] + suffix)
            if not written.exists():
                written.write_bytes(found)
        except OSError as exc:  # a full or read-only temporary folder: no art, and the song plays on
            log.info("could not keep the picture of %s: %s", path, exc)
            return None
        return written

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._service is not None:
            with contextlib.suppress(Exception):
                self._service.close()
        self._stopped = True  # no picture is written after this
        if self._covers is not None:
            shutil.rmtree(self._covers, ignore_errors=True)
