"""Listener families: kinds of people, written apart from the training simulator, to check that
the DJ serves people whose habits differ from the ones it was trained on.

A family pairs a hidden *taste* (`learn.tastes`: how much the person would enjoy each song) with a
*habit* (how enjoyment becomes a reaction). Both are set by shares of the catalog, as
`Listener.calibrate` sets the simulator's bars, so a catalog can always satisfy them. Every
listener offers what the panels and the oracle use: `hear(songs, row, rng) -> (outcome, reward)`,
`utility(indices, x, popularity, artists)` (noise-free), `centres` and `loves(row)` (the hidden
truth: the person loves this song, whether or not they press like). No family walks away, and none
was tuned to any policy. `FAMILIES` names them; `draw(name, songs, rng)` draws one person.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tui_dj.config import EnvConfig
from tui_dj.learn.listener import MEAN_POPULARITY, Listener
from tui_dj.learn.rewards import REWARDS
from tui_dj.learn.songs import SongTable
from tui_dj.learn.tastes import MoodTaste, RadiusTaste, Taste, ThresholdTaste, TwoTastes, draw_taste

LADDER = ("like", "finish", "skip")  # a song by an artist heard among the last three lands a step lower
RECENT_ARTISTS = 3


class Person(Protocol):
    """What every family's listener offers (the simulator's `Listener` too, but for `loves`)."""

    @property
    def centres(self) -> np.ndarray: ...

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]: ...

    def utility(self, indices: np.ndarray, x: np.ndarray, popularity: np.ndarray,
                artists: np.ndarray | list[int]) -> np.ndarray: ...

    def loves(self, row: int) -> bool: ...


@dataclass(frozen=True)
class Habit:
    """How a person reacts to a song, given how it ranks in the catalog for them (its share of
    the catalog it beats, with a day-to-day variation of `noise`):
    - the best `love_share`: they love it, and press like on `press_like` of those (else let play);
    - the next `finish_share`: they let it play to the end;
    - the worst `dislike_share`: they press dislike;
    - the rest: they skip."""

    love_share: float = 0.05
    finish_share: float = 0.2
    dislike_share: float = 0.02
    press_like: float = 1.0
    noise: float = 0.02

    def reaction(self, rank: float, rng: np.random.Generator) -> str:
        rank += float(rng.normal(0.0, self.noise))
        if rank > 1.0 - self.love_share:
            return "like" if self.press_like >= 1.0 or rng.random() < self.press_like else "finish"
        if rank > 1.0 - self.love_share - self.finish_share:
            return "finish"
        return "dislike" if self.dislike_share > 0 and rank < self.dislike_share else "skip"

    def lower(self, reaction: str) -> str:
        """One step down the reactions this person uses (a like they never let play: a skip)."""
        if reaction not in LADDER[:2]:
            return reaction
        if reaction == "like" and self.finish_share > 0:
            return "finish"
        return "skip"


class FamilyListener:
    """A person of a family: a taste, a habit, and two things everyone shares: the same artist
    again within three songs lands a step lower, and the very same song again is skipped."""

    def __init__(self, taste: Taste, habit: Habit) -> None:
        self.taste, self.habit = taste, habit
        self.songs: SongTable | None = None
        self.recent_artists: deque[int] = deque(maxlen=RECENT_ARTISTS)
        self.heard: set[int] = set()
        self.count = 0

    def calibrate(self, songs: SongTable) -> FamilyListener:
        self.taste.calibrate(songs)
        self.songs = songs
        return self

    @property
    def centres(self) -> np.ndarray:
        return self.taste.centres

    def utility(self, indices: np.ndarray, x: np.ndarray, popularity: np.ndarray,
                artists: np.ndarray | list[int]) -> np.ndarray:
        """How the songs rank for this person right now, an artist repeat or a song heard already
        counting against them (what the oracle maximises)."""
        rank = self.taste.rank(x, popularity, self.count)
        repeat = np.isin(np.asarray(artists, np.int64), list(self.recent_artists))
        heard = np.isin(np.asarray(indices), list(self.heard))
        return rank - 0.5 * self.habit.love_share * repeat - 2.0 * heard

    def loves(self, row: int) -> bool:
        """Whether this person loves catalog row `row` now (noise-free, whatever they pressed)."""
        assert self.songs is not None, "calibrate first"
        rank = self.taste.rank(self.songs.features[row], self.songs.popularity[row:row + 1], self.count)
        return bool(rank[0] > 1.0 - self.habit.love_share)

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
        rank = float(self.taste.rank(songs.features[row], songs.popularity[row:row + 1], self.count)[0])
        reaction = self.habit.reaction(rank, rng)
        artist = int(songs.artists[row])
        if row in self.heard:
            reaction = "skip" if reaction != "dislike" else reaction
        elif artist in self.recent_artists:
            reaction = self.habit.lower(reaction)
        self.recent_artists.append(artist)
        self.heard.add(int(row))
        self.count += 1
        return reaction, REWARDS[reaction]


class SimulatorPerson:
    """The training simulator's own person (`Listener.draw`), staying for the whole session: the
    family the DQN was trained on, as the control."""

    def __init__(self, person: Listener, songs: SongTable) -> None:
        self.person, self.songs = person, songs

    @property
    def centres(self) -> np.ndarray:
        return self.person.centres

    def utility(self, indices: np.ndarray, x: np.ndarray, popularity: np.ndarray,
                artists: np.ndarray | list[int]) -> np.ndarray:
        return self.person.utility(indices, x, popularity, artists)

    def loves(self, row: int) -> bool:
        p, s = self.person, self.songs
        fit = float(p.appeal(s.features[row])[0]) + p.popularity_weight * (float(s.popularity[row]) - MEAN_POPULARITY)
        return fit > p.like_bar

    def hear(self, songs: SongTable, row: int, rng: np.random.Generator) -> tuple[str, float]:
        return self.person.hear(songs, row, rng)


EVERYDAY = Habit()  # like the best 5%, let the next 20% play, skip the rest, dislike the worst 2%


class Family:
    """A kind of person: `taste` draws the hidden taste, `habit` is how they react; `scored_on` is
    "like" (the like rate) or "loved" (the share of songs heard that they love); `takes_playlist`:
    whether their taste can be a real playlist's."""

    habit = EVERYDAY
    scored_on = "like"
    takes_playlist = True

    @classmethod
    def taste(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None) -> Taste:
        return draw_taste(songs, rng, playlist)

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None = None) -> Person:
        return FamilyListener(cls.taste(songs, rng, playlist), cls.habit).calibrate(songs)


class Simulator(Family):
    """The simulator's own people, as training draws them (they never walk away here)."""

    takes_playlist = False

    @classmethod
    def draw(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None = None) -> Person:
        return SimulatorPerson(Listener.draw(songs, rng, EnvConfig(quit=False)), songs)


class Thresholds(Family):
    """Someone who knows what they want in words ("energetic and danceable"): rules on two or
    three features, everyday habits."""

    takes_playlist = False

    @classmethod
    def taste(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None) -> Taste:
        return ThresholdTaste.draw(songs, rng)


class Radius(Family):
    """The owner of a playlist (a real one when given, else one made of nearby songs) who likes
    what sounds like it, everyday habits."""

    @classmethod
    def taste(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None) -> Taste:
        return draw_taste(songs, rng, playlist) if playlist is not None else RadiusTaste.draw(songs, rng)


class SkipHeavy(Family):
    """The impatient listener: likes the best 5%, skips everything else within seconds, never lets
    a song just play."""

    habit = Habit(finish_share=0.0)


class DislikeHeavy(Family):
    """The opinionated listener: presses dislike on the worst third of the catalog for them."""

    habit = Habit(finish_share=0.15, dislike_share=1 / 3)


class Lazy(Family):
    """The person who seldom reaches for the keys: presses like on one loved song in five, lets
    play the best 30% (loved songs included), skips the rest, never dislikes."""

    habit = Habit(finish_share=0.25, dislike_share=0.0, press_like=0.2)
    scored_on = "loved"


class Implicit(Family):
    """The commonest listener in real players: never presses like or dislike; lets play the best
    quarter, skips the rest."""

    habit = Habit(finish_share=0.2, dislike_share=0.0, press_like=0.0)
    scored_on = "loved"


class Mood(Family):
    """Someone whose mood turns mid-session: one taste for 15 to 40 songs, an unrelated one after."""

    takes_playlist = False

    @classmethod
    def taste(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None) -> Taste:
        return MoodTaste.draw(songs, rng)


class TwoSided(Family):
    """Someone with two unrelated tastes, happy with either."""

    takes_playlist = False

    @classmethod
    def taste(cls, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None) -> Taste:
        return TwoTastes.draw(songs, rng)


FAMILIES: dict[str, type[Family]] = {
    "simulator": Simulator, "thresholds": Thresholds, "radius": Radius, "skip-heavy": SkipHeavy,
    "dislike-heavy": DislikeHeavy, "lazy": Lazy, "implicit": Implicit, "mood": Mood, "two-tastes": TwoSided,
}


def draw(name: str, songs: SongTable, rng: np.random.Generator, playlist: np.ndarray | None = None) -> Person:
    """A random person of family `name` on `songs` (all randomness from `rng`); `playlist`: the
    scaled features of a real playlist's songs, for the families whose taste can be one."""
    return FAMILIES[name].draw(songs, rng, playlist)


def scored_on(name: str) -> str:
    """"like" (the like rate) or "loved" (the share of songs heard that the person loves)."""
    return str(FAMILIES[name].scored_on)
