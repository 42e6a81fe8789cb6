"""Cover art in Now playing: a music file's embedded picture, else `cover.jpg` or `folder.jpg`
beside it, drawn by textual-image (Kitty or Sixel graphics where the terminal has them, coloured
half cells elsewhere). A song with no file (a CSV catalog's) has no cover, and none is drawn.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from textual import work
from textual.app import ComposeResult
from textual.widget import Widget
from textual.worker import get_current_worker

from tui_dj.tui import terminal_probe

# textual-image asks the terminal which graphics it draws when it is first imported, which
# terminal_probe starts on a thread (and sets up its logging); the widget waits for the answers.
terminal_probe.start()
terminal_probe.wait()
from textual_image.widget import Image  # noqa: E402

log = logging.getLogger("tui_dj.tui")

# Names a folder's picture goes by, the most usual first (compared without case: Folder.jpg too).
COVER_NAMES = ("cover", "folder", "front", "album", "albumart")
COVER_SUFFIXES = (".jpg", ".jpeg", ".png")
# Larger pictures are shrunk once on loading: a cell grid needs few pixels, Sixel not many more.
MAX_PIXELS = 512


def find_cover(path: str | Path | None) -> bytes | Path | None:
    """The picture for the audio file `path`: the bytes embedded in it, else the file of a cover
    beside it, else None."""
    if not path:
        return None
    from tinytag import TinyTag, TinyTagException

    try:
        image = TinyTag.get(path, image=True).images.any
        if image is not None and image.data:
            return bytes(image.data)
    except (TinyTagException, OSError, ValueError) as exc:
        log.info("no tags in %s: %s", path, exc)
    try:
        beside = {p.name.lower(): p for p in Path(path).parent.iterdir() if p.is_file()}
    except OSError:
        return None
    for name in COVER_NAMES:
        for suffix in COVER_SUFFIXES:
            if name + suffix in beside:
                return beside[name + suffix]
    return None


def load_cover(path: str | Path | None) -> PILImage.Image | None:
    """The cover of the audio file `path` decoded (RGB, at most MAX_PIXELS a side), or None when
    it has none or the picture cannot be read."""
    found = find_cover(path)
    if found is None:
        return None
    try:
        with PILImage.open(io.BytesIO(found) if isinstance(found, bytes) else found) as picture:
            picture.thumbnail((MAX_PIXELS, MAX_PIXELS))
            return picture.convert("RGB")
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        log.info("cover of %s unreadable: %s", path, exc)
        return None


class Cover(Widget):
    """The picture of the song playing, loaded off the event loop. Its parent gets the class
    `-cover` while there is one, so that the stylesheet can make room for it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._path: str | None = None
        self.shown = False  # whether a picture is on show

    def compose(self) -> ComposeResult:
        yield Image(None, id="cover-image")

    def show_song(self, path: str | None) -> None:
        if path == self._path:
            return
        self._path = path
        if path is None:
            self._loaded(None, None)
        else:
            self._load(path)

    @work(thread=True, exclusive=True, group="cover", exit_on_error=False)
    def _load(self, path: str) -> None:
        picture = load_cover(path)
        if not get_current_worker().is_cancelled:  # a later song's load took over, or the app closes
            self.app.call_from_thread(self._loaded, path, picture)

    def _loaded(self, path: str | None, picture: PILImage.Image | None) -> None:
        if path != self._path:
            return  # another song started while this one's picture loaded
        self.query_one("#cover-image", Image).image = picture
        self.shown = picture is not None
        if self.parent is not None:
            self.parent.set_class(self.shown, "-cover")
