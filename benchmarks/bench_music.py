"""Music files (issue 11): tag scan and re-scan of a 10,000-file library, analysis throughput on
three-minute tracks, key -> change latency of pause and seek, and the memory of a playing process.

`python -m benchmarks.bench_music [--quick]`. Every figure is taken in a child process of its own, so
that each one's peak memory is its own; the audio is generated (tests/audio_gen.py), never shipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._util import Row, emit, run_measured

BENCH = "music"
TEMPLATES = ((".mp3", "First"), (".flac", "Second"), (".m4a", "Third"), (".ogg", "Fourth"))


# ---------------------------------------------------------------------------------------------
# The children (python -m benchmarks.bench_music --child NAME ARGS...)


def child_make_library(folder: str, n_files: str) -> None:
    """n files, copies of four short tagged songs, as Artist/Album/NN Title.ext; and a catalog CSV
    that knows the four songs, so a scan borrows every file's features and decodes none."""
    from tests import audio_gen as gen

    root = Path(folder) / "Music"
    templates = []
    for suffix, title in TEMPLATES:
        path = gen.write_audio(Path(folder) / f"template{suffix}", gen.song(120, 2.0))
        gen.tag_file(path, title=title, artist="Bench Artist", album="Bench Album", genre="Rock")
        templates.append(path)
    for i in range(int(n_files)):
        template = templates[i % len(templates)]
        target = root / f"Artist {i % 97:02d}" / f"Album {i % 13:02d}" / f"{i % 20 + 1:02d} Song {i}{template.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
    # The Kaggle layout (SpotifyFeatures.csv), one of those `tui-dj prep` reads.
    rows = ["genre,artist_name,track_name,track_id,popularity,duration_ms," + ",".join(_feature_names())]
    for k, (_, title) in enumerate(TEMPLATES):
        values = ",".join(["0.5"] * 5 + ["-7.0", "0.05", "120.0", "0.5"])
        rows.append(f"Rock,Bench Artist,{title},{'x' * 21}{k},50,2000,{values}")
    (Path(folder) / "catalog.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _feature_names() -> list[str]:
    from tui_dj.catalog.model import FEATURES

    return list(FEATURES)


def child_scan(folder: str, workers: str) -> None:
    """One import_music run over the library (features borrowed from catalog.csv); prints the summary."""
    from tui_dj.catalog.music import import_music
    from tui_dj.catalog.music.match import FeatureSource

    source = FeatureSource.from_csv([Path(folder) / "catalog.csv"])
    start = time.perf_counter()
    result = import_music([Path(folder) / "Music"], cache_dir=Path(folder) / "cache",
                          features_from=source, workers=int(workers))
    summary = dict(result.summary, failed=len(result.summary["failed"]), wall=time.perf_counter() - start)
    print(json.dumps(summary))


def child_make_tracks(folder: str, n_tracks: str) -> None:
    from tests import audio_gen as gen

    for i in range(int(n_tracks)):
        gen.write_audio(Path(folder) / f"{i:02d} Track {i}.mp3", gen.song(90 + 7 * i, 180.0, seed=i))


def child_analyse(folder: str, cache: str, workers: str) -> None:
    """workers 0: the pure analysis of each file, timed alone (no process start, no imports);
    else: import_music with that many worker processes, timed whole."""
    from tui_dj.catalog.music import import_music
    from tui_dj.catalog.music.analyse import analyse

    files = sorted(Path(folder).glob("*.mp3"))
    if int(workers) == 0:
        analyse(files[0])  # warm: numpy's FFT plans, PyAV's codec tables
        start = time.perf_counter()
        failed = sum(not analyse(path).ok for path in files)
        print(json.dumps({"wall": time.perf_counter() - start, "analysed": len(files), "failed": failed}))
        return
    start = time.perf_counter()
    result = import_music([folder], cache_dir=cache, workers=int(workers))
    print(json.dumps({"wall": time.perf_counter() - start, "analysed": result.summary["analysed"],
                      "failed": len(result.summary["failed"])}))


def child_latency(backend: str, path: str, repeats: str) -> None:
    """Pause: from the key until the position (what has gone to the output) stops moving. Seek: from
    the key until audio from the new place has gone to the output. Median of `repeats` each, in ms."""
    import statistics

    from tui_dj.playback import SimulatedPlayer, open_player

    player, note = open_player(backend, null_output=True)  # type: ignore[arg-type]
    if isinstance(player, SimulatedPlayer):
        print(json.dumps({"error": note}))
        return
    player.play(path, 180.0)
    time.sleep(1.0)
    pauses, seeks = [], []
    for i in range(int(repeats)):
        start = last_change = time.perf_counter()
        player.pause(True)
        seen = player.position
        while time.perf_counter() - start < 0.25:
            now = player.position
            if now != seen:
                seen, last_change = now, time.perf_counter()
            time.sleep(0.0005)
        pauses.append((last_change - start) * 1000)
        player.pause(False)
        time.sleep(0.2)
        target = 20.0 + 13 * i
        start = time.perf_counter()
        player.seek(target, relative=False)
        # Both backends show the target at once; it moves on only once new audio is going out.
        while not (target + 0.005 < player.position < target + 1.0) and time.perf_counter() - start < 2.0:
            time.sleep(0.0005)
        seeks.append((time.perf_counter() - start) * 1000)
        time.sleep(0.2)
    player.close()
    print(json.dumps({"pause_ms": statistics.median(pauses), "seek_ms": statistics.median(seeks)}))


def child_play(backend: str, path: str, seconds: str) -> None:
    """Import the player, and (unless backend is 'none') play `path` for `seconds`."""
    import numpy  # noqa: F401  (the console holds it anyway: part of the baseline, not the player)

    import tui_dj.playback as playback

    if backend != "none":
        player, note = playback.open_player(backend, null_output=True)  # type: ignore[arg-type]
        if isinstance(player, playback.SimulatedPlayer):
            print(json.dumps({"error": note}))
            return
        player.play(path, 180.0)
        time.sleep(float(seconds))
        player.seek(120.0, relative=False)
        time.sleep(0.5)
        player.close()
    print(json.dumps({"ok": True}))


def child_console(backend: str, catalog: str, data_dir: str, seconds: str) -> None:
    """The console (headless, 120x40) over a music-folder catalog, playing its files through
    `backend` to the null output while keys arrive: what a person's console holds."""
    import asyncio

    from tui_dj.playback import open_player
    from tui_dj.session import open_session
    from tui_dj.tui.app import DJApp

    player, note = open_player(backend, null_output=True)  # type: ignore[arg-type]  # a name from the command line
    if player.name != backend:
        print(json.dumps({"error": note}))
        return

    async def run() -> float:
        with open_session(catalog=catalog, data_dir=data_dir, seed=0) as session:
            app = DJApp(session, player=player)
            async with app.run_test(size=(120, 40)) as pilot:
                # Keys only once the first song is on screen, and a quit through the app at the end:
                # pressing into a screen still being built, or tearing the app down under the
                # player's progress timer, raced the screen (NoMatches on NowPlaying under load).
                while app.view is None or app.pending:
                    if not app.is_running:
                        raise SystemExit("the console stopped before the first song")
                    await asyncio.sleep(0.01)
                await pilot.pause()
                deadline = time.monotonic() + float(seconds)
                keys = iter("lnlnd" * 100)
                while time.monotonic() < deadline:
                    await pilot.pause(0.5)
                    await pilot.press(next(keys))
                position = player.position
                await pilot.press("q")
                return position

    position = asyncio.run(run())
    player.close()
    print(json.dumps({"ok": True, "position": position}))


CHILDREN: dict[str, Callable[..., None]] = {"make-library": child_make_library, "scan": child_scan, "make-tracks": child_make_tracks,
            "analyse": child_analyse, "latency": child_latency, "play": child_play, "console": child_console}


# ---------------------------------------------------------------------------------------------
# The parent


def _child(*args: str) -> tuple[float, float, dict[str, Any]]:
    wall, peak, out = run_measured([sys.executable, "-m", "benchmarks.bench_music", "--child", *args])
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return wall, peak, json.loads(lines[-1]) if lines else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 files, 2 tracks, fewer runs")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CHILDREN[args.child[0]](*args.child[1:])
        return
    n_files = 1_000 if args.quick else 10_000
    n_tracks = 2 if args.quick else 8
    repeats = 5 if args.quick else 15
    cores = os.cpu_count() or 1
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        _child("make-library", tmp, str(n_files))
        _, scan_peak, first = _child("scan", tmp, "0")
        _, rescan_peak, again = _child("scan", tmp, "0")
        size = "10,000" if n_files == 10_000 else f"{n_files:,}"
        note = f"{size} tagged files in 4 formats; borrowed {first.get('borrowed', 0):,}"
        rows.append(Row(BENCH, f"tag scan of {size} files: wall", first["wall"], "s",
                        "<= 10" if not args.quick else "", note))
        rows.append(Row(BENCH, "tag scan: peak memory", scan_peak, "MB", "", "whole process, pandas and the catalog included"))
        rows.append(Row(BENCH, f"re-scan of an unchanged {size}-file library: wall", again["wall"], "s",
                        "<= 5" if not args.quick else "", f"from cache: {again.get('from_cache', 0) + again.get('borrowed', 0):,} files read 0 tags"))
        rows.append(Row(BENCH, "re-scan: peak memory", rescan_peak, "MB"))

        tracks = Path(tmp) / "tracks"
        tracks.mkdir()
        _child("make-tracks", str(tracks), str(n_tracks))
        _, _, one = _child("analyse", str(tracks), str(Path(tmp) / "cache-one"), "0")
        per_core = n_tracks / one["wall"]
        rows.append(Row(BENCH, "analysis: 3-minute tracks per second per core", per_core, "tr/s", ">= 2",
                        f"{n_tracks} mp3 tracks, analyse() alone, 60 s from the middle of each"))
        _, pool_peak, pool = _child("analyse", str(tracks), str(Path(tmp) / "cache-pool"), str(cores))
        rows.append(Row(BENCH, f"analysis with {cores} worker processes: tracks per second", n_tracks / pool["wall"],
                        "tr/s", "", "includes starting the spawned workers (~1 s)"))

        song = tracks / "00 Track 0.mp3"
        for backend in ("mpv", "miniaudio"):
            _, _, latency = _child("latency", backend, str(song), str(repeats))
            if "error" in latency:
                rows.append(Row(BENCH, f"{backend}: not available", 0, "", "", latency["error"][:90]))
                continue
            # What is heard lags what went to the output by the device's buffer: miniaudio's is ours
            # (40 ms), mpv's is the audio driver's (typically 20-50 ms; no device here to measure).
            buffer_ms = 40.0 if backend == "miniaudio" else 0.0
            heard = "+ 40 ms device buffer" if buffer_ms else "+ the driver's buffer (not measurable here)"
            rows.append(Row(BENCH, f"{backend}: pause, key -> sound stops", latency["pause_ms"] + buffer_ms, "ms",
                            "< 100", f"median of {repeats}, null output {heard}"))
            rows.append(Row(BENCH, f"{backend}: seek, key -> new place heard", latency["seek_ms"] + buffer_ms, "ms",
                            "< 100", f"median of {repeats}, null output {heard}"))
        _, base_peak, _ = _child("play", "none", str(song), "0")
        for backend in ("mpv", "miniaudio"):
            _, peak, played = _child("play", backend, str(song), "1.5" if args.quick else "4")
            if "error" in played:
                continue
            rows.append(Row(BENCH, f"{backend}: peak memory of a process playing a file", peak, "MB", "",
                            f"python + numpy alone: {base_peak:.0f} MB"))
            rows.append(Row(BENCH, f"{backend}: the player's own share", peak - base_peak, "MB", "<= 100",
                            "of the console's 500 MB budget"))
        catalog, data = Path(tmp) / "catalog", Path(tmp) / "data"
        run_measured([sys.executable, "-m", "tui_dj", "prep", str(tracks), "--out", str(catalog),
                      "--data-dir", str(data)])
        for backend in ("mpv", "miniaudio"):
            _, peak, console = _child("console", backend, str(catalog), str(data), "5" if args.quick else "15")
            if "error" in console:
                continue
            rows.append(Row(BENCH, f"{backend}: the console playing a music folder, peak memory", peak, "MB", "< 500",
                            f"{n_tracks} files, keys every 0.5 s, 120x40, headless, null output"))
    emit(rows)


if __name__ == "__main__":
    main()
