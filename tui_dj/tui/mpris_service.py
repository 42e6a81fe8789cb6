"""The D-Bus side of MPRIS (dbus-fast): the two interfaces a media player offers on
/org/mpris/MediaPlayer2. Every call is handed to `mpris.MediaKeys`, which asks the console; every
property is read from what the console plays now. Imported only where dbus-fast is installed.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Annotated, Any

from dbus_fast import NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusDict,
    DBusDouble,
    DBusInt64,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
)
from dbus_fast.constants import ErrorType, PropertyAccess
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

if TYPE_CHECKING:
    from tui_dj.tui.mpris import MediaKeys, Now

BUS_NAME = "org.mpris.MediaPlayer2.tui_dj"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
CONNECT_TIMEOUT_S = 5.0
READ = PropertyAccess.READ
DBusStrings = Annotated[list[str], DBusSignature("as")]


def metadata(now: Now, art: str = "") -> dict[str, Variant]:
    """MPRIS's Metadata map of `now` (only the track id when nothing plays)."""
    if not now.playing:
        return {"mpris:trackid": Variant("o", now.track_id)}
    found = {
        "mpris:trackid": Variant("o", now.track_id),
        "mpris:length": Variant("x", now.length_us),
        "xesam:title": Variant("s", now.title),
        "xesam:artist": Variant("as", [now.artist] if now.artist else []),
        "xesam:album": Variant("s", now.album),
        "xesam:genre": Variant("as", list(now.genres)),
    }
    if now.path:
        found["xesam:url"] = Variant("s", _file_url(now.path))
    if art:
        found["mpris:artUrl"] = Variant("s", art)
    return found


def _file_url(path: str) -> str:
    from pathlib import Path

    return Path(path).absolute().as_uri()


class SeekWatch:
    """Tells a seek from the song's own progress: a position more than a second away from where
    the pace of the last readings would have put it. (A simulated song's clock runs fast, so the
    pace is measured rather than assumed.)"""

    def __init__(self) -> None:
        self._track: str | None = None
        self._position = 0.0
        self._time = 0.0
        self._pace: float | None = None

    def moved(self, track: str, position: float, when: float, paused: bool) -> bool:
        """Whether the song jumped since the last reading (a new track never has)."""
        if track != self._track:
            self._track, self._position, self._time, self._pace = track, position, when, None
            return False
        elapsed = when - self._time
        pace = 0.0 if paused else self._pace
        jumped = pace is not None and abs(position - (self._position + pace * elapsed)) > 1.0
        if jumped:
            self._pace = None  # measured afresh from here
        elif not paused and elapsed > 0:
            self._pace = (position - self._position) / elapsed
        self._position, self._time = position, when
        return jumped


class RootInterface(ServiceInterface):
    """org.mpris.MediaPlayer2: who this player is; Quit saves and quits, as `q` does."""

    def __init__(self, keys: MediaKeys) -> None:
        super().__init__("org.mpris.MediaPlayer2")
        self._keys = keys

    @dbus_method()
    def Raise(self):
        """A terminal cannot be raised from here (CanRaise is false)."""

    @dbus_method()
    def Quit(self):
        self._keys.quit()

    @dbus_property(access=READ)
    def CanQuit(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def CanRaise(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def HasTrackList(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Identity(self) -> DBusStr:
        return "tui-dj"

    @dbus_property(access=READ)
    def SupportedUriSchemes(self) -> DBusStrings:
        return []

    @dbus_property(access=READ)
    def SupportedMimeTypes(self) -> DBusStrings:
        return []


class PlayerInterface(ServiceInterface):
    """org.mpris.MediaPlayer2.Player: the song playing, and the keys that act on it."""

    def __init__(self, keys: MediaKeys) -> None:
        super().__init__("org.mpris.MediaPlayer2.Player")
        self._keys = keys
        self._art: tuple[str, str] = ("", "")  # (track id, its art URL)
        self._said: dict[str, Any] = {}  # what was last announced, by property
        self._seeks = SeekWatch()

    # Methods: each is the key that does the same. (No return annotations: dbus-fast reads every
    # annotation as a D-Bus signature, and these return nothing.) -----------------------------------
    @dbus_method()
    def Next(self):
        if self._keys.now().playing:
            self._keys.request("skip")

    @dbus_method()
    def Previous(self):
        """A DJ plays forward only (CanGoPrevious is false)."""

    @dbus_method()
    def PlayPause(self):
        if self._keys.now().playing:
            self._keys.request("pause")

    @dbus_method()
    def Play(self):
        if self._keys.now().status == "Paused":
            self._keys.request("pause")

    @dbus_method()
    def Pause(self):
        self._pause()

    @dbus_method()
    def Stop(self):
        """The DJ never stops by itself; Stop pauses."""
        self._pause()

    def _pause(self) -> None:
        if self._keys.now().status == "Playing":
            self._keys.request("pause")

    @dbus_method()
    def Seek(self, offset: DBusInt64):
        if self._keys.now().can_seek:
            self._keys.request("seek", offset / 1_000_000)

    @dbus_method()
    def SetPosition(self, track_id: DBusObjectPath, position: DBusInt64):
        now = self._keys.now()
        # The spec: a stale track id, or a place outside the song, is ignored.
        if now.can_seek and track_id == now.track_id and 0 <= position <= now.length_us:
            self._keys.request("seek", (position - now.position_us) / 1_000_000)

    @dbus_method()
    def OpenUri(self, uri: DBusStr):
        raise DBusError(ErrorType.NOT_SUPPORTED, "tui-dj plays its own catalog and opens no URI.")

    @dbus_signal()
    def Seeked(self, position: DBusInt64) -> DBusInt64:
        return position

    # Properties ---------------------------------------------------------------------------------
    @dbus_property(access=READ)
    def PlaybackStatus(self) -> DBusStr:
        return self._keys.now().status

    @dbus_property(access=READ)
    def Metadata(self) -> DBusDict:
        now = self._keys.now()
        if now.playing and self._art[0] != now.track_id:
            self._find_art(now)  # asked before the next look: find it now (a tag read, once a song)
        return metadata(now, self._art[1] if self._art[0] == now.track_id else "")

    def _find_art(self, now: Now) -> None:
        cover = self._keys.cover(now.path)
        self._art = (now.track_id, cover.absolute().as_uri() if cover is not None else "")

    @dbus_property(access=READ)
    def Position(self) -> DBusInt64:
        return self._keys.now().position_us

    @dbus_property()
    def Volume(self) -> DBusDouble:
        return self._keys.now().volume

    @Volume.setter  # type: ignore[no-redef]
    def Volume(self, value: DBusDouble):
        now = self._keys.now()
        change = round(min(1.0, max(0.0, value)) * 100) - round(now.volume * 100)
        if change:
            self._keys.request("volume", change)

    @dbus_property()
    def Rate(self) -> DBusDouble:
        return 1.0

    @Rate.setter  # type: ignore[no-redef]
    def Rate(self, value: DBusDouble):
        """Songs play at their own speed (MinimumRate = MaximumRate = 1)."""

    @dbus_property(access=READ)
    def MinimumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=READ)
    def MaximumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=READ)
    def CanGoNext(self) -> DBusBool:
        return self._keys.now().playing

    @dbus_property(access=READ)
    def CanGoPrevious(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def CanPlay(self) -> DBusBool:
        return self._keys.now().playing

    @dbus_property(access=READ)
    def CanPause(self) -> DBusBool:
        return self._keys.now().playing

    @dbus_property(access=READ)
    def CanSeek(self) -> DBusBool:
        return self._keys.now().can_seek

    @dbus_property(access=READ)
    def CanControl(self) -> DBusBool:
        return True

    # What changed since the last look -----------------------------------------------------------
    async def announce(self) -> None:
        """PropertiesChanged for what differs from what was last said; Seeked after a jump."""
        now = self._keys.now()
        if now.playing and self._art[0] != now.track_id:
            await asyncio.to_thread(self._find_art, now)
        art = self._art[1] if self._art[0] == now.track_id else ""
        state: dict[str, Any] = {
            "Metadata": (now.track_id, art),
            "PlaybackStatus": now.status,
            "Volume": now.volume,
            "CanGoNext": now.playing, "CanPlay": now.playing, "CanPause": now.playing,
            "CanSeek": now.can_seek,
        }
        changed = {name: value for name, value in state.items() if self._said.get(name) != value}
        self._said = state
        if changed:
            if "Metadata" in changed:
                changed["Metadata"] = metadata(now, art)
            self.emit_properties_changed(changed)
        if now.playing and self._seeks.moved(now.track_id, now.position_us / 1e6, time.monotonic(),
                                             now.status != "Playing"):
            self.Seeked(now.position_us)


class MprisService:
    """The bus connection, the two interfaces on it, and the name it holds."""

    def __init__(self, bus: MessageBus, player: PlayerInterface, bus_name: str) -> None:
        self.bus = bus
        self.player = player
        self.bus_name = bus_name

    @classmethod
    async def connect(cls, keys: MediaKeys) -> MprisService:
        """On the session bus as BUS_NAME, or BUS_NAME.instance<pid> when another tui-dj has it."""
        bus = await asyncio.wait_for(MessageBus().connect(), CONNECT_TIMEOUT_S)
        try:
            player = PlayerInterface(keys)
            bus.export(OBJECT_PATH, RootInterface(keys))
            bus.export(OBJECT_PATH, player)
            name = BUS_NAME
            reply = await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
            if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
                name = f"{BUS_NAME}.instance{os.getpid()}"
                await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
        except BaseException:
            bus.disconnect()
            raise
        return cls(bus, player, name)

    async def announce(self) -> None:
        await self.player.announce()

    def close(self) -> None:
        self.bus.disconnect()
