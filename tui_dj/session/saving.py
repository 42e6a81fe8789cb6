"""Saving a profile's model: when (every few minutes, and at the end), with what metadata, and
what to say when a save fails (a full disk) while the session carries on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_dj.errors import TuiDjError
from tui_dj.learn.model_file import save_agent

if TYPE_CHECKING:
    from tui_dj.catalog import Catalog
    from tui_dj.learn.agent import DQNAgent
    from tui_dj.learn.playing import PlayingAgent

AUTOSAVE_S = 180.0  # "every few minutes"
RETRY_S = 30.0  # after a failed save (a full disk), try again this much later


def reactions_so_far(metadata: dict[str, Any]) -> int:
    """How many reactions a saved model has learned from (files before 0.2 said "feedback_count")."""
    return int(metadata.get("reactions", metadata.get("feedback_count", 0)))


class ModelSaver:
    """Writes the agent to the profile's model file (atomically), now or when one is due."""

    def __init__(self, agent: DQNAgent | PlayingAgent | None, path: Path, metadata: dict[str, Any], *, profile: str,
                 catalog: Catalog, model_source: str, read_only: bool, autosave_s: float = AUTOSAVE_S) -> None:
        self.agent = agent
        self.path = path
        self.metadata = metadata
        self.profile = profile
        self.catalog = catalog
        self.model_source = model_source
        self.read_only = read_only
        self.autosave_s = autosave_s
        self.dirty = False  # learned since the last save
        self.warning: str | None = None  # why the last save failed, until one succeeds
        self._last_save = time.monotonic()
        self._next_try = 0.0

    def maybe_save(self, reactions: int) -> None:
        """Save if something was learned and the last save is `autosave_s` old (and no retry waits)."""
        now = time.monotonic()
        if self.dirty and now - self._last_save >= self.autosave_s and now >= self._next_try:
            self.save(reactions)

    def save(self, reactions: int) -> bool:
        """Save now; False, with `warning` set, if it failed (it is tried again `RETRY_S` later)."""
        if self.read_only or self.agent is None:
            return True
        metadata = {k: v for k, v in self.metadata.items() if k != "feedback_count"}
        metadata.update(profile=self.profile, reactions=reactions, catalog=self.catalog.name,
                        catalog_fingerprint=self.catalog.fingerprint,
                        base_model=str(self.metadata.get("base_model", self.model_source)), saved_at=time.time())
        try:
            save_agent(self.agent, self.path, metadata)
        except TuiDjError as exc:
            self.warning = f"{exc} tui-dj tries again in {RETRY_S:.0f} s."
            self._next_try = time.monotonic() + RETRY_S
            return False
        self.warning = None
        self.dirty = False
        self._last_save = time.monotonic()
        return True

    def final_problem(self) -> str | None:
        """The last save's failure, as said once the session is closed (no retry is coming)."""
        return None if self.warning is None else self.warning.replace(f" tui-dj tries again in {RETRY_S:.0f} s.", "")
