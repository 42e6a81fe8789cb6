"""The processed catalog: scaled float32 features, columnar metadata, the scaler and a manifest."""

from __future__ import annotations

import hashlib
import json
import shlex
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_dj.atomic import atomic_directory, recover_directory
from tui_dj.errors import TuiDjError
from tui_dj.paths import PROCESSED_DIR

if TYPE_CHECKING:  # pandas is imported where a catalog is read: the console's first screen needs none
    import pandas as pd

FEATURES: tuple[str, ...] = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "loudness",
    "speechiness",
    "tempo",
    "valence",
)
N_FEATURES = len(FEATURES)
# Spotify's own ranges; loudness is in dB and rarely below -60, tempo in BPM.
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    **{f: (0.0, 1.0) for f in FEATURES}, "loudness": (-60.0, 0.0), "tempo": (0.0, 300.0)}
META_COLUMNS: tuple[str, ...] = (
    "track_id",
    "name",
    "artist",
    "album",
    "genres",
    "popularity",
    "duration_ms",
)
# Kept beside the metadata when a source has them (pitch class, 1 major / 0 minor, beats per bar;
# -1 unknown): not learned from, but a console may show them.
EXTRA_COLUMNS: tuple[str, ...] = ("key", "mode", "time_signature")
# A music folder's songs also keep their file and where each of the nine features came from
# (one letter per feature in FEATURES order: b borrowed, m measured, e estimated).
FILE_COLUMNS: tuple[str, ...] = ("path", "sources")
SOURCE_WORDS = {"b": "borrowed", "m": "measured", "e": "estimated"}
GENRE_SEP = ", "
FORMAT_VERSION = 1
FEATURES_FILE = "features.npy"
TRACKS_FILE = "tracks.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class FeatureScaler:
    """Min-max scaling of the nine features to [0, 1], fitted on one catalog and saved with it."""

    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def fit(cls, raw: np.ndarray) -> FeatureScaler:
        low = np.nanmin(raw, axis=0).astype(np.float64)
        high = np.nanmax(raw, axis=0).astype(np.float64)
        # A feature every song shares (a small folder of instrumentals) keeps its place in the
        # feature's natural range: scaled to 0 it would read as "none at all" to the network and
        # on the taste bars.
        natural = np.array([FEATURE_RANGES[f] for f in FEATURES])
        flat = high <= low
        low[flat] = np.minimum(low[flat], natural[flat, 0])
        high[flat] = np.maximum(high[flat], natural[flat, 1])
        return cls(tuple(map(float, low)), tuple(map(float, high)))

    def _span(self) -> np.ndarray:
        span = np.asarray(self.high) - np.asarray(self.low)
        return np.where(span > 0, span, 1.0)

    def transform(self, raw: np.ndarray) -> np.ndarray:
        # In place on one float64 copy: a 232,725-song catalog would otherwise make four of them.
        scaled = np.array(raw, dtype=np.float64)
        scaled -= np.asarray(self.low)
        scaled /= self._span()
        return np.clip(scaled, 0.0, 1.0, out=scaled).astype(np.float32)

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return (np.asarray(scaled, dtype=np.float64) * self._span() + np.asarray(self.low)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "minmax", "features": list(FEATURES), "low": list(self.low), "high": list(self.high)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureScaler:
        if data.get("features") != list(FEATURES) or len(data["low"]) != N_FEATURES:
            raise ValueError("scaler does not describe the nine features")
        return cls(tuple(map(float, data["low"])), tuple(map(float, data["high"])))


@dataclass(frozen=True)
class Track:
    """One song as the session and the console show it: `row` is its place in the catalog;
    `features` holds raw (unscaled) values."""

    row: int
    track_id: str
    name: str
    artist: str
    album: str
    genres: tuple[str, ...]
    popularity: float
    duration_ms: int
    features: dict[str, float]
    path: str | None = None  # the audio file, for a song of a music folder
    sources: str = ""  # per feature, b borrowed / m measured / e estimated ("" for a Spotify CSV row)

    @property
    def genre(self) -> str:
        return self.genres[0] if self.genres else ""

    @property
    def index(self) -> int:
        """Deprecated since 0.3: `row`."""
        warnings.warn("Track.index is deprecated and goes in tui-dj 0.4; use Track.row.", DeprecationWarning,
                      stacklevel=2)
        return self.row


def fingerprint(track_ids: Sequence[str] | pd.Series, features: np.ndarray) -> str:
    digest = hashlib.sha256()
    # Iterating an Arrow-backed Series is slow (~1 µs a row); the object array gives the same strings.
    ids = track_ids.to_numpy(dtype=object) if hasattr(track_ids, "to_numpy") else track_ids
    digest.update("\n".join(map(str, ids)).encode("utf-8"))
    digest.update(np.ascontiguousarray(features, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


@dataclass
class Catalog:
    """Songs as rows: `features[i]` (scaled, float32) belongs to `tracks.iloc[i]`."""

    features: np.ndarray
    tracks: pd.DataFrame
    scaler: FeatureScaler
    manifest: dict[str, Any] = field(default_factory=dict)
    _search_text: pd.Series | None = field(default=None, repr=False)
    _named_text: pd.Series | None = field(default=None, repr=False)
    _columns: dict[str, Any] | None = field(default=None, repr=False)  # `tracks_at`'s column arrays

    def __post_init__(self) -> None:
        self.features = np.ascontiguousarray(self.features, dtype=np.float32)
        if self.features.ndim != 2 or self.features.shape[1] != N_FEATURES:
            raise ValueError(f"features must be (n, {N_FEATURES}), got {self.features.shape}")
        if len(self.tracks) != len(self.features):
            raise ValueError("tracks and features differ in length")
        if "fingerprint" not in self.manifest:  # not setdefault: that hashes every track id each load
            self.manifest["fingerprint"] = fingerprint(self.tracks["track_id"], self.features)

    @classmethod
    def from_raw(
        cls,
        tracks: pd.DataFrame,
        raw_features: np.ndarray,
        manifest: dict[str, Any] | None = None,
        scaler: FeatureScaler | None = None,
    ) -> Catalog:
        """Fit a scaler on `raw_features` (unless given one) and build the catalog."""
        raw = np.asarray(raw_features, dtype=np.float32)
        scaler = scaler or FeatureScaler.fit(raw)
        columns = list(META_COLUMNS) + [c for c in (*EXTRA_COLUMNS, *FILE_COLUMNS) if c in tracks.columns]
        tracks = tracks.loc[:, columns].reset_index(drop=True)
        manifest = dict(manifest or {})
        manifest["scaler"] = scaler.to_dict()
        return cls(scaler.transform(raw), tracks, scaler, manifest)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprint"])

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", "catalog"))

    def raw_features(self, rows: int | np.ndarray | slice | None = None) -> np.ndarray:
        scaled = self.features if rows is None else self.features[rows]
        return self.scaler.inverse(scaled)

    def track(self, row: int) -> Track:
        return self.tracks_at([row])[0]

    def tracks_at(self, rows: Sequence[int] | np.ndarray) -> list[Track]:
        """The songs at catalog rows `rows`, in that order."""
        rows = np.asarray(rows, np.int64).reshape(-1)
        raw = self.raw_features(rows)
        # Cell by cell from each column's array: a row through `iloc` builds a Series of every
        # column (four times slower), and a take over the Arrow-backed columns would copy whole
        # chunks for a few rows.
        if self._columns is None:  # a column's array, looked up once: `tracks[name]` is not free
            wanted = [c for c in (*META_COLUMNS, "path", "sources") if c in self.tracks.columns]
            self._columns = {name: self.tracks[name].array for name in wanted}
        column = self._columns
        path_at, sources_at = column.get("path"), column.get("sources")
        out = []
        for j, row in enumerate(rows.tolist()):
            genres = str(column["genres"][row] or "")
            path = path_at[row] if path_at is not None else None
            sources = sources_at[row] if sources_at is not None else None
            out.append(Track(
                row=row,
                track_id=str(column["track_id"][row]),
                name=str(column["name"][row]),
                artist=str(column["artist"][row]),
                album=str(column["album"][row] or ""),
                genres=tuple(g for g in genres.split(GENRE_SEP) if g),
                popularity=float(column["popularity"][row]),
                duration_ms=int(column["duration_ms"][row]),
                features={name: float(value) for name, value in zip(FEATURES, raw[j], strict=True)},
                path=str(path) if isinstance(path, str) and path else None,
                sources=sources if isinstance(sources, str) else "",
            ))
        return out

    def search(self, query: str, limit: int = 20) -> list[int]:
        """Rows whose title, artist or album contain every word of `query`: songs whose title and
        artist hold every word first (a search names a song or an artist more often than an
        album), then the ones found through their album; popular ones first within each."""
        words = query.lower().split()
        if not words:
            return []
        if self._search_text is None or self._named_text is None:
            t = self.tracks
            self._named_text = (t["name"].fillna("") + " " + t["artist"].fillna("")).str.lower()
            self._search_text = self._named_text + " " + t["album"].fillna("").str.lower()
        mask = np.ones(len(self), dtype=bool)
        for word in words:
            mask &= self._search_text.str.contains(word, regex=False).to_numpy()
        hits = np.flatnonzero(mask)
        named = np.ones(len(hits), dtype=bool)  # only the hits are looked at again: a few rows
        found = self._named_text.iloc[hits]
        for word in words:
            named &= found.str.contains(word, regex=False).to_numpy()
        popularity = self.tracks["popularity"].to_numpy()[hits]
        order = np.lexsort((-popularity, ~named))[:limit]  # the last key sorts first
        return [int(i) for i in hits[order]]

    def typical_of_genre(self, genre: str) -> int | None:
        """The song nearest the middle of the songs of `genre` (named whole, any case), or None."""
        wanted = genre.strip().lower()
        if not wanted:
            return None
        genres = self.tracks["genres"].fillna("").str.lower().str.split(GENRE_SEP)
        rows = np.flatnonzero(genres.map(lambda names: wanted in names).to_numpy())
        if len(rows) == 0:
            return None
        x = self.features[rows]
        return int(rows[np.argmin(((x - x.mean(axis=0)) ** 2).sum(1))])

    def index_of(self, track_id: str) -> int | None:
        """The row of the song with id `track_id`, or None."""
        hits = np.flatnonzero(self.tracks["track_id"].to_numpy() == track_id)
        return int(hits[0]) if len(hits) else None


def save_catalog(catalog: Catalog, out_dir: Path) -> None:
    """Write the catalog whole into `out_dir`, replacing what was there only once it is complete."""
    manifest = dict(catalog.manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest["n_tracks"] = len(catalog)
    manifest["features"] = list(FEATURES)
    manifest["scaler"] = catalog.scaler.to_dict()
    with atomic_directory(Path(out_dir)) as staging:
        np.save(staging / FEATURES_FILE, catalog.features)
        catalog.tracks.to_parquet(staging / TRACKS_FILE, index=False)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    catalog.manifest = manifest


def is_catalog_dir(path: Path) -> bool:
    recover_directory(Path(path))
    return (Path(path) / MANIFEST_FILE).is_file()


def chosen_catalog_dir(path: Path | None) -> Path | None:
    """The catalog a command uses: `--catalog DIR` when given, else `data/processed` when it
    holds one, else None, meaning the built-in catalog."""
    if path is not None:
        return Path(path)
    return PROCESSED_DIR if is_catalog_dir(PROCESSED_DIR) else None


def load_catalog(path: Path, columns: Sequence[str] | None = None) -> Catalog:
    """Load a catalog written by `save_catalog`, or say in one sentence why it is not one (and a
    command that makes one, which works when typed as it is).

    `columns`: read only these track columns (training needs the artist and popularity alone; at
    232,725 songs the titles, albums and genres it skips are ~130 MB). Such a catalog has its
    features, length, name and fingerprint, but cannot show a song."""
    path = Path(path)
    recover_directory(path)
    if not path.is_dir() or not (path / MANIFEST_FILE).is_file():
        raise TuiDjError(_not_a_catalog(path))
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
        scaler = FeatureScaler.from_dict(manifest["scaler"])
        features = np.load(path / FEATURES_FILE, allow_pickle=False)
        import pandas as pd
        import pyarrow as pa

        wanted = None if columns is None else [
            *columns, *(["track_id"] if "fingerprint" not in manifest and "track_id" not in columns else [])]
        tracks = pd.read_parquet(path / TRACKS_FILE, columns=wanted)
        # Arrow's pool keeps the decoding buffers (~40 MB for 232,725 songs) unless asked to let go.
        pa.default_memory_pool().release_unused()
        missing = [c for c in (META_COLUMNS if wanted is None else wanted) if c not in tracks.columns]
        if missing:
            raise ValueError(f"missing columns {missing}")
        return Catalog(features, tracks, scaler, manifest)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TuiDjError(f"The catalog at {path} is damaged ({exc}); `tui-dj prep --out {_arg(path)}` "
                         "replaces it with the built-in one (CSV files named before --out are imported "
                         "instead).") from None


def _arg(path: Path | str) -> str:
    """A path as it is typed in a shell command."""
    return shlex.quote(str(path))


_TABLE_SUFFIXES = (".csv", ".tsv")
_USES_PROCESSED = f"play, train and evaluate then use it from {PROCESSED_DIR} (leave out --catalog)"


def _not_a_catalog(path: Path) -> str:
    """Why `path` is not a catalog, and the `tui-dj prep` that makes one there or from it."""
    make_here = (f"`tui-dj prep --out {_arg(path)}` writes the built-in one there (CSV files named before "
                 "--out are imported instead)")
    if not path.exists():
        return f"No catalog at {path}; {make_here}, or leave out --catalog."
    if not path.is_dir():
        if path.suffix.lower() in _TABLE_SUFFIXES:
            return (f"{path} is a file, not a catalog folder; import it with `tui-dj prep {_arg(path)}`: "
                    f"{_USES_PROCESSED}.")
        return f"{path} is a file, not a catalog folder; --catalog takes a folder that `tui-dj prep` wrote."
    inside = [p for p in path.iterdir() if not p.name.startswith(("README", ".gitkeep"))]
    if not inside:
        return f"{path} is not a tui-dj catalog yet (it is empty); {make_here}."
    tables = sorted(p for p in inside if p.is_file() and p.suffix.lower() in _TABLE_SUFFIXES)
    if tables:
        files = " ".join(_arg(p) for p in tables) if len(tables) <= 3 else f"{_arg(path)}/*.csv"
        return (f"{path} is a folder of song tables, not a catalog (no {MANIFEST_FILE}); import them with "
                f"`tui-dj prep {files}`: {_USES_PROCESSED}.")
    if is_catalog_dir(PROCESSED_DIR) and PROCESSED_DIR.resolve() != path.resolve():
        return (f"{path} is not a tui-dj catalog (no {MANIFEST_FILE}); leave out --catalog to use the one "
                f"in {PROCESSED_DIR}.")
    return (f"{path} is not a tui-dj catalog (no {MANIFEST_FILE}); `tui-dj prep` writes the built-in one to "
            f"{PROCESSED_DIR} (CSV files named after prep are imported instead): {_USES_PROCESSED}.")
