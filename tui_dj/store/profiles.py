"""Each profile's folder, its model file and its lock; and where tui-dj keeps everything."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from tui_dj.errors import TuiDjError
from tui_dj.paths import history_db, profile_dir, profiles_dir

try:  # POSIX; elsewhere two consoles are not kept apart, which the README notes.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

MODEL_FILE = "model.pt"
LOCK_FILE = "lock"


@dataclass(frozen=True)
class ProfilePaths:
    name: str
    folder: Path
    model: Path
    lock: Path


def profile_paths(base: Path, name: str) -> ProfilePaths:
    """The files of profile `name`; refuses names that are not safe as one folder name."""
    folder = profile_dir(Path(base), name)
    # check_profile_name already refuses separators and dots; this guards the rule itself.
    root = profiles_dir(Path(base)).resolve()
    if folder.resolve().parent != root:
        raise TuiDjError(f"Profile name {name!r} is not allowed.")
    return ProfilePaths(name, folder, folder / MODEL_FILE, folder / LOCK_FILE)


class ProfileLock:
    """An advisory lock (flock) on a profile: released by the kernel when its holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process (or session) holds it."""
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TuiDjError(f"Cannot write to {self.path.parent}: {exc.strerror or exc}.") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
        self._fd = fd
        # The holder's pid, so the second console can say who has the profile.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def holder(self) -> str:
        """The pid written by the current holder, or '' when unknown."""
        try:
            return self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)



def locations(base: Path | str | None) -> list[tuple[str, str]]:
    """(what, where) for everything tui-dj reads or writes."""
    from tui_dj.paths import (
        DATA_DIR_ENV,
        MODELS_DIR,
        PACKAGE_ASSETS,
        PROCESSED_DIR,
        data_dir,
        logs_dir,
    )

    folder = data_dir(base)
    found = [
        ("data folder", f"{folder}" + ("" if base else f"  (--data-dir or ${DATA_DIR_ENV} move it)")),
        ("history", str(history_db(folder))),
        ("profiles", str(profiles_dir(folder))),
        ("logs", str(logs_dir(folder))),
        ("catalog", str(PROCESSED_DIR.resolve())),
        ("checkpoints", str(MODELS_DIR.resolve())),
        ("default model", str(PACKAGE_ASSETS / "default_model.pt")),
    ]
    if profiles_dir(folder).is_dir():
        for child in sorted(profiles_dir(folder).iterdir()):
            if (child / MODEL_FILE).is_file():
                found.append((f"profile {child.name}", str(child / MODEL_FILE)))
    return found
