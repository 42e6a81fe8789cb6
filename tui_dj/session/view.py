"""What a session shows after every call: one immutable view, read by the console, tests and
scripts, and how it is put together from the DJ's state."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui_dj.catalog.model import FEATURES, Track

if TYPE_CHECKING:
    from tui_dj.catalog import Catalog
    from tui_dj.learn.dj import DJ

VIEW_ROWS = 15  # rows of "Up next" and of the Q-table in a view
TRACKS_KEPT = 4096  # songs looked up once and kept; past this many the lookups start again


@dataclass(frozen=True)
class QueueEntry:
    """A song in "Up next" and why it is there: `chosen` by the person, the DJ's `best` pick, or a
    pick to `explore` (something the DJ is trying out)."""

    track: Track
    why: str


@dataclass(frozen=True)
class QRow:
    """A candidate song, its score (the DQN's Q-value), and how much it changed with the last
    reaction (None: it was not scored before)."""

    track: Track
    q: float
    delta: float | None
    next: bool = False  # the song at the head of "Up next"


@dataclass(frozen=True)
class TasteRow:
    """One feature of the taste vector: its raw value and its value scaled to [0, 1] (for bars)."""

    name: str
    raw: float
    scaled: float


@dataclass(frozen=True)
class SessionStats:
    plays: int = 0
    likes: int = 0
    finishes: int = 0
    skips: int = 0
    dislikes: int = 0
    total_reward: float = 0.0
    recent_rewards: tuple[float, ...] = ()
    last_update_ms: float | None = None


@dataclass(frozen=True)
class Learned:
    """What the last reaction did: its reward, how long learning from it took, and whether it is on
    disk (False in a read-only session, or while a full disk delays the write)."""

    reaction: str
    reward: float
    track: Track
    update_ms: float
    loss: float | None
    saved: bool


@dataclass(frozen=True)
class SessionView:
    """Everything the console shows, as it is after one call into the session."""

    now_playing: Track | None
    play_number: int  # counts songs started; a song's end is only taken for the play it belongs to
    reaction: str | None  # the reaction already given to the song playing
    queue: tuple[QueueEntry, ...]
    q_rows: tuple[QRow, ...]
    taste: tuple[TasteRow, ...]
    stats: SessionStats
    learned: Learned | None = None  # the reaction this call learned from, if it learned one
    message: str | None = None  # something this call should tell the person ("Nothing to undo.")
    out_of_songs: bool = False  # every song is disliked (or kept out): nothing can play
    read_only: bool = False
    notice: str | None = None  # said when the session opened (read-only, say)
    warning: str | None = None  # a problem the session carries on with (a full disk, say)
    reacted: tuple[tuple[int, str], ...] = ()  # (catalog row, reaction) of the recent songs, oldest first

    @property
    def replaced(self) -> None:
        """Deprecated since 0.2: a dislike no longer replaces the head of Up next, so this is
        always None (it named the head a dislike had replaced)."""
        warnings.warn("SessionView.replaced is deprecated and goes in tui-dj 0.4: a dislike no longer "
                      "replaces the head of Up next (view.queue[0] is what plays next).", DeprecationWarning,
                      stacklevel=2)
        return None


@dataclass(frozen=True)
class HistoryRow:
    """One row of a profile's history, newest first: a play, a reaction, a song chosen by hand, an
    undo (`reverted`: "undo", "replaced" or "forgiven" when it was taken back)."""

    time: float
    kind: str
    track_id: str
    name: str
    artist: str
    reward: float | None
    reverted: str | None = None


class TrackLookup:
    """Catalog rows as `Track`s, looked up in one go per view and kept for the next one."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._kept: dict[int, Track] = {}

    def __call__(self, row: int) -> Track:
        track = self._kept.get(row)
        if track is None:
            self.fetch([row])
            track = self._kept[row]
        return track

    def fetch(self, rows: Iterable[int]) -> None:
        """Look the songs of `rows` up together, those not already at hand (a pandas lookup per
        song would cost more than the view)."""
        missing = [r for r in dict.fromkeys(rows) if r not in self._kept]
        if not missing:
            return
        if len(self._kept) > TRACKS_KEPT:
            self._kept.clear()
        for track in self.catalog.tracks_at(missing):
            self._kept[track.row] = track


@dataclass(frozen=True)
class Extras:
    """What a call adds to the view beside the DJ's state."""

    play_number: int
    reaction: str | None
    stats: SessionStats
    learned: Learned | None = None
    message: str | None = None
    read_only: bool = False
    notice: str | None = None
    warning: str | None = None


def assemble(dj: DJ, tracks: TrackLookup, before: dict[int, float], extras: Extras,
             rows: int = VIEW_ROWS) -> SessionView:
    """The view of `dj` now: Up next, the Q-table (each score's change since `before`), the taste."""
    scores = dj.scores()
    scored = sorted(scores.items(), key=lambda item: -item[1])[:rows]
    head = dj.head.row if dj.head is not None else None
    ranked = [r for r, _ in dj.ranked[:rows]]
    tracks.fetch([*dj.chosen, *ranked, *(r for r, _ in scored)] + ([head] if head is not None else []))
    queue = [QueueEntry(tracks(r), "chosen") for r in dj.chosen]
    if dj.head is not None:
        queue.append(QueueEntry(tracks(dj.head.row), dj.head.why))
    queue += [QueueEntry(tracks(r), "best") for r in ranked[: max(0, rows - len(queue))]]
    q_rows = tuple(QRow(tracks(r), q, None if r not in before else q - before[r], r == head) for r, q in scored)
    taste = dj.trace.taste()
    raw = tracks.catalog.scaler.inverse(taste)
    return SessionView(
        now_playing=None if dj.current is None else tracks(dj.current.row),
        play_number=extras.play_number,
        reaction=extras.reaction,
        queue=tuple(queue[:rows]),
        q_rows=q_rows,
        taste=tuple(TasteRow(name, float(raw[i]), float(taste[i])) for i, name in enumerate(FEATURES)),
        stats=extras.stats,
        learned=extras.learned,
        message=extras.message,
        out_of_songs=dj.current is None and extras.play_number > 0,
        read_only=extras.read_only,
        notice=extras.notice,
        warning=extras.warning,
        reacted=tuple((r, x) for r, x in zip(dj.trace.played, dj.trace.reactions, strict=True) if x),
    )


def model_words(source: str) -> str:
    """A model source in words: "the bundled model", "an untrained network", or its path (relative
    to the working folder when it is inside it)."""
    from tui_dj.learn.model_file import default_model_path

    if source == "untrained":
        return "an untrained network"
    if source == "none":
        return "no model (another policy)"
    path = Path(source)
    if path == default_model_path():
        return "the bundled model"
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return source
