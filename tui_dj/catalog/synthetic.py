"""The built-in catalog: a seeded generator of songs with realistic per-genre audio features.

Means and spreads per genre follow what the real catalogs show (TidyTuesday, the Kaggle tracks DB):
energy drives loudness up and acousticness down, rap is wordy, classical is quiet and instrumental.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tui_dj.catalog.model import FEATURES, Catalog

DEFAULT_SIZE = 3000
DEFAULT_SEED = 0

# genre: (share, energy, danceability, valence, acousticness, instrumentalness, speechiness,
#         liveness, tempo, popularity)
_GENRES: dict[str, tuple[float, ...]] = {
    "pop": (0.16, 0.70, 0.65, 0.52, 0.16, 0.03, 0.07, 0.17, 121, 55),
    "rock": (0.12, 0.74, 0.52, 0.54, 0.14, 0.08, 0.06, 0.20, 124, 45),
    "rap": (0.12, 0.65, 0.72, 0.50, 0.17, 0.03, 0.22, 0.19, 120, 50),
    "r&b": (0.09, 0.58, 0.67, 0.53, 0.26, 0.03, 0.11, 0.17, 114, 45),
    "edm": (0.10, 0.80, 0.66, 0.40, 0.08, 0.22, 0.09, 0.21, 126, 40),
    "latin": (0.09, 0.71, 0.71, 0.61, 0.21, 0.04, 0.10, 0.18, 118, 48),
    "indie": (0.07, 0.55, 0.56, 0.45, 0.33, 0.12, 0.05, 0.16, 118, 35),
    "jazz": (0.05, 0.40, 0.58, 0.52, 0.62, 0.28, 0.06, 0.16, 112, 30),
    "folk": (0.05, 0.38, 0.55, 0.45, 0.66, 0.06, 0.05, 0.15, 115, 32),
    "classical": (0.05, 0.16, 0.30, 0.22, 0.92, 0.78, 0.05, 0.15, 104, 25),
    "ambient": (0.04, 0.22, 0.32, 0.18, 0.80, 0.82, 0.05, 0.12, 98, 22),
    "metal": (0.04, 0.92, 0.43, 0.33, 0.01, 0.20, 0.09, 0.22, 128, 33),
    "comedy": (0.02, 0.65, 0.56, 0.40, 0.82, 0.00, 0.85, 0.74, 100, 18),
}

_TITLE_A = (
    "Midnight Golden Neon Velvet Broken Electric Silent Wild Paper Burning Lonely Crystal Endless "
    "Summer Winter Hollow Bright Falling Restless Distant Sweet Heavy Secret Tender Slow Static "
    "Northern Faded Little Lucky Crimson Ocean Quiet Honey Cosmic Analog Borrowed"
).split()
_TITLE_B = (
    "Heart Lights Dreams Highway River City Fire Rain Echo Shadows Tide Love Waves Skies Garden "
    "Mirror Signal Horizon Machine Ghost Letters Motel Satellite Bloom Stranger Radio Parade "
    "Thunder Window Season Kingdom Wires Orchard Canyon Lullaby Circuit Harbor"
).split()
_TITLE_SUFFIX = ("", "", "", "", " (Remix)", " (Live)", " - Acoustic", " Pt. II", " (feat. Mira)")
_ARTIST_FIRST = (
    "Luna Milo Nova Jax Ivy Otis Zara Felix Cleo Rio Sage Ezra Nina Theo Maya Remy Iris Kai Leo "
    "Ava Juno Orla Pablo Ines Tomas Yara Omar Lena Hugo Elsa"
).split()
_ARTIST_LAST = (
    "Vale Marlowe Reyes Okafor Lindqvist Hart Moreau Castillo Nakamura Brooks Fontaine Adeyemi "
    "Kowalski Sol Wilder Quinn Rossi Haddad Ferreira Blackwood"
).split()
_BANDS = (
    "The Paper Lanterns|Velvet Static|Northern Wires|Glass Animals Club|The Midnight Parade|"
    "Honey Circuit|Sons of the Orchard|Electric Harbor|The Quiet Kings|Crimson Tide Radio|"
    "Analog Ghosts|Little Satellites|Cosmic Motel|Broken Mirrors|The Falling Seasons"
).split("|")
_BASE62 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
_PITCHES = np.array(["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"])


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    mean = np.clip(mean, 0.01, 0.99)
    return np.clip(rng.beta(mean * concentration, (1 - mean) * concentration), 1e-5, 1.0)


def _artist_names(rng: np.random.Generator, wanted: int) -> list[str]:
    """Up to `wanted` distinct invented artist names: people, people with an initial, and bands."""
    letters = [""] + [f" {c}." for c in "ABCDEFGHJKLMNOPRSTVW"]
    people = [f"{f}{m} {la}" for f in _ARTIST_FIRST for m in letters for la in _ARTIST_LAST]
    bands = [f"The {a} {b}" for a in _TITLE_A for b in _TITLE_B] + list(_BANDS)
    space = people + bands
    # Most names are drawn without initials or bands first, so small catalogs read naturally.
    plain = [i for i, name in enumerate(space) if "." not in name]
    rest = [i for i, name in enumerate(space) if "." in name]
    order = list(rng.permutation(plain)) + list(rng.permutation(rest))
    return [space[i] for i in order[: min(wanted, len(space))]]


def _artists_by_genre(rng: np.random.Generator, genre_of: np.ndarray, n_genres: int, n_artists: int) -> np.ndarray:
    """An artist for every song: artists keep to one genre, and a few of them have many songs."""
    home = rng.integers(n_genres, size=n_artists)
    artist_of = np.empty(len(genre_of), dtype=np.int64)
    for genre in range(n_genres):
        songs = np.flatnonzero(genre_of == genre)
        if not len(songs):
            continue
        members = np.flatnonzero(home == genre)
        if not len(members):
            members = rng.integers(n_artists, size=1)
        # Zipf-like with a gentle slope: the busiest artist of a genre has a few percent of it.
        weight = 1.0 / np.sqrt(np.arange(1, len(members) + 1))
        artist_of[songs] = rng.choice(members, size=len(songs), p=weight / weight.sum())
    return artist_of


def generate_frame(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """`n` songs as a frame with metadata, the nine raw features, key, mode and time signature."""
    if n <= 0:
        raise ValueError("a catalog needs at least one song")
    rng = np.random.default_rng(seed)
    names = list(_GENRES)
    table = np.array([_GENRES[g] for g in names], dtype=np.float64)
    share = table[:, 0] / table[:, 0].sum()
    g = rng.choice(len(names), size=n, p=share)
    col = {k: table[g, i + 1] for i, k in enumerate(
        ["energy", "dance", "valence", "acoustic", "instr", "speech", "live", "tempo", "pop"])}

    # One shared "intensity" draw per song couples energy, loudness and (negatively) acousticness.
    intensity = rng.normal(0.0, 1.0, n)
    energy = np.clip(col["energy"] + 0.13 * intensity + rng.normal(0, 0.05, n), 0.02, 1.0)
    loudness = np.clip(-22.0 + 19.0 * energy + rng.normal(0, 1.8, n), -45.0, 0.0)
    acoustic = _beta(rng, col["acoustic"] - 0.18 * intensity * np.sqrt(col["acoustic"]), 6.0)
    dance = _beta(rng, col["dance"] + 0.04 * intensity, 14.0)
    valence = _beta(rng, col["valence"] + 0.10 * (dance - col["dance"]) + 0.05 * intensity, 5.0)
    instr_on = rng.random(n) < np.clip(col["instr"] * 1.4, 0.0, 0.95)
    instr = np.where(instr_on, _beta(rng, np.full(n, 0.75), 4.0), rng.exponential(0.004, n))
    speech = np.clip(0.025 + rng.gamma(2.0, col["speech"] / 2.4, n), 0.022, 0.96)
    live = np.clip(0.05 + rng.gamma(1.6, col["live"] / 1.6, n) * 0.85, 0.01, 1.0)
    live_mode = rng.random(n) < 0.06
    live = np.where(live_mode, rng.uniform(0.7, 0.98, n), live)
    tempo = np.clip(rng.normal(col["tempo"], 24.0, n), 55.0, 215.0)
    popularity = np.clip(np.round(rng.normal(col["pop"], 16.0, n)), 0, 100)
    duration = np.clip(rng.normal(215_000, 48_000, n) + 120_000 * (col["instr"] > 0.5), 60_000, 720_000)

    pool = _artist_names(rng, max(1, n // 8))
    n_artists = len(pool)
    artist_of = _artists_by_genre(rng, g, len(names), n_artists)
    a = rng.integers(len(_TITLE_A), size=n)
    b = rng.integers(len(_TITLE_B), size=n)
    s = rng.integers(len(_TITLE_SUFFIX), size=n)
    titles = [f"{_TITLE_A[i]} {_TITLE_B[j]}{_TITLE_SUFFIX[k]}" for i, j, k in zip(a, b, s, strict=True)]
    albums = [f"{_TITLE_B[j]} of {_TITLE_A[i]}" for i, j in zip((a + 3) % len(_TITLE_A), (b + 5) % len(_TITLE_B), strict=True)]
    ids = ["".join(row) for row in _BASE62[rng.integers(62, size=(n, 22))]]

    frame = pd.DataFrame(
        {
            "track_id": ids,
            "name": titles,
            "artist": [pool[i] for i in artist_of],
            "album": albums,
            "genres": np.array(names)[g],
            "popularity": popularity.astype(np.float32),
            "duration_ms": duration.astype(np.int64),
            "acousticness": acoustic,
            "danceability": dance,
            "energy": energy,
            "instrumentalness": np.clip(instr, 0.0, 1.0),
            "liveness": live,
            "loudness": loudness,
            "speechiness": speech,
            "tempo": tempo,
            "valence": valence,
            "key": rng.integers(12, size=n),
            "mode": (rng.random(n) < 0.62).astype(np.int64),
            "time_signature": rng.choice([3, 4, 5], size=n, p=[0.1, 0.86, 0.04]),
        }
    )
    for feature in FEATURES:
        frame[feature] = frame[feature].astype(np.float32)
    return frame


def builtin_catalog(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> Catalog:
    """The catalog that needs no download: deterministic for a given `n` and `seed`."""
    frame = generate_frame(n, seed)
    manifest = {
        "name": f"built-in ({n} songs, seed {seed})",
        "schema": "synthetic",
        "sources": [{"path": "built-in generator", "schema": "synthetic", "seed": seed, "rows": n}],
        "rows_read": n,
        "rows_kept": n,
        "dropped": {},
    }
    return Catalog.from_raw(frame, frame.loc[:, list(FEATURES)].to_numpy(np.float32), manifest)


def write_kaggle_csv(path: Path, n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> Path:
    """Write the generated songs as a Kaggle "Ultimate Spotify Tracks DB" CSV (for benchmarks)."""
    frame = generate_frame(n, seed)
    out = pd.DataFrame(
        {
            "genre": frame["genres"].str.capitalize(),
            "artist_name": frame["artist"],
            "track_name": frame["name"],
            "track_id": frame["track_id"],
            "popularity": frame["popularity"].astype(int),
            "acousticness": frame["acousticness"].round(4),
            "danceability": frame["danceability"].round(3),
            "duration_ms": frame["duration_ms"],
            "energy": frame["energy"].round(3),
            "instrumentalness": frame["instrumentalness"].round(6),
            "key": _PITCHES[frame["key"].to_numpy()],
            "liveness": frame["liveness"].round(4),
            "loudness": frame["loudness"].round(3),
            "mode": np.where(frame["mode"].to_numpy() == 1, "Major", "Minor"),
            "speechiness": frame["speechiness"].round(4),
            "tempo": frame["tempo"].round(3),
            "time_signature": [f"{t}/4" for t in frame["time_signature"]],
            "valence": frame["valence"].round(3),
        }
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)
    return path
