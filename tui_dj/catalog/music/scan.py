"""Find the audio files under one or more folders: sorted, de-duplicated, immune to symlink loops."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav"}
)


@dataclass(frozen=True, order=True)
class AudioFile:
    """One file found by a scan; `root` is the folder it was found under (names come from below it)."""

    path: Path
    root: Path


def is_audio_name(name: str) -> bool:
    # macOS leaves "._song.mp3" AppleDouble files beside the real ones on shared drives: not audio.
    return not name.startswith("._") and os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def _walk(root: Path) -> Iterable[Path]:
    """Every audio file below `root`, following symlinks but entering each real folder once."""
    seen: set[tuple[int, int]] = set()
    # followlinks=True finds music linked in from elsewhere; the (device, inode) set stops loops.
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=lambda _err: None):
        try:
            st = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in files:
            if is_audio_name(name):
                yield Path(folder) / name


def scan(paths: Iterable[str | os.PathLike[str]]) -> list[AudioFile]:
    """The audio files in `paths` (folders are walked, files taken as they are), sorted by path.

    A file reached twice (two roots, or a symlink to a file already found) is listed once."""
    found: dict[str, AudioFile] = {}
    for given in paths:
        root = Path(given).expanduser().absolute()
        if root.is_file():
            candidates: Iterable[Path] = [root] if is_audio_name(root.name) else []
            base = root.parent
        elif root.is_dir():
            candidates, base = _walk(root), root
        else:
            continue
        for path in candidates:
            try:
                key = os.path.realpath(path)
                if not os.path.isfile(key):
                    continue
            except OSError:
                continue
            found.setdefault(key, AudioFile(path, base))
    return sorted(found.values())
