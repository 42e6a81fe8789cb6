"""Which file a song is: the stable id a music file gets, and the `file:` URI that names it in an
export, so that a song of a music folder is the same song wherever it is written down."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

LOCAL_PREFIX = "local:"
FILE_SCHEME = "file:"


def local_track_id(path: str | os.PathLike[str]) -> str:
    """A stable id for a file: the same path gives the same id on every scan."""
    resolved = os.path.realpath(path)
    return LOCAL_PREFIX + hashlib.sha1(resolved.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()[:16]


def is_local(track_id: str) -> bool:
    """True for a song of a music folder (an id `local_track_id` made)."""
    return track_id.startswith(LOCAL_PREFIX)


def file_uri(path: str | os.PathLike[str]) -> str:
    """`file:///music/A%20B.flac`: an absolute path as a URI (what a playlist reader looks for)."""
    return Path(os.path.abspath(path)).as_uri()


def uri_path(uri: str) -> str | None:
    """The path a `file:` URI names, or None when it is not a local file URI."""
    if not uri.startswith(FILE_SCHEME):
        return None
    parts = urlparse(uri)
    if parts.netloc not in ("", "localhost") or not parts.path:
        return None
    return unquote(parts.path, errors="surrogateescape")
