"""Playing songs: one Player interface, real backends (mpv, or miniaudio + PyAV) and a simulated
clock as just another backend. `open_player` picks one and says in one sentence what it picked."""

from __future__ import annotations

from typing import Literal

from tui_dj.playback.base import FAILED, FINISHED, Player, PlayerEvent
from tui_dj.playback.simulated import SimulatedPlayer

Preference = Literal["auto", "simulate", "mpv", "miniaudio"]
BACKENDS: tuple[str, ...] = ("mpv", "miniaudio")
AUDIO_EXTRA = "pip install 'tui-dj[audio]'"

__all__ = ["BACKENDS", "FAILED", "FINISHED", "Player", "PlayerEvent", "SimulatedPlayer", "open_player"]


# Each opener gives (player, None) or (None, (what went wrong: "missing" or "device", detail)).
Problem = tuple[str, str]


def _open_mpv(null_output: bool, song_seconds: float | None) -> tuple[Player | None, Problem | None]:
    try:
        from tui_dj.playback.mpv_player import MpvPlayer, probe_output

        if not null_output:
            problem = probe_output()
            if problem:
                return None, ("device", f"mpv: {problem}")
        return MpvPlayer("null" if null_output else None, song_seconds), None
    except ImportError:
        return None, ("missing", "python-mpv is not installed")
    except (OSError, AttributeError) as exc:
        # python-mpv imports but cannot load libmpv (Debian: apt-get install libmpv2).
        return None, ("missing", f"libmpv cannot be loaded ({str(exc).splitlines()[0][:80]})")


def _open_miniaudio(null_output: bool, song_seconds: float | None) -> tuple[Player | None, Problem | None]:
    try:
        from tui_dj.playback.miniaudio_player import MiniaudioPlayer, device_problem

        if not null_output:
            problem = device_problem()
            if problem:
                return None, ("device", f"miniaudio: {problem}")
        return MiniaudioPlayer(null_output=null_output, song_seconds=song_seconds), None
    except ImportError:
        return None, ("missing", "miniaudio or PyAV is not installed")
    except Exception as exc:  # miniaudio.MiniaudioError and any device trouble: fall back, never crash
        return None, ("device", f"miniaudio: {exc.args[0] if exc.args else exc}")


def open_player(prefer: Preference = "auto", *, song_seconds: float | None = None,
                null_output: bool = False) -> tuple[Player, str]:
    """A player and one sentence about it (for the console's notice line).

    "auto" tries mpv, then miniaudio + PyAV, and falls back to the simulated clock, saying why;
    "simulate" always gives the clock; "mpv" or "miniaudio" try only that one (then the clock).
    `song_seconds` makes a simulated song take that long (the console's --speed); `null_output`
    plays real files to no device (tests, benchmarks, headless machines). Never raises."""
    if prefer == "simulate":
        return SimulatedPlayer(song_seconds), "Songs play on a simulated clock (no sound), as asked."
    problems: list[Problem] = []
    openers = {"mpv": _open_mpv, "miniaudio": _open_miniaudio}
    for name in BACKENDS if prefer == "auto" else (prefer,):
        player, problem = openers[name](null_output, song_seconds)
        if player is not None:
            where = " to no sound device (null output)" if null_output else ""
            return player, f"Playing through {name}{where}."
        if problem is not None:
            problems.append(problem)
    device = [detail for kind, detail in problems if kind == "device"]
    if device:
        why = f"no sound device was found ({device[0]})"
    else:
        why = f"no audio player is installed ({AUDIO_EXTRA}, or apt-get install libmpv2)"
    return SimulatedPlayer(song_seconds), f"Songs play on a simulated clock because {why}."
