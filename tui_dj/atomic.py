"""Write files and folders so that readers see the old version or the new one, never half of one."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tui_dj.errors import TuiDjError


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write(tmp)` for a temporary file beside `path`, then rename it over `path`.

    A failure (a full disk, a crash) leaves whatever was at `path` untouched.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise TuiDjError(f"Cannot write to {path.parent}: {exc.strerror or exc}.") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TuiDjError(f"Could not save {path}: {exc.strerror or exc}; the previous file is unchanged.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def remove_leftovers(path: Path) -> int:
    """Delete the temporary files that killed writes of `path` left beside it; returns how many.

    A `kill -9` mid-write leaves one behind, and each is as large as the file. Call this only
    where nothing else is writing `path` (its owner holds the folder or a lock).
    """
    path = Path(path)
    removed = 0
    for name in glob.glob(os.path.join(glob.escape(str(path.parent)), f".{glob.escape(path.name)}.*.tmp")):
        with contextlib.suppress(OSError):
            os.unlink(name)
            removed += 1
    return removed


def recover_directory(target: Path) -> None:
    """Finish a folder swap that a crash interrupted between its two renames."""
    target = Path(target)
    old = target.parent / f".{target.name}.old"
    if not target.exists() and old.is_dir():
        with contextlib.suppress(OSError):
            os.replace(old, target)


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces `target` whole.

    The old folder is moved aside and removed only after the new one is in place, so an
    interrupted or failed write leaves the previous contents readable at `target`.
    """
    target = Path(target)
    recover_directory(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    except OSError as exc:
        raise TuiDjError(f"Cannot write to {target.parent}: {exc.strerror or exc}.") from exc
    try:
        yield staging
        os.chmod(staging, 0o755)
        for child in staging.iterdir():
            with open(child, "rb+") as handle:
                os.fsync(handle.fileno())
        old = target.parent / f".{target.name}.old"
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        _fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise TuiDjError(f"Could not save {target}: {exc.strerror or exc}; the previous one is unchanged.") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
