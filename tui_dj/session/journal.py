"""The session's writes to the history, made on one helper thread in the order they were asked for.

A committed write waits for the disk (an fsync); on a helper thread that wait runs while the DJ
learns from the reaction and the view is put together, instead of before. Every session call waits
for its writes (`settle`) before it returns, so what a call acknowledged is on disk all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tui_dj.catalog import Track
from tui_dj.store import HistoryStore


class Journal:
    """Writes one session's events to `store`, in order, off the caller's thread."""

    def __init__(self, store: HistoryStore, profile: str, session_uid: str, read_only: bool) -> None:
        self.store = store
        self.profile = profile
        self.session_uid = session_uid
        self.read_only = read_only
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tui-dj-history")
        self._waiting: list[Future[Any]] = []

    def event(self, kind: str, track: Track, reward: float | None, then_plays: Track | None = None) -> Future[str]:
        """Write an event, and the play of the song it starts (`then_plays`) in the same commit;
        the future holds the event's id ("" in a read-only session)."""
        def write() -> str:
            with self.store.together():
                uid, _ = self.store.add_event(profile=self.profile, session=self.session_uid, kind=kind,
                                              track=track, reward=reward)
                if then_plays is not None:
                    self.store.add_event(profile=self.profile, session=self.session_uid, kind="play",
                                         track=then_plays, reward=None)
            return uid

        return self.run(write, "")

    def run(self, write: Callable[[], Any], read_only_result: Any = None) -> Future[Any]:
        """Run `write` on the writer thread after everything asked for before it."""
        if self.read_only:
            done: Future[Any] = Future()
            done.set_result(read_only_result)
            return done
        future = self._writer.submit(write)
        self._waiting.append(future)
        return future

    def settle(self) -> bool:
        """Wait for every write asked for (a write's error is raised here); True when all of them
        are on disk, False while a full disk keeps some for a retry."""
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            future.result()
        return not self.read_only and self.store.pending == 0

    def close(self) -> None:
        try:
            self.settle()
        finally:
            self._writer.shutdown(wait=True)
